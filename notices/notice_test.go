package notices_test

import (
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

var t0 = time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)

func pending(c notices.Channel) notices.Notice {
	person := mandates.NewID(t0)
	return notices.Notice{ID: mandates.NewID(t0), PersonID: person, RecipientID: person, RecipientKind: notices.ToPerson,
		Kind: mandates.EventSuspended, Channel: c, Lang: "fr", Data: map[string]string{"recipient_role": "person"},
		Status: notices.Pending, NextAttemptAt: t0, CreatedAt: t0, Version: 1}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		name    string
		channel notices.Channel
		from    notices.Status
		to      notices.Status
		ok      bool
	}{
		{"a pending email is sent", notices.Email, notices.Pending, notices.Sent, true},
		{"a pending SMS fails", notices.SMS, notices.Pending, notices.Failed, true},
		{"a pending email stays pending after a temporary failure", notices.Email, notices.Pending, notices.Pending, true},
		{"a pending letter is handed over", notices.Paper, notices.Pending, notices.HandedOver, true},
		{"a letter is never sent by a dispatcher", notices.Paper, notices.Pending, notices.Sent, false},
		{"a letter never fails", notices.Paper, notices.Pending, notices.Failed, false},
		{"an email is never handed over", notices.Email, notices.Pending, notices.HandedOver, false},
		{"a sent email is not sent again", notices.Email, notices.Sent, notices.Sent, false},
		{"a sent email does not fail afterwards", notices.Email, notices.Sent, notices.Failed, false},
		{"a failed email does not come back", notices.Email, notices.Failed, notices.Pending, false},
		{"a letter handed over is not handed over twice", notices.Paper, notices.HandedOver, notices.HandedOver, false},
		{"no status is unknown", notices.Email, notices.Pending, "lost", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := pending(tt.channel)
			n.Status = tt.from
			err := n.Can(tt.to)
			if tt.ok && err != nil {
				t.Fatalf("Can(%s) = %v", tt.to, err)
			}
			if !tt.ok {
				var te *notices.TransitionError
				if !errors.As(err, &te) || !errors.Is(err, notices.ErrTransition) || te.From != tt.from || te.To != tt.to || te.Channel != tt.channel {
					t.Fatalf("Can(%s) = %v, want a TransitionError from %s", tt.to, err, tt.from)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		channel notices.Channel
		change  func(*notices.Notice)
		field   string // "" when valid
	}{
		{"a pending email is valid", notices.Email, func(*notices.Notice) {}, ""},
		{"a letter that replaces an email is valid", notices.Paper, func(n *notices.Notice) { n.FallbackOf = mandates.NewID(t0) }, ""},
		{"a notice to an organisation is valid", notices.Paper, func(n *notices.Notice) {
			n.RecipientID, n.RecipientKind = mandates.NewID(t0), notices.ToOrganisation
		}, ""},
		{"a held email is valid", notices.Email, func(n *notices.Notice) { n.LeaseOwner, n.LeaseUntil = "relais-1", t0 }, ""},
		{"a malformed id", notices.Email, func(n *notices.Notice) { n.ID = "1" }, "id"},
		{"no person", notices.Email, func(n *notices.Notice) { n.PersonID = "" }, "person"},
		{"no recipient", notices.Email, func(n *notices.Notice) { n.RecipientID = "" }, "recipient"},
		{"an unknown kind of recipient", notices.Email, func(n *notices.Notice) { n.RecipientKind = "pet" }, "recipient_kind"},
		{"the person as an organisation", notices.Email, func(n *notices.Notice) { n.RecipientKind = notices.ToOrganisation }, "recipient_kind"},
		{"an event Relais does not know", notices.Email, func(n *notices.Notice) { n.Kind = "x.y" }, "kind"},
		{"an unknown channel", notices.Email, func(n *notices.Notice) { n.Channel = "pigeon" }, "channel"},
		{"an unknown language", notices.Email, func(n *notices.Notice) { n.Lang = "" }, "lang"},
		{"an unknown status", notices.Email, func(n *notices.Notice) { n.Status = "lost" }, "status"},
		{"negative attempts", notices.Email, func(n *notices.Notice) { n.Attempts = -1 }, "attempts"},
		{"attempts on a letter", notices.Paper, func(n *notices.Notice) { n.Attempts = 1 }, "attempts"},
		{"no next attempt", notices.Email, func(n *notices.Notice) { n.NextAttemptAt = time.Time{} }, "next_attempt_at"},
		{"no creation time", notices.Email, func(n *notices.Notice) { n.CreatedAt = time.Time{} }, "created_at"},
		{"too many data entries", notices.Email, func(n *notices.Notice) {
			for i := range notices.MaxDataKeys + 1 {
				n.Data[string(rune('a'+i%26))+string(rune('a'+i/26))] = "x"
			}
		}, "data"},
		{"a data key with capitals", notices.Email, func(n *notices.Notice) { n.Data["Reason"] = "x" }, "data"},
		{"a long data value", notices.Email, func(n *notices.Notice) { n.Data["reason"] = string(make([]byte, 201)) }, "data.reason"},
		{"a data value that is not UTF-8", notices.Email, func(n *notices.Notice) { n.Data["code"] = "\xff" }, "data.code"},
		{"a lease without an end", notices.Email, func(n *notices.Notice) { n.LeaseOwner = "relais-1" }, "lease"},
		{"a lease end without an owner", notices.Email, func(n *notices.Notice) { n.LeaseUntil = t0 }, "lease"},
		{"a held letter", notices.Paper, func(n *notices.Notice) { n.LeaseOwner, n.LeaseUntil = "relais-1", t0 }, "lease"},
		{"an error's text for a code", notices.Email, func(n *notices.Notice) { n.LastError = "550 mailbox unavailable" }, "last_error"},
		{"sent without a time", notices.Email, func(n *notices.Notice) { n.Status = notices.Sent }, "sent_at"},
		{"a time sent while pending", notices.Email, func(n *notices.Notice) { n.SentAt = t0 }, "sent_at"},
		{"handed over without a time", notices.Paper, func(n *notices.Notice) { n.Status = notices.HandedOver }, "handed_over_at"},
		{"a sent letter", notices.Paper, func(n *notices.Notice) { n.Status, n.SentAt = notices.Sent, t0 }, "status"},
		{"an email handed over", notices.Email, func(n *notices.Notice) { n.Status, n.HandedOverAt = notices.HandedOver, t0 }, "status"},
		{"a malformed fallback", notices.Paper, func(n *notices.Notice) { n.FallbackOf = "x" }, "fallback_of"},
		{"an email as a fallback", notices.Email, func(n *notices.Notice) { n.FallbackOf = mandates.NewID(t0) }, "fallback_of"},
		{"a letter that replaces itself", notices.Paper, func(n *notices.Notice) { n.FallbackOf = n.ID }, "fallback_of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := pending(tt.channel)
			tt.change(&n)
			err := n.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var ie *mandates.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, mandates.ErrInvalid) || ie.Field != tt.field {
				t.Fatalf("Validate = %v, want an InvalidError on %s", err, tt.field)
			}
		})
	}
}

