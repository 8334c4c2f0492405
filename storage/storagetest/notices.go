package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// NoticeStore is what RunNotices needs.
type NoticeStore interface {
	notices.Store
	mandates.PersonStore
}

// RunNotices runs the outbox's suite. newStore returns a fresh, empty,
// migrated store.
func RunNotices(t *testing.T, newStore func(t *testing.T) NoticeStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s NoticeStore)
	}{
		{"a notice is written and read back as written, and listed for its person newest first", testNoticeRoundTrip},
		{"an invalid notice, one not pending, a taken id or an unknown person is refused", testNoticeRefused},
		{"a notice written in a transaction that fails is not kept", testNoticeInTx},
		{"a claim takes due electronic notices of its channels whose lease is free or expired", testNoticeClaim},
		{"a claim with bad arguments is refused, and one without channels takes nothing", testNoticeClaimRefused},
		{"concurrent claims never take one notice twice", testNoticeClaimConcurrent},
		{"an outcome is recorded only by the dispatcher that still holds the lease", testNoticeRecordFenced},
		{"an outcome that changes what the notice is, or an illegal status, is refused", testNoticeRecordRefused},
		{"an electronic notice has at most one paper fallback", testNoticeOneFallback},
		{"the letters to print are the pending paper notices, oldest first, handed over all together", testNoticeToPrint},
		{"a hand-over with one wrong notice marks none", testNoticeHandOverRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

var noticeT0 = time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)

// newNotice is a pending notice about person, written at `at`.
func newNotice(person string, c notices.Channel, at time.Time) notices.Notice {
	return notices.Notice{ID: mandates.NewID(at), PersonID: person, RecipientID: person, RecipientKind: notices.ToPerson,
		Kind: mandates.EventSuspended, Channel: c, Lang: "fr",
		Data:   map[string]string{"representation_id": mandates.NewID(at), "recipient_role": "person"},
		Status: notices.Pending, NextAttemptAt: at, CreatedAt: at}
}

func noticePerson(t *testing.T, s NoticeStore) string {
	t.Helper()
	p := newPerson("")
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func mustNotice(t *testing.T, s NoticeStore, n notices.Notice) notices.Notice {
	t.Helper()
	if err := s.CreateNotice(t.Context(), n); err != nil {
		t.Fatalf("CreateNotice: %v", err)
	}
	n.Version = 1
	return n
}

func sameNotice(t *testing.T, got, want notices.Notice) {
	t.Helper()
	g, w := got, want
	g.Data, w.Data = nil, nil
	if fmt.Sprint(g) != fmt.Sprint(w) || !maps.Equal(got.Data, want.Data) {
		t.Errorf("notice read back differs:\n got  %+v\n want %+v", got, want)
	}
}

func testNoticeRoundTrip(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	first := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0))
	second := newNotice(person, notices.Email, noticeT0.Add(time.Minute))
	second.RecipientID, second.RecipientKind = mandates.NewID(noticeT0), notices.ToOrganisation
	second.Lang = "en"
	second = mustNotice(t, s, second)
	got, err := s.Notice(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameNotice(t, got, second)
	list, err := s.NoticesOf(ctx, person, 10)
	if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
		t.Fatalf("NoticesOf = %v, %v; want the email then the letter", list, err)
	}
	sameNotice(t, list[1], first)
	if list, _ := s.NoticesOf(ctx, person, 1); len(list) != 1 {
		t.Errorf("NoticesOf(limit 1) gave %d", len(list))
	}
	if list, _ := s.NoticesOf(ctx, mandates.NewID(noticeT0), 10); len(list) != 0 {
		t.Errorf("NoticesOf(someone else) = %v", list)
	}
	if _, err := s.Notice(ctx, mandates.NewID(noticeT0)); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Notice(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.Notice(ctx, "not-an-id"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Notice(malformed) = %v, want ErrNotFound", err)
	}
}

func testNoticeRefused(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	invalid := []struct {
		name   string
		change func(*notices.Notice)
		field  string
	}{
		{"a malformed id", func(n *notices.Notice) { n.ID = "42" }, "id"},
		{"an unknown kind", func(n *notices.Notice) { n.Kind = "representation.sold" }, "kind"},
		{"an unknown channel", func(n *notices.Notice) { n.Channel = "fax" }, "channel"},
		{"an unknown language", func(n *notices.Notice) { n.Lang = "de" }, "lang"},
		{"a free text in data", func(n *notices.Notice) { n.Data["reason"] = string(make([]byte, 300)) }, "data.reason"},
		{"an error text for a code", func(n *notices.Notice) { n.LastError = "dial tcp: connection refused" }, "last_error"},
		{"a fallback that is not on paper", func(n *notices.Notice) { n.FallbackOf = mandates.NewID(noticeT0) }, "fallback_of"},
		{"already sent", func(n *notices.Notice) { n.Status, n.SentAt = notices.Sent, noticeT0 }, "status"},
		{"with a lease", func(n *notices.Notice) { n.LeaseOwner, n.LeaseUntil = "a", noticeT0 }, "lease"},
	}
	for _, tc := range invalid {
		n := newNotice(person, notices.Email, noticeT0)
		tc.change(&n)
		var ie *mandates.InvalidError
		if err := s.CreateNotice(ctx, n); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%s: error = %v, want an InvalidError on %s", tc.name, err, tc.field)
		}
	}
	n := mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	again := newNotice(person, notices.SMS, noticeT0)
	again.ID = n.ID
	wantUnique(t, s.CreateNotice(ctx, again), "id")
	stranger := newNotice(mandates.NewID(noticeT0), notices.Paper, noticeT0)
	if err := s.CreateNotice(ctx, stranger); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a notice about an unknown person: %v, want ErrInvalid", err)
	}
	if list, _ := s.NoticesOf(ctx, person, 10); len(list) != 1 {
		t.Errorf("%d notices stored, want only the valid one", len(list))
	}
}

