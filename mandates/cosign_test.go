package mandates

import (
	"errors"
	"testing"
	"time"
)

func approvedCosignature(now time.Time) Cosignature {
	return Cosignature{ID: NewID(now), ClientID: "caf", PersonID: NewID(now), ActorID: NewID(now), Action: Dispose, Area: "argent",
		Description: "Vendre la voiture", RepresentationID: NewID(now), Party: PartyRepresentative, Status: CosignApproved,
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(CosignatureTTL), DecidedAt: now}
}

func TestCosignatureUsable(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	base := approvedCosignature(now)
	q := Question{ActorID: base.ActorID, PersonID: base.PersonID, Action: Dispose, Area: "argent", At: now}
	tests := []struct {
		name   string
		change func(c *Cosignature, q *Question, client *string)
		usable bool
	}{
		{"an approval of exactly this act, in time, is usable", func(*Cosignature, *Question, *string) {}, true},
		{"one second before its end it is still usable", func(_ *Cosignature, q *Question, _ *string) { q.At = now.Add(CosignatureTTL - time.Second) }, true},
		{"at its end it is expired", func(_ *Cosignature, q *Question, _ *string) { q.At = now.Add(CosignatureTTL) }, false},
		{"a pending request is not an approval", func(c *Cosignature, _ *Question, _ *string) { c.Status = CosignPending }, false},
		{"a refused request is not an approval", func(c *Cosignature, _ *Question, _ *string) { c.Status = CosignRefused }, false},
		{"a used approval is not usable again", func(c *Cosignature, _ *Question, _ *string) { c.Status = CosignUsed }, false},
		{"another actor", func(_ *Cosignature, q *Question, _ *string) { q.ActorID = NewID(now) }, false},
		{"another person", func(_ *Cosignature, q *Question, _ *string) { q.PersonID = NewID(now) }, false},
		{"another action", func(_ *Cosignature, q *Question, _ *string) { q.Action = Manage }, false},
		{"another area", func(_ *Cosignature, q *Question, _ *string) { q.Area = "social" }, false},
		{"another site", func(_ *Cosignature, _ *Question, client *string) { *client = "impots" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, qq, client := base, q, "caf"
			tt.change(&c, &qq, &client)
			why := cosignUnusable(&c, qq, client)
			if got := why == (Reason{}); got != tt.usable {
				t.Errorf("usable = %v (%q), want %v", got, words(why).EN, tt.usable)
			}
			if !tt.usable && (words(why).FR == "" || words(why).EN == "") {
				t.Errorf("no reason in both languages: %+v", why)
			}
		})
	}
}

func TestCosignatureEffectiveStatus(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	c := approvedCosignature(now)
	c.Status, c.ExpiresAt = CosignPending, now.Add(CosignaturePendingTTL)
	for _, tc := range []struct {
		status CosignatureStatus
		at     time.Time
		want   CosignatureStatus
	}{
		{CosignPending, now, CosignPending},
		{CosignPending, now.Add(CosignaturePendingTTL), CosignExpired},
		{CosignRefused, now.Add(CosignaturePendingTTL), CosignRefused},
		{CosignUsed, now.Add(CosignaturePendingTTL), CosignUsed},
	} {
		c.Status = tc.status
		if got := c.EffectiveStatus(tc.at); got != tc.want {
			t.Errorf("%s at +%s: %s, want %s", tc.status, tc.at.Sub(now), got, tc.want)
		}
	}
}

func TestCosignatureValidate(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		change func(c *Cosignature)
	}{
		{"no description", func(c *Cosignature) { c.Description = "  " }},
		{"a description too long", func(c *Cosignature) { c.Description = string(make([]byte, maxDescription+1)) }},
		{"a description that is not UTF-8", func(c *Cosignature) { c.Description = "\xff" }},
		{"no site", func(c *Cosignature) { c.ClientID = "" }},
		{"an unknown action", func(c *Cosignature) { c.Action = "sell" }},
		{"an unknown area", func(c *Cosignature) { c.Area = "mars" }},
		{"an unknown party", func(c *Cosignature) { c.Party = "judge" }},
		{"expired is never stored", func(c *Cosignature) { c.Status = CosignExpired }},
	}
	ok := approvedCosignature(now)
	if err := ok.Validate(); err != nil {
		t.Fatalf("a valid co-signature: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := approvedCosignature(now)
			tt.change(&c)
			if err := c.Validate(); !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}
