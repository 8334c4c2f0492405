package journal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/bits"
	"slices"
	"strings"
)

// LeafBytes is a chain head as a leaf of the checkpoint tree (package
// comment).
func LeafBytes(h Head) []byte {
	var b bytes.Buffer
	b.WriteString("RJH1")
	putStr(&b, h.Chain)
	putU64(&b, uint64(h.Seq))
	b.Write(h.Hash[:])
	return b.Bytes()
}

// LeafHash is RFC 9162 §2.1.1's leaf hash: SHA-256(0x00 || leaf).
func LeafHash(leaf []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	return Hash(h.Sum(nil))
}

// NodeHash is RFC 9162 §2.1.1's inner node: SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var b [1 + 2*sha256.Size]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[1+sha256.Size:], right[:])
	return sha256.Sum256(b[:])
}

// split is k, the largest power of two smaller than n (n > 1).
func split(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

// Root is RFC 9162 §2.1.1's MTH over the leaf hashes; SHA-256 of nothing
// for no leaf.
func Root(leaves []Hash) Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return NodeHash(Root(leaves[:k]), Root(leaves[k:]))
}

// InclusionProof is RFC 9162 §2.1.3.1's PATH(m, D[n]): the audit path of
// leaf m.
func InclusionProof(leaves []Hash, m int) []Hash {
	n := len(leaves)
	if n <= 1 || m < 0 || m >= n {
		return nil
	}
	k := split(n)
	if m < k {
		return append(InclusionProof(leaves[:k], m), Root(leaves[k:]))
	}
	return append(InclusionProof(leaves[k:], m-k), Root(leaves[:k]))
}

// ErrProof: an inclusion proof does not lead to the root.
var ErrProof = errors.New("journal: the inclusion proof does not lead to the signed root")

// VerifyInclusion checks an audit path as RFC 9162 §2.1.3.2 says.
func VerifyInclusion(index, size int64, leaf Hash, path []Hash, root Hash) error {
	if index < 0 || index >= size {
		return ErrProof
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return ErrProof
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 || r != root {
		return ErrProof
	}
	return nil
}

// Tree is the set of chain heads a checkpoint signs, sorted by chain id.
type Tree struct {
	heads  []Head
	leaves []Hash
}

// NewTree sorts the heads by chain id (byte order) and hashes them.
func NewTree(heads []Head) *Tree {
	t := &Tree{heads: slices.Clone(heads)}
	slices.SortFunc(t.heads, func(a, b Head) int { return strings.Compare(a.Chain, b.Chain) })
	t.leaves = make([]Hash, len(t.heads))
	for i, h := range t.heads {
		t.leaves[i] = LeafHash(LeafBytes(h))
	}
	return t
}

// Size is the number of leaves.
func (t *Tree) Size() int64 { return int64(len(t.heads)) }

// Root is the tree's root hash.
func (t *Tree) Root() Hash { return Root(t.leaves) }

// Proof returns the index of chain's head and its audit path.
func (t *Tree) Proof(chain string) (Head, int64, []Hash, bool) {
	i, ok := slices.BinarySearchFunc(t.heads, chain, func(h Head, c string) int { return strings.Compare(h.Chain, c) })
	if !ok {
		return Head{}, 0, nil, false
	}
	return t.heads[i], int64(i), InclusionProof(t.leaves, i), true
}