func testNoticeInTx(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	failed := errors.New("the act failed")
	kept, lost := newNotice(person, notices.Paper, noticeT0), newNotice(person, notices.Paper, noticeT0)
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateNotice(ctx, lost); err != nil {
			return err
		}
		if _, err := s.Notice(ctx, lost.ID); err != nil {
			return fmt.Errorf("the transaction does not read its own notice: %w", err)
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("InTx = %v, want the act's failure", err)
	}
	if err := s.InTx(ctx, func(ctx context.Context) error { return s.CreateNotice(ctx, kept) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Notice(ctx, lost.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the notice of a failed act was kept: %v", err)
	}
	if _, err := s.Notice(ctx, kept.ID); err != nil {
		t.Errorf("the notice of a committed act is missing: %v", err)
	}
}

func claimIDs(ns []notices.Notice) map[string]bool {
	out := map[string]bool{}
	for _, n := range ns {
		out[n.ID] = true
	}
	return out
}

func testNoticeClaim(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	now := noticeT0.Add(time.Hour)
	due := mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	dueSMS := mustNotice(t, s, newNotice(person, notices.SMS, noticeT0))
	later := newNotice(person, notices.Email, noticeT0)
	later.NextAttemptAt = now.Add(time.Minute)
	later = mustNotice(t, s, later)
	letter := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0))

	got, err := s.Claim(ctx, "a", []notices.Channel{notices.Email, notices.Paper}, now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := claimIDs(got)
	if len(got) != 1 || !ids[due.ID] {
		t.Fatalf("claimed %v, want only the due email (not the SMS, not the later one, never the letter %s)", ids, letter.ID)
	}
	c := got[0]
	if c.LeaseOwner != "a" || !c.LeaseUntil.Equal(now.Add(time.Minute)) || c.Version != due.Version+1 {
		t.Errorf("claimed lease %q until %v version %d", c.LeaseOwner, c.LeaseUntil, c.Version)
	}
	stored, _ := s.Notice(ctx, due.ID)
	if stored.LeaseOwner != "a" || stored.Version != c.Version {
		t.Errorf("stored lease %q version %d, want a, %d", stored.LeaseOwner, stored.Version, c.Version)
	}
	// Held: nobody else takes it until its lease ends.
	if got, _ := s.Claim(ctx, "b", []notices.Channel{notices.Email}, now.Add(30*time.Second), time.Minute, 10); len(got) != 0 {
		t.Errorf("a held notice was claimed again: %v", claimIDs(got))
	}
	got, err = s.Claim(ctx, "b", []notices.Channel{notices.Email, notices.SMS}, now.Add(time.Minute), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	ids = claimIDs(got)
	if len(got) != 3 || !ids[due.ID] || !ids[dueSMS.ID] || !ids[later.ID] {
		t.Errorf("after the lease ended, claimed %v; want the expired one, the SMS and the one now due", ids)
	}
	// Limit.
	for range 3 {
		mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	}
	if got, _ := s.Claim(ctx, "c", []notices.Channel{notices.Email}, now, time.Minute, 2); len(got) != 2 {
		t.Errorf("claim with limit 2 took %d", len(got))
	}
}

func testNoticeClaimRefused(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	for _, tc := range []struct {
		name  string
		owner string
		lease time.Duration
		limit int
	}{
		{"no owner", "", time.Minute, 1},
		{"no lease", "a", 0, 1},
		{"no limit", "a", time.Minute, 0},
	} {
		if _, err := s.Claim(ctx, tc.owner, []notices.Channel{notices.Email}, noticeT0, tc.lease, tc.limit); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	for _, chans := range [][]notices.Channel{nil, {notices.Paper}, {"fax"}} {
		if got, err := s.Claim(ctx, "a", chans, noticeT0, time.Minute, 10); err != nil || len(got) != 0 {
			t.Errorf("claim of %v = %d notices, %v; want none", chans, len(got), err)
		}
	}
}

func testNoticeClaimConcurrent(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	const total, owners = 60, 6
	for range total {
		mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	}
	var mu sync.Mutex
	taken := map[string]string{}
	var wg sync.WaitGroup
	for i := range owners {
		owner := fmt.Sprintf("dispatcher-%d", i)
		wg.Go(func() {
			for {
				got, err := s.Claim(ctx, owner, []notices.Channel{notices.Email}, noticeT0, time.Hour, 5)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, n := range got {
					if prev, ok := taken[n.ID]; ok {
						t.Errorf("notice %s claimed by %s and %s", n.ID, prev, owner)
					}
					taken[n.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != total {
		t.Errorf("%d notices claimed, want %d", len(taken), total)
	}
	for id, owner := range taken {
		n, err := s.Notice(ctx, id)
		if err != nil || n.LeaseOwner != owner {
			t.Errorf("notice %s stored with lease %q, claimed by %s (%v)", id, n.LeaseOwner, owner, err)
		}
	}
}

func testNoticeRecordFenced(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	chans := []notices.Channel{notices.Email}
	a, err := s.Claim(ctx, "a", chans, noticeT0, time.Minute, 1)
	if err != nil || len(a) != 1 {
		t.Fatalf("claim a: %v, %v", a, err)
	}
	// a's lease expires; b claims the notice.
	b, err := s.Claim(ctx, "b", chans, noticeT0.Add(time.Minute), time.Minute, 1)
	if err != nil || len(b) != 1 {
		t.Fatalf("claim b: %v, %v", b, err)
	}
	sent := func(at time.Time) func(*notices.Notice) error {
		return func(n *notices.Notice) error {
			n.Status, n.SentAt, n.Attempts = notices.Sent, at, n.Attempts+1
			return nil
		}
	}
	if _, err := s.Record(ctx, a[0], sent(noticeT0)); !errors.Is(err, notices.ErrLeaseLost) {
		t.Fatalf("a recorded after losing its lease: %v, want ErrLeaseLost", err)
	}
	after := noticeT0.Add(90 * time.Second)
	got, err := s.Record(ctx, b[0], sent(after))
	if err != nil {
		t.Fatalf("b, holding the lease: %v", err)
	}
	stored, _ := s.Notice(ctx, b[0].ID)
	sameNotice(t, stored, got)
	if stored.Status != notices.Sent || !stored.SentAt.Equal(after) || stored.Attempts != 1 || stored.LeaseOwner != "" ||
		!stored.LeaseUntil.IsZero() || stored.Version != b[0].Version+1 {
		t.Errorf("stored after b's record: %+v", stored)
	}
	if _, err := s.Record(ctx, b[0], sent(after)); !errors.Is(err, notices.ErrLeaseLost) {
		t.Errorf("a second record with the same claim: %v, want ErrLeaseLost", err)
	}
	if got, _ := s.Claim(ctx, "c", chans, after.Add(time.Hour), time.Minute, 1); len(got) != 0 {
		t.Errorf("a sent notice was claimed again")
	}
	// A temporary failure releases the lease and waits for its next attempt.
	mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	c, _ := s.Claim(ctx, "c", chans, noticeT0, time.Minute, 1)
	if len(c) != 1 {
		t.Fatal("nothing to claim")
	}
	next := noticeT0.Add(10 * time.Minute)
	if _, err := s.Record(ctx, c[0], func(n *notices.Notice) error {
		n.Attempts, n.LastError, n.NextAttemptAt = 1, notices.CodeTimeout, next
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Claim(ctx, "d", chans, next.Add(-time.Millisecond), time.Minute, 1); len(got) != 0 {
		t.Errorf("claimed before its next attempt")
	}
	got2, _ := s.Claim(ctx, "d", chans, next, time.Minute, 1)
	if len(got2) != 1 || got2[0].Attempts != 1 || got2[0].LastError != notices.CodeTimeout {
		t.Errorf("claimed at its next attempt: %+v", got2)
	}
}

func testNoticeRecordRefused(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	held, _ := s.Claim(ctx, "a", []notices.Channel{notices.Email}, noticeT0, time.Minute, 1)
	if len(held) != 1 {
		t.Fatal("nothing claimed")
	}
	var te *notices.TransitionError
	_, err := s.Record(ctx, held[0], func(n *notices.Notice) error { n.Status, n.HandedOverAt = notices.HandedOver, noticeT0; return nil })
	if !errors.As(err, &te) || !errors.Is(err, notices.ErrTransition) || te.To != notices.HandedOver {
		t.Errorf("an email handed over: %v, want a TransitionError", err)
	}
	var ie *mandates.InvalidError
	_, err = s.Record(ctx, held[0], func(n *notices.Notice) error { n.Channel = notices.SMS; return nil })
	if !errors.As(err, &ie) || ie.Rule != mandates.RuleReadOnly || ie.Field != "channel" {
		t.Errorf("a changed channel: %v, want read_only on channel", err)
	}
	_, err = s.Record(ctx, held[0], func(n *notices.Notice) error { n.LastError = "Connection refused"; return nil })
	if !errors.As(err, &ie) || ie.Field != "last_error" {
		t.Errorf("an error text for a code: %v, want an InvalidError on last_error", err)
	}
	stored, _ := s.Notice(ctx, held[0].ID)
	if stored.Version != held[0].Version || stored.LeaseOwner != "a" {
		t.Errorf("a refused record changed the notice: %+v", stored)
	}
	// Paper is never sent by a dispatcher.
	letter := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0))
	letter.LeaseOwner, letter.LeaseUntil = "a", noticeT0.Add(time.Minute)
	if _, err := s.Record(ctx, letter, func(n *notices.Notice) error { return nil }); !errors.Is(err, notices.ErrLeaseLost) {
		t.Errorf("a letter recorded by a dispatcher: %v, want ErrLeaseLost", err)
	}
}

func testNoticeOneFallback(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	email := mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	mustNotice(t, s, notices.Fallback(email, noticeT0))
	wantUnique(t, s.CreateNotice(ctx, notices.Fallback(email, noticeT0)), "fallback_of")
	if err := s.CreateNotice(ctx, notices.Fallback(newNotice(person, notices.Email, noticeT0), noticeT0)); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a fallback of a notice that does not exist: %v, want ErrInvalid", err)
	}
}

func testNoticeToPrint(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	second := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0.Add(time.Minute)))
	first := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0))
	mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	list, err := s.ToPrint(ctx, 10)
	if err != nil || len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Fatalf("ToPrint = %v, %v; want the two letters, oldest first", list, err)
	}
	if list, _ := s.ToPrint(ctx, 1); len(list) != 1 {
		t.Errorf("ToPrint(1) gave %d", len(list))
	}
	at := noticeT0.Add(time.Hour)
	if err := s.MarkHandedOver(ctx, []string{first.ID, second.ID, first.ID}, at); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{first.ID, second.ID} {
		n, _ := s.Notice(ctx, id)
		if n.Status != notices.HandedOver || !n.HandedOverAt.Equal(at) || n.Version != 2 {
			t.Errorf("letter %s after hand-over: %s at %v version %d", id, n.Status, n.HandedOverAt, n.Version)
		}
	}
	if list, _ := s.ToPrint(ctx, 10); len(list) != 0 {
		t.Errorf("letters handed over are still to print: %d", len(list))
	}
}

func testNoticeHandOverRefused(t *testing.T, s NoticeStore) {
	ctx := t.Context()
	person := noticePerson(t, s)
	letter := mustNotice(t, s, newNotice(person, notices.Paper, noticeT0))
	email := mustNotice(t, s, newNotice(person, notices.Email, noticeT0))
	if err := s.MarkHandedOver(ctx, []string{letter.ID, email.ID}, noticeT0); !errors.Is(err, notices.ErrTransition) {
		t.Errorf("an email handed over: %v, want ErrTransition", err)
	}
	if err := s.MarkHandedOver(ctx, []string{letter.ID, mandates.NewID(noticeT0)}, noticeT0); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("an unknown letter: %v, want ErrNotFound", err)
	}
	if n, _ := s.Notice(ctx, letter.ID); n.Status != notices.Pending || n.Version != 1 {
		t.Errorf("a refused hand-over marked the letter: %s version %d", n.Status, n.Version)
	}
	if err := s.MarkHandedOver(ctx, []string{letter.ID}, noticeT0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkHandedOver(ctx, []string{letter.ID}, noticeT0); !errors.Is(err, notices.ErrTransition) {
		t.Errorf("a letter handed over twice: %v, want ErrTransition", err)
	}
}
