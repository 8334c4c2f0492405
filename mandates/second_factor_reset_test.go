package mandates

import (
	"errors"
	"testing"
)

func TestSecondFactorResetAccess(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	w.st.twoFactor[w.jane] = true
	bare := w.person("Paul", "Sansfacteur")
	clerk := Actor{PersonID: w.person("Claire", "Guichet"), SecondFactor: true}
	op := Actor{PersonID: w.op.PersonID, SecondFactor: true}
	checked := IdentityCheck{Checked: true, Document: DocumentIDCard}

	if err := w.svc.SecondFactorResetAccess(w.ctx, op, w.jane, checked); err != nil {
		t.Fatalf("an operator with their second factor, an identity card seen: %v, want allowed", err)
	}
	for _, d := range IdentityDocuments {
		if err := w.svc.SecondFactorResetAccess(w.ctx, op, w.jane, IdentityCheck{Checked: true, Document: d}); err != nil {
			t.Errorf("document %s: %v, want allowed", d, err)
		}
	}
	tests := []struct {
		name   string
		a      Actor
		person string
		check  IdentityCheck
		want   error
		field  string
		rule   Rule
	}{
		{"someone who is not an operator is refused", clerk, w.jane, checked, ErrNotPermitted, "", ""},
		{"an operator logged in with a password alone is asked for their second factor", w.op, w.jane, checked, ErrSecondFactor, "", ""},
		{"an operator may not remove their own", op, op.PersonID, checked, ErrInvalid, "person", RuleSelf},
		{"the identity check must be ticked", op, w.jane, IdentityCheck{Document: DocumentPassport}, ErrInvalid, "identity_checked", RuleRequired},
		{"the document must be named", op, w.jane, IdentityCheck{Checked: true}, ErrInvalid, "document", RuleRequired},
		{"an unknown document is refused", op, w.jane, IdentityCheck{Checked: true, Document: "library_card"}, ErrInvalid, "document", RuleUnknown},
		{"an unknown person is not found", op, NewID(w.clock), checked, ErrNotFound, "", ""},
		{"a malformed id is not found", op, "../x", checked, ErrNotFound, "", ""},
		{"a person without a second factor has none to remove", op, bare, checked, ErrNoSecondFactor, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.svc.SecondFactorResetAccess(w.ctx, tt.a, tt.person, tt.check)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var inv *InvalidError
			if tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field || inv.Rule != tt.rule) {
				t.Errorf("err = %v, want field %s rule %s", err, tt.field, tt.rule)
			}
		})
	}
}
