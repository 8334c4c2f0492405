package journal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relais-fr/relais/mandates"
)

// Signature types of C2SP signed-note (c2sp.org/signed-note, "Signature
// types") that the journal uses.
const (
	// SigECDSA: the journal key (ECDSA P-256) signs the note text; its key
	// ID is the first four bytes of SHA-256 over the key's DER SPKI, as
	// the signed-note registry says of type 0x02.
	SigECDSA byte = 0x02
	// SigCosignature: a witness's timestamped Ed25519 cosignature
	// (c2sp.org/tlog-cosignature, cosignature/v1).
	SigCosignature byte = 0x04
)

// maxNoteSignatures bounds the signature lines read from one note
// (signed-note: verifiers must accept at least 16).
const maxNoteSignatures = 64

// NoteSignature is one signature line of a signed note: the key's name,
// its 32-bit ID and the signature bytes that follow the ID.
type NoteSignature struct {
	Name  string
	KeyID uint32
	Sig   []byte
}

// Line is the signature line, newline included: em dash, space, name,
// space, base64(key ID || signature).
func (s NoteSignature) Line() string {
	b := make([]byte, 4, 4+len(s.Sig))
	binary.BigEndian.PutUint32(b, s.KeyID)
	return "— " + s.Name + " " + base64.StdEncoding.EncodeToString(append(b, s.Sig...)) + "\n"
}

// Note is a signed note: its text (ending in a newline) and its
// signatures.
type Note struct {
	Text string
	Sigs []NoteSignature
}

// String is the note as C2SP signed-note writes it.
func (n Note) String() string {
	var b strings.Builder
	b.WriteString(n.Text)
	b.WriteString("\n")
	for _, s := range n.Sigs {
		b.WriteString(s.Line())
	}
	return b.String()
}

// ParseNote reads a signed note. The text is separated from the
// signatures by the last empty line.
func ParseNote(b []byte) (Note, error) {
	bad := func(format string, args ...any) (Note, error) {
		return Note{}, fmt.Errorf("signed note: %s: %w", fmt.Sprintf(format, args...), &mandates.InvalidError{Field: "note", Rule: mandates.RuleFormat})
	}
	s := string(b)
	if !utf8.ValidString(s) {
		return bad("not UTF-8")
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' {
			return bad("control character")
		}
	}
	i := strings.LastIndex(s, "\n\n")
	if i < 0 {
		return bad("no empty line before the signatures")
	}
	n := Note{Text: s[:i+1]}
	sigs := s[i+2:]
	if sigs == "" || !strings.HasSuffix(sigs, "\n") {
		return bad("no signature line")
	}
	lines := strings.Split(strings.TrimSuffix(sigs, "\n"), "\n")
	if len(lines) > maxNoteSignatures {
		return bad("more than %d signatures", maxNoteSignatures)
	}
	for _, l := range lines {
		sig, err := parseSignatureLine(l)
		if err != nil {
			return Note{}, err
		}
		n.Sigs = append(n.Sigs, sig)
	}
	return n, nil
}

// ParseSignatureLines reads signature lines alone, as a witness answers
// (c2sp.org/tlog-witness, add-checkpoint).
func ParseSignatureLines(b []byte) ([]NoteSignature, error) {
	s := string(b)
	if s == "" || !strings.HasSuffix(s, "\n") || !utf8.ValidString(s) {
		return nil, fmt.Errorf("signature lines must end with a newline: %w", &mandates.InvalidError{Field: "signature", Rule: mandates.RuleFormat})
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) > maxNoteSignatures {
		return nil, &mandates.InvalidError{Field: "signature", Rule: mandates.RuleTooMany, Limit: maxNoteSignatures}
	}
	out := make([]NoteSignature, 0, len(lines))
	for _, l := range lines {
		sig, err := parseSignatureLine(l)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

func parseSignatureLine(l string) (NoteSignature, error) {
	rest, ok := strings.CutPrefix(l, "— ")
	name, b64, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 || !validKeyName(name) {
		return NoteSignature{}, fmt.Errorf("signed note: malformed signature line: %w", &mandates.InvalidError{Field: "signature", Rule: mandates.RuleFormat})
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) < 5 {
		return NoteSignature{}, fmt.Errorf("signed note: signature of %s is not base64 of a key ID and a signature: %w", name, &mandates.InvalidError{Field: "signature", Rule: mandates.RuleFormat})
	}
	return NoteSignature{Name: name, KeyID: binary.BigEndian.Uint32(raw), Sig: raw[4:]}, nil
}

// validKeyName: non-empty, no Unicode space, no plus (signed-note,
// "Format").
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.ContainsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '+' || r < 0x20
	})
}

// NoteVerifier is a public key that checks one kind of note signature,
// named and identified as signed-note says.
type NoteVerifier struct {
	Name  string
	KeyID uint32
	Type  byte
	key   []byte // the public key as the vkey encodes it after the type byte
	ec    *ecdsa.PublicKey
	ed    ed25519.PublicKey
}

// keyIDOf is signed-note's recommended key ID: SHA-256(name || 0x0A ||
// type || public key)[:4].
func keyIDOf(name string, typ byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{typ})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// ECDSANoteKey is the verifier key of the journal key pub under name
// (the checkpoint origin).
func ECDSANoteKey(name string, pub *ecdsa.PublicKey) (NoteVerifier, error) {
	if !validKeyName(name) {
		return NoteVerifier{}, fmt.Errorf("key name %q: %w", name, &mandates.InvalidError{Field: "key_name", Rule: mandates.RuleFormat})
	}
	if pub == nil || pub.Curve != elliptic.P256() {
		return NoteVerifier{}, fmt.Errorf("the journal key is not a P-256 key: %w", &mandates.InvalidError{Field: "key", Rule: mandates.RuleFormat})
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return NoteVerifier{}, err
	}
	sum := sha256.Sum256(der)
	return NoteVerifier{Name: name, KeyID: binary.BigEndian.Uint32(sum[:]), Type: SigECDSA, key: der, ec: pub}, nil
}

