package journal_test

import (
	"crypto/sha256"
	"testing"

	"github.com/relais-fr/relais/mandates/journal"
)

func leaves(n int) []journal.Hash {
	out := make([]journal.Hash, n)
	for i := range out {
		out[i] = journal.LeafHash([]byte{byte(i)})
	}
	return out
}

// TestRootOfSmallTrees: roots written out by hand from RFC 9162 §2.1.1.
func TestRootOfSmallTrees(t *testing.T) {
	l := leaves(7)
	n := journal.NodeHash
	tests := []struct {
		name string
		size int
		want journal.Hash
	}{
		{"no leaf: the hash of nothing", 0, sha256.Sum256(nil)},
		{"one leaf: the leaf", 1, l[0]},
		{"two leaves: one node", 2, n(l[0], l[1])},
		{"three leaves: the third hangs on the right", 3, n(n(l[0], l[1]), l[2])},
		{"four leaves: balanced", 4, n(n(l[0], l[1]), n(l[2], l[3]))},
		{"five leaves: four on the left, one on the right", 5, n(n(n(l[0], l[1]), n(l[2], l[3])), l[4])},
		{"seven leaves", 7, n(n(n(l[0], l[1]), n(l[2], l[3])), n(n(l[4], l[5]), l[6]))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := journal.Root(l[:tt.size]); got != tt.want {
				t.Errorf("root = %s, want %s", got, tt.want)
			}
		})
	}
	// RFC 9162 §2.1.1: a leaf is hashed with a 0x00 prefix, a node with 0x01.
	if journal.LeafHash(nil) != sha256.Sum256([]byte{0}) {
		t.Error("leaf hash is not SHA-256(0x00 || leaf)")
	}
}

func TestInclusionProofsOfSmallTrees(t *testing.T) {
	l := leaves(7)
	n := journal.NodeHash
	// Paths written out by hand from RFC 9162 §2.1.3.1.
	hand := []struct {
		name  string
		size  int
		index int
		want  []journal.Hash
	}{
		{"leaf 0 of 3", 3, 0, []journal.Hash{l[1], l[2]}},
		{"leaf 2 of 3", 3, 2, []journal.Hash{n(l[0], l[1])}},
		{"leaf 4 of 7", 7, 4, []journal.Hash{l[5], l[6], n(n(l[0], l[1]), n(l[2], l[3]))}},
		{"leaf 6 of 7", 7, 6, []journal.Hash{n(l[4], l[5]), n(n(l[0], l[1]), n(l[2], l[3]))}},
		{"the only leaf", 1, 0, nil},
	}
	for _, tt := range hand {
		t.Run(tt.name, func(t *testing.T) {
			got := journal.InclusionProof(l[:tt.size], tt.index)
			if len(got) != len(tt.want) {
				t.Fatalf("path of %d hashes, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("path[%d] differs", i)
				}
			}
		})
	}
	big := leaves(17)
	for size := 1; size <= len(big); size++ {
		root := journal.Root(big[:size])
		for m := range size {
			path := journal.InclusionProof(big[:size], m)
			if err := journal.VerifyInclusion(int64(m), int64(size), big[m], path, root); err != nil {
				t.Fatalf("leaf %d of %d: %v", m, size, err)
			}
			if size > 1 && journal.VerifyInclusion(int64(m), int64(size), big[(m+1)%size], path, root) == nil {
				t.Fatalf("leaf %d of %d: another leaf verified with its path", m, size)
			}
			if len(path) > 0 {
				path[0][0] ^= 1
				if journal.VerifyInclusion(int64(m), int64(size), big[m], path, root) == nil {
					t.Fatalf("leaf %d of %d: an altered path verified", m, size)
				}
			}
		}
	}
	if journal.VerifyInclusion(3, 3, l[0], nil, l[0]) == nil {
		t.Error("an index outside the tree verified")
	}
}
