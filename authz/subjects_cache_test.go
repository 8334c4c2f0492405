package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// memSubjects is a subject store in memory that counts its reads.
type memSubjects struct {
	m     map[string]string // sector NUL sub -> person
	reads int
}

func (s *memSubjects) SaveSubject(_ context.Context, sector, sub, personID string) error {
	s.m[sector+"\x00"+sub] = personID
	return nil
}

func (s *memSubjects) SubjectPerson(_ context.Context, sector, sub string) (string, error) {
	s.reads++
	if id, ok := s.m[sector+"\x00"+sub]; ok {
		return id, nil
	}
	return "", mandates.ErrNotFound
}

func (s *memSubjects) SubjectPersons(_ context.Context, sector, a, b string) (map[string]string, error) {
	s.reads++
	out := map[string]string{}
	for _, sub := range []string{a, b} {
		if id, ok := s.m[sector+"\x00"+sub]; ok {
			out[sub] = id
		}
	}
	return out, nil
}

// The subjects of an evaluation are read once, then remembered; a subject
// not found is not remembered, so it is found once it is given.
func TestEvaluationSubjectsAreReadOnce(t *testing.T) {
	ctx := t.Context()
	st := &memSubjects{m: map[string]string{}}
	p := &Provider{subjects: st}
	c := oauth.Client{ID: "caf", RedirectURIs: []string{"https://caf.example/cb"}}
	_ = st.SaveSubject(ctx, sector(c), "sub-marie", "marie")
	if _, _, err := p.PersonsOf(ctx, c, "sub-marie", "sub-jeanne"); !errors.Is(err, mandates.ErrNotFound) {
		t.Fatalf("a subject never given: %v, want ErrNotFound", err)
	}
	_ = st.SaveSubject(ctx, sector(c), "sub-jeanne", "jeanne")
	for range 3 {
		a, b, err := p.PersonsOf(ctx, c, "sub-marie", "sub-jeanne")
		if err != nil || a != "marie" || b != "jeanne" {
			t.Fatalf("PersonsOf: %q, %q, %v", a, b, err)
		}
	}
	if st.reads != 2 {
		t.Errorf("%d reads of the store, want 2: the first, refused, and the one after the subject was given", st.reads)
	}
	other := oauth.Client{ID: "impots", RedirectURIs: []string{"https://impots.example/cb"}}
	if _, _, err := p.PersonsOf(ctx, other, "sub-marie", "sub-jeanne"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the same subs at another sector: %v, want ErrNotFound", err)
	}
}
