package authz_test

import (
	"testing"

	"github.com/relais-fr/relais/authz"
)

func TestStrongerACRKeepsTheHigherClass(t *testing.T) {
	cases := []struct {
		name, own, upstream, want string
	}{
		{"a password alone", "eidas1", "", "eidas1"},
		{"FranceConnect met eidas2 where Relais's password met eidas1", "eidas1", "eidas2", "eidas2"},
		{"a second factor at Relais after FranceConnect's eidas1", "eidas2", "eidas1", "eidas2"},
		{"an upstream's eidas3", "eidas2", "eidas3", "eidas3"},
		{"an upstream's unknown class is not carried", "eidas1", "loa-high", "eidas1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := authz.StrongerACR(c.own, c.upstream); got != c.want {
				t.Errorf("StrongerACR(%q, %q) = %q, want %q", c.own, c.upstream, got, c.want)
			}
		})
	}
}