func TestApplyRecord(t *testing.T) {
	held := pending(notices.Email)
	held.LeaseOwner, held.LeaseUntil, held.Version = "a", t0.Add(time.Minute), 2
	sent := func(n *notices.Notice) error { n.Status, n.SentAt = notices.Sent, t0; return nil }
	tests := []struct {
		name  string
		old   func(n notices.Notice) notices.Notice
		fn    func(*notices.Notice) error
		check func(t *testing.T, got notices.Notice, err error)
	}{
		{"the holder records: the lease is released and the version counted", func(n notices.Notice) notices.Notice { return n }, sent,
			func(t *testing.T, got notices.Notice, err error) {
				if err != nil || got.Status != notices.Sent || got.LeaseOwner != "" || !got.LeaseUntil.IsZero() || got.Version != 3 {
					t.Errorf("got %+v, %v", got, err)
				}
			}},
		{"another dispatcher claimed it since", func(n notices.Notice) notices.Notice { n.LeaseOwner, n.Version = "b", 3; return n }, sent,
			func(t *testing.T, _ notices.Notice, err error) {
				if !errors.Is(err, notices.ErrLeaseLost) {
					t.Errorf("err = %v, want ErrLeaseLost", err)
				}
			}},
		{"the same owner claimed it again since", func(n notices.Notice) notices.Notice { n.Version = 3; return n }, sent,
			func(t *testing.T, _ notices.Notice, err error) {
				if !errors.Is(err, notices.ErrLeaseLost) {
					t.Errorf("err = %v, want ErrLeaseLost", err)
				}
			}},
		{"fn's own failure is returned", func(n notices.Notice) notices.Notice { return n }, func(*notices.Notice) error { return errBoom },
			func(t *testing.T, _ notices.Notice, err error) {
				if !errors.Is(err, errBoom) {
					t.Errorf("err = %v", err)
				}
			}},
		{"the recipient cannot change", func(n notices.Notice) notices.Notice { return n },
			func(n *notices.Notice) error { n.RecipientID = mandates.NewID(t0); return nil },
			func(t *testing.T, _ notices.Notice, err error) {
				var ie *mandates.InvalidError
				if !errors.As(err, &ie) || ie.Rule != mandates.RuleReadOnly {
					t.Errorf("err = %v, want read_only", err)
				}
			}},
		{"data cannot change", func(n notices.Notice) notices.Notice { return n },
			func(n *notices.Notice) error { n.Data["x"] = "y"; return nil },
			func(t *testing.T, _ notices.Notice, err error) {
				var ie *mandates.InvalidError
				if !errors.As(err, &ie) || ie.Field != "data" {
					t.Errorf("err = %v, want read_only data", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := tt.old(held)
			old.Data = map[string]string{"recipient_role": "person"}
			got, err := notices.ApplyRecord(old, held, tt.fn)
			tt.check(t, got, err)
			if old.Data["x"] != "" {
				t.Error("fn changed the stored notice's data")
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := notices.Backoff{Base: time.Second, Max: 10 * time.Second, Jitter: 0.5}
	tests := []struct {
		name     string
		attempts int
		rand     float64
		want     time.Duration
	}{
		{"the first retry waits the base, without jitter", 1, 0, time.Second},
		{"each failure doubles the wait", 3, 0, 4 * time.Second},
		{"the wait stops at the maximum", 10, 0, 10 * time.Second},
		{"the wait stops at the maximum after very many failures", 1000, 0, 10 * time.Second},
		{"the jitter takes at most half off", 3, 0.999999, 2*time.Second + 2*time.Microsecond},
		{"the jitter takes a part off", 2, 0.5, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Rand = func() float64 { return tt.rand }
			got := b.Delay(tt.attempts)
			if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Delay(%d) = %v, want %v", tt.attempts, got, tt.want)
			}
		})
	}
	t.Run("the defaults wait 15 to 30 seconds first and at most an hour", func(t *testing.T) {
		var d notices.Backoff
		for range 100 {
			if got := d.Delay(1); got < 15*time.Second || got > 30*time.Second {
				t.Fatalf("Delay(1) = %v", got)
			}
			if got := d.Delay(50); got < 30*time.Minute || got > time.Hour {
				t.Fatalf("Delay(50) = %v", got)
			}
		}
	})
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a refusal is the channel's code", &notices.PermanentError{Channel: notices.Email, Code: "550", Err: errBoom}, "refused_550"},
		{"a refusal without a code", &notices.PermanentError{Channel: notices.SMS, Err: errBoom}, "refused_other"},
		{"a refusal whose code is not a code", &notices.PermanentError{Channel: notices.SMS, Code: "5 5 0", Err: errBoom}, "refused_other"},
		{"a time-out", errors.Join(errBoom, errDeadline), notices.CodeTimeout},
		{"anything else is temporary", errBoom, notices.CodeTemporary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notices.ErrorCode(tt.err); got != tt.want || !notices.IsCode(got) {
				t.Errorf("ErrorCode = %q, want %q", got, tt.want)
			}
		})
	}
}
