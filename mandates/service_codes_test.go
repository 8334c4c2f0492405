package mandates

import (
	"context"
	"testing"
)

// requestPhone is a CodeSender that is also a RequestCodeSender: it keeps
// the request each code was sent for.
type requestPhone struct {
	plain    int
	requests []Representation
	codes    []string
}

func (p *requestPhone) SendConsentCode(context.Context, Person, string) error {
	p.plain++
	return nil
}

func (p *requestPhone) SendRequestCode(_ context.Context, _ Person, r Representation, code string) error {
	p.requests, p.codes = append(p.requests, r), append(p.codes, code)
	return nil
}

// TestACodeSenderThatReadsTheRequestIsGivenIt: a RequestCodeSender gets
// the mandate the code answers, so its text can say who asks what; the
// code it sends is the one that gives the consent.
func TestACodeSenderThatReadsTheRequestIsGivenIt(t *testing.T) {
	phone := &requestPhone{}
	w := newAidantWorld(t, ServiceConfig{Codes: phone})
	r := w.start(w.jane, "social", "papiers")
	if err := w.svc.SendConsentCode(w.ctx, w.aidant, r.ID); err != nil {
		t.Fatal(err)
	}
	if phone.plain != 0 || len(phone.requests) != 1 {
		t.Fatalf("%d plain sends, %d with the request; want one with it", phone.plain, len(phone.requests))
	}
	if got := phone.requests[0]; got.ID != r.ID || got.Representative.OrganisationID != w.desk || len(got.Areas) != 2 {
		t.Errorf("the request given is %+v, want the mandate asked by the desk", got)
	}
	if got, err := w.svc.CheckConsentCode(w.ctx, w.aidant, r.ID, phone.codes[0]); err != nil || got.Status != StatusActive {
		t.Errorf("the code sent gives %s, %v; want the mandate in force", got.Status, err)
	}
}
