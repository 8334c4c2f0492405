package mandates

import (
	"context"
	"fmt"
	"slices"
)

// JournalScope is which entries of a person's journal a reader may see:
// the rule that the journal's page, its print, its export and any API
// answer all ask for, and that stores apply in their journal query
// (journal.Query.Scope), so that a page of entries is a page of entries
// the reader may see.
//
// Its zero value is the whole journal: the person's own view, and that of
// a representative who may consult every procedure area. A scope limited
// to some areas shows the entries that name at least one of them; an
// entry that names no area is about the account as a whole (a login, a
// consent to a site), not about a procedure, and is not shown.
type JournalScope struct {
	limited bool
	areas   []Area
}

// JournalWithin is the scope of a reader limited to areas. An empty list
// shows nothing.
func JournalWithin(areas []Area) JournalScope {
	a := slices.Clone(areas)
	slices.Sort(a)
	return JournalScope{limited: true, areas: slices.Compact(a)}
}

// Whole says whether the reader sees every entry. Only such a reader gets
// the export: it holds the whole chain, or its proofs would not verify.
func (s JournalScope) Whole() bool { return !s.limited }

// Areas are the areas of a limited scope, sorted; nil for the whole
// journal.
func (s JournalScope) Areas() []Area {
	if !s.limited {
		return nil
	}
	return slices.Clone(s.areas)
}

// Shows says whether an entry naming areas is in the scope; stores that
// filter in SQL must agree with it (storagetest checks they do).
func (s JournalScope) Shows(areas []Area) bool {
	if !s.limited {
		return true
	}
	return slices.ContainsFunc(areas, func(a Area) bool { return slices.Contains(s.areas, a) })
}

// JournalScope says which entries of person's journal a may read: all of
// them when a is the person; for anyone else, the entries of the areas in
// which a representation lets them consult (the whole journal when that is
// every area). When a may read none of it, the answer is ErrNotFound,
// never ErrNotPermitted, so that nobody learns whose journal exists; when
// a second factor would let them, ErrSecondFactor (AreasAllowed).
func (s *Service) JournalScope(ctx context.Context, a Actor, personID string) (JournalScope, error) {
	if a.PersonID != "" && a.PersonID == personID {
		return JournalScope{}, nil
	}
	allowed, err := s.AreasAllowed(ctx, a, Question{PersonID: personID, Action: Consult})
	switch {
	case err != nil:
		return JournalScope{}, err
	case len(allowed) == 0:
		return JournalScope{}, fmt.Errorf("journal of %s for %s: %w", personID, a.PersonID, ErrNotFound)
	case len(allowed) == len(Areas):
		return JournalScope{}, nil
	}
	return JournalWithin(allowed), nil
}
