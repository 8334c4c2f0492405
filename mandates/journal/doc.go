// Package journal owns the journal's rules (DESIGN.md §5): how each domain
// event becomes an entry of a per-person hash chain, how checkpoints sign a
// Merkle tree over every chain head, how a journal or one person's export
// is verified, and how an entry's detail is erased without breaking the
// proofs. It holds no SQL: it declares the Store it needs, which
// storage/sqlite and storage/postgres implement, and it signs through the
// small Signer interface that keyring implements. Like mandates, it imports
// only the standard library (and mandates).
//
// # Chains
//
// An event belongs to the chain of the person whose journal it is: its
// chain id is the person's id. Events without a person go to a chain named
// by a prefix no person id can have: "org:<organisation id>" for an
// organisation's changes, "admin" for the rest (clients, keys). Entries of
// a chain are numbered 1, 2, 3… with no gap; each holds the hash of the
// one before (32 zero bytes for entry 1).
//
// # Canonical encoding, version 1
//
// An entry's hash is SHA-256 over these bytes, in this order, where
// str(s) is the 4-byte big-endian length of s followed by its UTF-8 bytes,
// u64 and i64 are 8 bytes big-endian, and u32 is 4 bytes big-endian:
//
//	"RJE1"                         the format and its version, 4 bytes
//	str(chain)
//	u64(seq)
//	str(type)
//	i64(at)                        Unix time in milliseconds, UTC
//	str(actor_id) str(organisation_id) str(person_id)
//	str(representation_id) str(client_id)
//	u32(number of areas) str(area)…   in the order stored
//	detail_hash                    32 bytes
//	prev_hash                      32 bytes
//
// Every field has a fixed place and a length, so no two entries encode to
// the same bytes. The detail is not in the chain: only its hash is, over
//
//	"RJD1" str(salt) u32(number of keys) (str(key) str(value))…
//
// with keys in byte order and salt 16 random bytes stored with the detail
// and erased with it, so that an erased detail cannot be found again by
// hashing guesses.
//
// # Checkpoints
//
// A checkpoint is a Merkle tree in the manner of RFC 9162 §2.1 over every
// chain head, sorted by chain id (byte order). A leaf is
//
//	"RJH1" str(chain) u64(seq) hash
//
// its leaf hash SHA-256(0x00 || leaf) and an inner node SHA-256(0x01 ||
// left || right); the tree of no leaf has root SHA-256(""). The signed
// payload is a JSON object (see Payload) holding the checkpoint's number,
// time, tree size, root, and the SHA-256 of the previous checkpoint's
// payload, so that checkpoints themselves form a chain. It is signed as a
// JWS (RFC 7515, compact, ES256) whose header names the journal key (kid)
// and the type "relais-journal-checkpoint". A store keeps, for each
// checkpoint, the heads that changed since the previous one; replaying
// them gives each checkpoint's tree. Checkpoints are numbered 1, 2, 3…
// without gap; the journal keys' history (keyring) names some of them as
// Anchors, so checkpoints deleted and signed again from 1 are found.
//
// An export is verified only with a checkpoint that covers its chain:
// links alone prove nothing, since whoever holds the database can
// compute them again.
//
// docs/journal.md says the same for readers without Go, and how to check
// an export by hand.
package journal