// CosignerKey is the verifier key of a witness's Ed25519 key for
// cosignature/v1 (c2sp.org/tlog-cosignature, "Format").
func CosignerKey(name string, pub ed25519.PublicKey) (NoteVerifier, error) {
	if !validKeyName(name) {
		return NoteVerifier{}, fmt.Errorf("key name %q: no spaces or plus signs: %w", name, &mandates.InvalidError{Field: "key_name", Rule: mandates.RuleFormat})
	}
	if len(pub) != ed25519.PublicKeySize {
		return NoteVerifier{}, fmt.Errorf("not an Ed25519 public key: %w", &mandates.InvalidError{Field: "key", Rule: mandates.RuleFormat})
	}
	return NoteVerifier{Name: name, KeyID: keyIDOf(name, SigCosignature, pub), Type: SigCosignature, key: pub, ed: pub}, nil
}

// String is the verifier key ("vkey"): name+hex key ID+base64(type ||
// public key).
func (v NoteVerifier) String() string {
	return fmt.Sprintf("%s+%08x+%s", v.Name, v.KeyID, base64.StdEncoding.EncodeToString(append([]byte{v.Type}, v.key...)))
}

// ParseNoteKey reads a verifier key of type SigECDSA or SigCosignature and
// checks that its key ID is the one its name and key give.
func ParseNoteKey(vkey string) (NoteVerifier, error) {
	bad := fmt.Errorf("%q is not a verifier key (name+keyid+base64): %w", vkey, &mandates.InvalidError{Field: "vkey", Rule: mandates.RuleFormat})
	name, rest, ok := strings.Cut(vkey, "+")
	id, b64, ok2 := strings.Cut(rest, "+")
	if !ok || !ok2 || len(id) != 8 {
		return NoteVerifier{}, bad
	}
	idb, err := hex.DecodeString(id)
	if err != nil {
		return NoteVerifier{}, bad
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) < 2 {
		return NoteVerifier{}, bad
	}
	var v NoteVerifier
	switch raw[0] {
	case SigCosignature:
		v, err = CosignerKey(name, ed25519.PublicKey(raw[1:]))
	case SigECDSA:
		pub, perr := x509.ParsePKIXPublicKey(raw[1:])
		ec, isEC := pub.(*ecdsa.PublicKey)
		if perr != nil || !isEC {
			return NoteVerifier{}, bad
		}
		v, err = ECDSANoteKey(name, ec)
	default:
		return NoteVerifier{}, fmt.Errorf("verifier key %s: signature type 0x%02x: %w", name, raw[0], &mandates.InvalidError{Field: "vkey", Rule: mandates.RuleUnknown})
	}
	if err != nil {
		return NoteVerifier{}, err
	}
	if v.KeyID != binary.BigEndian.Uint32(idb) {
		return NoteVerifier{}, fmt.Errorf("verifier key %s: its key ID does not match its key: %w", name, &mandates.InvalidError{Field: "vkey", Rule: mandates.RuleFormat})
	}
	return v, nil
}

// Matches says whether a signature line claims to be from this key.
func (v NoteVerifier) Matches(s NoteSignature) bool { return s.Name == v.Name && s.KeyID == v.KeyID }

// Verify checks s over text. For a cosignature it returns its time.
func (v NoteVerifier) Verify(text string, s NoteSignature) (time.Time, bool) {
	if !v.Matches(s) {
		return time.Time{}, false
	}
	switch v.Type {
	case SigECDSA:
		sum := sha256.Sum256([]byte(text))
		return time.Time{}, ecdsa.VerifyASN1(v.ec, sum[:], s.Sig)
	case SigCosignature:
		if len(s.Sig) != 8+ed25519.SignatureSize {
			return time.Time{}, false
		}
		ts := binary.BigEndian.Uint64(s.Sig)
		if ts > 1<<63-1 {
			return time.Time{}, false
		}
		if !ed25519.Verify(v.ed, cosignedMessage(text, ts), s.Sig[8:]) {
			return time.Time{}, false
		}
		return time.Unix(int64(ts), 0).UTC(), true
	}
	return time.Time{}, false
}

// cosignedMessage is what a cosignature/v1 signs: the header line, the
// time line, then the note text (c2sp.org/tlog-cosignature, "Ed25519
// signed message").
func cosignedMessage(text string, ts uint64) []byte {
	var b bytes.Buffer
	b.WriteString("cosignature/v1\ntime ")
	b.WriteString(strconv.FormatUint(ts, 10))
	b.WriteString("\n")
	b.WriteString(text)
	return b.Bytes()
}

// Cosign is a cosignature/v1 of text by key under name, at the second
// of at.
func Cosign(name string, key ed25519.PrivateKey, text string, at time.Time) (NoteSignature, error) {
	v, err := CosignerKey(name, key.Public().(ed25519.PublicKey))
	if err != nil {
		return NoteSignature{}, err
	}
	if at.Unix() < 0 {
		return NoteSignature{}, errors.New("cosign: time before 1970")
	}
	ts := uint64(at.Unix())
	sig := make([]byte, 8, 8+ed25519.SignatureSize)
	binary.BigEndian.PutUint64(sig, ts)
	sig = append(sig, ed25519.Sign(key, cosignedMessage(text, ts))...)
	return NoteSignature{Name: v.Name, KeyID: v.KeyID, Sig: sig}, nil
}
