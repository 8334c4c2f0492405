package mandates

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"
)

// MandateInput is what an aidant and the person choose together.
type MandateInput struct {
	OrganisationID string
	PersonID       string
	Areas          []Area
	Duration       Duration
}

// requireAidant checks the actor may act for the organisation now: logged
// in with a second factor, and an active member.
func (s *Service) requireAidant(ctx context.Context, a Actor, orgID string) error {
	if !a.SecondFactor {
		return ErrSecondFactor
	}
	m, err := s.store.Membership(ctx, orgID, a.PersonID)
	if errors.Is(err, ErrNotFound) || (err == nil && !m.Active) {
		return fmt.Errorf("%w: this person is not an active member of the organisation", ErrNotPermitted)
	}
	return err
}

// StartMandate creates an aidant mandate waiting for consent. For a person
// under a measure it follows the measure's rule (Policy.Giver): it waits
// for the representative to give it, or for the person's consent and then
// the representative's agreement. A mandate between the person and the
// organisation already in force or waiting is not added again: the
// *OpenError names it, to be changed instead (ChangeMandate).
func (s *Service) StartMandate(ctx context.Context, a Actor, in MandateInput) (Representation, error) {
	if err := s.requireAidant(ctx, a, in.OrganisationID); err != nil {
		return Representation{}, err
	}
	if !in.Duration.Valid() {
		return Representation{}, invalid("duration", RuleTerm)
	}
	if in.PersonID == a.PersonID {
		return Representation{}, invalid("person", RuleSelf)
	}
	o, err := s.store.Organisation(ctx, in.OrganisationID)
	if err != nil {
		return Representation{}, err
	}
	for _, area := range in.Areas {
		if area.Valid() && !o.Covers(area) {
			return Representation{}, invalid("procedure_areas", RuleForbidden)
		}
	}
	now := s.now()
	r := Representation{ID: NewID(now), Kind: AidantMandate, PersonID: in.PersonID, Representative: Representative{OrganisationID: o.ID},
		Role: RoleAidant, Areas: SortAreas(in.Areas), ValidFrom: now, ValidUntil: in.Duration.End(now), Status: StatusPendingConsent}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.personExists(ctx, "person", in.PersonID); err != nil {
			return err
		}
		if err := r.Validate(); err != nil {
			return err
		}
		reps, err := s.lockedRepresentations(ctx, in.PersonID)
		if err != nil {
			return err
		}
		if open := openBetween(reps, &r, now); open != nil {
			return &OpenError{ID: open.ID, Status: open.EffectiveStatus(now)}
		}
		r.Source.Measure = s.cfg.Policy.underMeasure(s.cfg.Policy.Rule(reps, r.PersonID, r.Areas, now), a.PersonID)
		r, err = s.create(ctx, r, a.PersonID, o.ID)
		return err
	})
	var open *OpenError
	if errors.As(err, &open) {
		err = s.refuse(ctx, Event{ActorID: a.PersonID, OrganisationID: o.ID, PersonID: in.PersonID,
			RepresentationID: open.ID, Areas: r.Areas, Detail: detail("reason", "duplicate")}, err)
	}
	if err != nil {
		return Representation{}, fmt.Errorf("start mandate: %w", err)
	}
	return r, nil
}

// lockedRepresentations holds the person (LockPerson) for the transaction
// in ctx and reads their representations: what is checked before a new
// one is created cannot change until it is.
func (s *Service) lockedRepresentations(ctx context.Context, personID string) ([]Representation, error) {
	if err := s.store.LockPerson(ctx, personID); err != nil {
		return nil, err
	}
	return s.store.RepresentationsOf(ctx, personID)
}

// openBetween finds, among the person's representations, a mandate or a
// proxy of r's kind with r's holder that is in force or waiting at now.
func openBetween(reps []Representation, r *Representation, now time.Time) *Representation {
	for i := range reps {
		o := &reps[i]
		if o.ID == r.ID || o.Kind != r.Kind || o.PersonID != r.PersonID || o.Representative.PersonID != r.Representative.PersonID ||
			o.Representative.OrganisationID != r.Representative.OrganisationID {
			continue
		}
		switch o.EffectiveStatus(now) {
		case StatusActive, StatusPendingConsent, StatusSuspended, StatusPending:
			return o
		}
	}
	return nil
}

// refuse records a refused request in the person's journal (EventRefused)
// and returns the refusal, err: nothing changed, but the person and their
// representatives see that it was asked. When the entry cannot be written,
// that failure is returned instead (a store unavailable, not a refusal).
func (s *Service) refuse(ctx context.Context, e Event, err error) error {
	e.Type, e.At = EventRefused, s.now()
	if jerr := s.record(ctx, e); jerr != nil {
		return jerr
	}
	return err
}

// Length is the length a mandate was made for, as its attestation says.
func (r *Representation) Length() Duration { return durationOf(r) }

// durationOf finds the length a mandate was made for.
func durationOf(r *Representation) Duration {
	for _, d := range Durations {
		if d.End(r.ValidFrom).Equal(r.ValidUntil) {
			return d
		}
	}
	return OneDay
}

// consent records the person's consent to a mandate waiting for it. The
// mandate is in force from now for its length, unless the measure over the
// person asks the representative's agreement too: it then waits for it.
// Under a measure whose representative gives mandates, the person's word
// is refused (ErrRepresentativeGives) and the refusal journaled.
func (s *Service) consent(ctx context.Context, a Actor, id string, rec ConsentRecord, check func(*Representation) error) (Representation, error) {
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Kind != AidantMandate {
		return Representation{}, fmt.Errorf("%w: this is not an aidant mandate", ErrInactive)
	}
	if err := s.requireAidant(ctx, a, r.Representative.OrganisationID); err != nil {
		return Representation{}, err
	}
	if err := s.personMayConsent(ctx, a, &r); err != nil {
		return Representation{}, err
	}
	return s.change(ctx, id, 0, func(r *Representation) (Change, error) {
		if r.Waits() != WaitingPerson {
			return Change{}, fmt.Errorf("%w: this mandate is not waiting for the person's consent", ErrInactive)
		}
		if check != nil {
			if err := check(r); err != nil {
				return Change{}, err
			}
		}
		now := s.now()
		d := durationOf(r)
		rec.GivenAt, rec.WitnessID, rec.GivenBy = now, a.PersonID, r.PersonID
		r.ValidFrom, r.ValidUntil, r.Source.Consent = now, d.End(now), &rec
		if r.Waits() == WaitingNobody {
			r.Status = StatusActive
		}
		// The person consented, before the aidant who witnessed it.
		c := Change{Type: EventConsentGiven, ActorID: r.PersonID, OrganisationID: r.Representative.OrganisationID,
			Detail: consentDetail(&rec, r.Source.Measure)}
		return c, nil
	})
}

// personMayConsent refuses, and journals, the person's own consent where
// the measure over them says the representative gives it.
func (s *Service) personMayConsent(ctx context.Context, a Actor, r *Representation) error {
	if r.Waits() != WaitingRepresentative || r.Source.Measure.Giver != GivenByRepresentative {
		return nil
	}
	return s.refuse(ctx, Event{ActorID: a.PersonID, OrganisationID: r.Representative.OrganisationID, PersonID: r.PersonID,
		RepresentationID: r.ID, Areas: r.Areas, Detail: detail("reason", "representative_gives", "measure_id", r.Source.Measure.MeasureID)},
		fmt.Errorf("representation %s: %w", r.ID, ErrRepresentativeGives))
}

// consentDetail is what the journal keeps of a consent: how it was given,
// by whom, before which aidant, and the measure's rule it followed.
func consentDetail(rec *ConsentRecord, u *UnderMeasure) map[string]string {
	d := detail("method", string(rec.Method), "given_by", rec.GivenBy, "witness", rec.WitnessID, "phone_end", rec.PhoneEnd)
	if u != nil {
		d["measure_id"], d["rule"] = u.MeasureID, string(u.Giver)
	}
	return d
}

// ConfirmByLogin records the consent the person gave by logging in with
// their own account on the aidant's device; confirmedID is the person the
// login proved.
func (s *Service) ConfirmByLogin(ctx context.Context, a Actor, id, confirmedID string) (Representation, error) {
	return s.consent(ctx, a, id, ConsentRecord{Method: ConsentInPersonLogin}, func(r *Representation) error {
		if confirmedID != r.PersonID {
			return fmt.Errorf("%w: the account that confirmed is not the person's", ErrNotPermitted)
		}
		return nil
	})
}

// RecordInPersonConsent records a consent given in person, for which the
// aidant prints an attestation that the person keeps and signs. Its hash
// is kept, so the signed paper can be matched later.
func (s *Service) RecordInPersonConsent(ctx context.Context, a Actor, id string, attestation []byte) (Representation, error) {
	if len(attestation) == 0 {
		return Representation{}, invalid("attestation", RuleRequired)
	}
	sum := sha256.Sum256(attestation)
	return s.consent(ctx, a, id, ConsentRecord{Method: ConsentInPersonAttestation, AttestationHash: hex.EncodeToString(sum[:])}, nil)
}

func codeHash(id, code string) []byte {
	h := sha256.Sum256([]byte(id + ":" + code))
	return h[:]
}

// SendConsentCode sends a one-time code to the person's phone; the aidant
// types what the person reads back to them.
func (s *Service) SendConsentCode(ctx context.Context, a Actor, id string) error {
	if s.cfg.Codes == nil {
		return fmt.Errorf("%w: this Relais has no way to send text messages", ErrNoSender)
	}
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return err
	}
	if r.Kind != AidantMandate {
		return fmt.Errorf("%w: this is not an aidant mandate", ErrInactive)
	}
	if err := s.requireAidant(ctx, a, r.Representative.OrganisationID); err != nil {
		return err
	}
	if err := s.personMayConsent(ctx, a, &r); err != nil {
		return err
	}
	p, err := s.store.Person(ctx, r.PersonID)
	if err != nil {
		return err
	}
	if p.Phone == "" {
		return fmt.Errorf("%w: the person has no phone number", ErrNoSender)
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	code := fmt.Sprintf("%06d", n.Int64())
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		_, err := s.change(ctx, id, 0, func(r *Representation) (Change, error) {
			if r.Waits() != WaitingPerson {
				return Change{}, fmt.Errorf("%w: this mandate is not waiting for the person's consent", ErrInactive)
			}
			sent := 0
			for _, c := range r.History {
				if c.Type == EventConsentCodeSent {
					sent++
				}
			}
			if sent >= s.cfg.MaxCodesSent {
				return Change{}, fmt.Errorf("%w: %d codes were already sent for this request", ErrTooManyCodes, sent)
			}
			return Change{Type: EventConsentCodeSent, ActorID: a.PersonID, OrganisationID: r.Representative.OrganisationID}, nil
		})
		if err != nil {
			return err
		}
		now := s.now()
		return s.store.SaveConsentCode(ctx, ConsentCode{RepresentationID: id, CodeHash: codeHash(id, code), SentAt: now, ExpiresAt: now.Add(s.cfg.CodeTTL)})
	})
	if err != nil {
		return fmt.Errorf("send consent code: %w", err)
	}
	// Sent once the code is stored: a failed send leaves a code nobody
	// has, which the aidant replaces by asking again.
	if rs, ok := s.cfg.Codes.(RequestCodeSender); ok {
		return rs.SendRequestCode(ctx, p, r, code)
	}
	return s.cfg.Codes.SendConsentCode(ctx, p, code)
}

// CodeAttemptsLeft is how many more wrong codes a request can take; the
// error of a wrong code wraps it.
type CodeAttemptsLeft int

func (n CodeAttemptsLeft) Error() string { return strconv.Itoa(int(n)) + " attempts left" }

// CheckConsentCode activates the mandate when code is the one sent. A
// wrong code counts (and is recorded even though the call fails); after
// MaxCodeAttempts the request is cancelled. A used or expired code is
// refused: it cannot be replayed.
func (s *Service) CheckConsentCode(ctx context.Context, a Actor, id, code string) (Representation, error) {
	r, err := s.store.Representation(ctx, id)
	if err != nil {
		return r, err
	}
	if r.Kind != AidantMandate {
		return Representation{}, fmt.Errorf("%w: this is not an aidant mandate", ErrInactive)
	}
	if err := s.requireAidant(ctx, a, r.Representative.OrganisationID); err != nil {
		return Representation{}, err
	}
	if err := s.personMayConsent(ctx, a, &r); err != nil {
		return Representation{}, err
	}
	p, err := s.store.Person(ctx, r.PersonID)
	if err != nil {
		return Representation{}, err
	}
	var verdict error
	var out Representation
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		verdict = nil
		c, err := s.store.ConsentCode(ctx, id)
		if errors.Is(err, ErrNotFound) {
			verdict = fmt.Errorf("%w: no code was sent for this request", ErrCodeExpired)
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !c.UsedAt.IsZero() || !now.Before(c.ExpiresAt) {
			verdict = ErrCodeExpired
			return nil
		}
		if subtle.ConstantTimeCompare(c.CodeHash, codeHash(id, normaliseCode(code))) == 1 {
			if _, err := s.store.UpdateConsentCode(ctx, id, func(c *ConsentCode) error { c.UsedAt = now; return nil }); err != nil {
				return err
			}
			out, err = s.consent(ctx, a, id, ConsentRecord{Method: ConsentRemoteCode, PhoneEnd: phoneEnd(p.Phone)}, nil)
			return err
		}
		c, err = s.store.UpdateConsentCode(ctx, id, func(c *ConsentCode) error { c.Attempts++; return nil })
		if err != nil {
			return err
		}
		left := s.cfg.MaxCodeAttempts - c.Attempts
		if left > 0 {
			_, err = s.change(ctx, id, 0, func(r *Representation) (Change, error) {
				return Change{Type: EventConsentCodeWrong, ActorID: a.PersonID, OrganisationID: r.Representative.OrganisationID,
					Detail: detail("attempts", strconv.Itoa(c.Attempts))}, nil
			})
			verdict = fmt.Errorf("%w (%w)", ErrCodeWrong, CodeAttemptsLeft(left))
			return err
		}
		_, err = s.change(ctx, id, 0, func(r *Representation) (Change, error) {
			if r.Status != StatusPendingConsent {
				return Change{}, fmt.Errorf("%w: this mandate is not waiting for consent", ErrInactive)
			}
			r.Status = StatusRevoked
			return Change{Type: EventRevoked, ActorID: a.PersonID, OrganisationID: r.Representative.OrganisationID,
				Detail: detail("reason", "too_many_wrong_codes")}, nil
		})
		verdict = ErrTooManyCodes
		return err
	})
	if err != nil {
		return Representation{}, fmt.Errorf("check consent code: %w", err)
	}
	if verdict != nil {
		return Representation{}, fmt.Errorf("check consent code: %w", verdict)
	}
	return out, nil
}

// phoneEnd is the last two digits of a phone number: enough for the person
// to recognise their phone in the journal, too few to find the number.
func phoneEnd(phone string) string {
	digits := normaliseDigits(phone)
	if len(digits) < 2 {
		return ""
	}
	return digits[len(digits)-2:]
}

func normaliseCode(s string) string { return normaliseDigits(s) }

func normaliseDigits(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// ProxyInput is what a capable adult gives a person they trust, or what
// the representative under a measure gives for the person (ForPersonID).
type ProxyInput struct {
	HolderID string
	Areas    []Area
	Granted  []Action
	Duration Duration
	// ForPersonID, when set and not the actor, is the person the proxy is
	// given for by their representative (under tutelle, the tutor).
	ForPersonID string
}

// GiveProxy records a proxy; it waits for the trusted person to accept.
// The person gives it, following the rule of a measure over them: under a
// measure whose representative gives it, only that representative gives
// it (ForPersonID), and the person's own request is refused and journaled
// (ErrRepresentativeGives); under curatelle renforcée it waits for the
// curator's agreement too. A proxy to the same person already in force or
// waiting is not added again (*OpenError).
func (s *Service) GiveProxy(ctx context.Context, a Actor, in ProxyInput) (Representation, error) {
	if !in.Duration.Valid() {
		return Representation{}, invalid("duration", RuleTerm)
	}
	personID := a.PersonID
	if in.ForPersonID != "" {
		personID = in.ForPersonID
	}
	now := s.now()
	r := Representation{ID: NewID(now), Kind: Proxy, PersonID: personID, Representative: Representative{PersonID: in.HolderID},
		Role: RoleProxyHolder, Areas: SortAreas(in.Areas), Granted: in.Granted, ValidFrom: now, ValidUntil: in.Duration.End(now),
		Status: StatusPendingConsent, Source: Source{Consent: &ConsentRecord{Method: ConsentOwnAccount, GivenAt: now, GivenBy: a.PersonID}}}
	var refusal *Event
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		refusal = nil
		if _, err := s.personExists(ctx, "holder", in.HolderID); err != nil {
			return err
		}
		if _, err := s.personExists(ctx, "person", personID); err != nil {
			return err
		}
		if err := r.Validate(); err != nil {
			return err
		}
		reps, err := s.lockedRepresentations(ctx, personID)
		if err != nil {
			return err
		}
		m := s.cfg.Policy.Rule(reps, personID, r.Areas, now)
		r.Source.Measure = s.cfg.Policy.underMeasure(m, a.PersonID)
		if err := s.proxyGiver(ctx, a, &r, m, now); err != nil {
			if errors.Is(err, ErrRepresentativeGives) {
				refusal = &Event{ActorID: a.PersonID, PersonID: personID, Areas: r.Areas,
					Detail: detail("reason", "representative_gives", "measure_id", m.ID)}
			}
			return err
		}
		if open := openBetween(reps, &r, now); open != nil {
			refusal = &Event{ActorID: a.PersonID, PersonID: personID, RepresentationID: open.ID, Areas: r.Areas, Detail: detail("reason", "duplicate")}
			return &OpenError{ID: open.ID, Status: open.EffectiveStatus(now)}
		}
		r, err = s.create(ctx, r, a.PersonID, "")
		return err
	})
	if refusal != nil {
		err = s.refuse(ctx, *refusal, err)
	}
	if err != nil {
		return Representation{}, fmt.Errorf("give proxy: %w", err)
	}
	return r, nil
}

// proxyGiver checks the actor may give r under measure m (nil: none over
// the person), and records a representative's gift.
func (s *Service) proxyGiver(ctx context.Context, a Actor, r *Representation, m *Representation, now time.Time) error {
	byPerson := r.PersonID == a.PersonID
	switch {
	case m != nil && s.cfg.Policy.Giver(m.Kind) == GivenByRepresentative && byPerson:
		return fmt.Errorf("%w: a person under %s gives no proxy; their representative gives it", ErrRepresentativeGives, m.Kind)
	case byPerson:
		return nil
	case m == nil || s.cfg.Policy.Giver(m.Kind) != GivenByRepresentative:
		return fmt.Errorf("%w: only the person gives a proxy for themselves", ErrNotPermitted)
	}
	answerer, err := s.answerer(ctx, a, r.Source.Measure, r.PersonID, r.Areas, now)
	if err != nil {
		return err
	}
	u := r.Source.Measure
	u.MeasureID, u.AnsweredBy, u.AnsweredAt = answerer.ID, a.PersonID, now
	r.Source.Consent.Method = ConsentByRepresentative
	return nil
}

// AnswerProxy records the trusted person's answer: accepted, the proxy is
// in force from now for its length, unless it still waits for the
// representative's agreement under the person's measure; declined, it
// ends.
func (s *Service) AnswerProxy(ctx context.Context, a Actor, id string, accept bool) (Representation, error) {
	return s.change(ctx, id, 0, func(r *Representation) (Change, error) {
		if r.Kind != Proxy || r.Representative.PersonID != a.PersonID {
			return Change{}, hidden(r.ID)
		}
		if r.Waits() != WaitingHolder || r.EffectiveStatus(s.cfg.Now()) == StatusExpired {
			return Change{}, fmt.Errorf("%w: this proxy is not waiting for your answer", ErrInactive)
		}
		now := s.now()
		if !accept {
			r.Status = StatusRevoked
			return Change{Type: EventDeclined, ActorID: a.PersonID}, nil
		}
		d := durationOf(r)
		rec := *r.Source.Consent
		rec.AcceptedAt = now
		r.ValidFrom, r.ValidUntil, r.Source.Consent = now, d.End(now), &rec
		if r.Waits() == WaitingNobody {
			r.Status = StatusActive
		}
		return Change{Type: EventAccepted, ActorID: a.PersonID}, nil
	})
}

// Withdraw is the person stopping a proxy or an aidant mandate, at once, or
// the representative who gives them for the person under a measure (the
// tutor stops what they gave). A court measure cannot be withdrawn by the
// person (ErrNotPermitted): a judge decides it.
func (s *Service) Withdraw(ctx context.Context, a Actor, id string) (Representation, error) {
	byRepresentative, err := s.stopsForPerson(ctx, a, id)
	if err != nil {
		return Representation{}, err
	}
	return s.change(ctx, id, 0, func(r *Representation) (Change, error) {
		if r.PersonID != a.PersonID && !byRepresentative {
			return Change{}, hidden(r.ID)
		}
		if r.Kind.IsMeasure() {
			return Change{}, fmt.Errorf("%w: a court measure is changed only by a judge", ErrNotPermitted)
		}
		if r.Status == StatusRevoked || r.EffectiveStatus(s.cfg.Now()) == StatusExpired {
			return Change{}, fmt.Errorf("%w: it has already ended", ErrInactive)
		}
		r.Status = StatusRevoked
		return Change{Type: EventWithdrawn, ActorID: a.PersonID}, nil
	})
}

// WithdrawArea is the person (or, as for Withdraw, their tutor) taking one
// procedure area out of a proxy or an aidant mandate; without any area
// left, it ends.
func (s *Service) WithdrawArea(ctx context.Context, a Actor, id string, area Area) (Representation, error) {
	byRepresentative, err := s.stopsForPerson(ctx, a, id)
	if err != nil {
		return Representation{}, err
	}
	return s.change(ctx, id, 0, func(r *Representation) (Change, error) {
		if r.PersonID != a.PersonID && !byRepresentative {
			return Change{}, hidden(r.ID)
		}
		if r.Kind.IsMeasure() {
			return Change{}, fmt.Errorf("%w: a court measure is changed only by a judge", ErrNotPermitted)
		}
		if r.Status == StatusRevoked || r.EffectiveStatus(s.cfg.Now()) == StatusExpired {
			return Change{}, fmt.Errorf("%w: it has already ended", ErrInactive)
		}
		if !slices.Contains(r.Areas, area) {
			return Change{}, invalid("procedure_area", RuleUnknown)
		}
		if len(r.Areas) == 1 {
			r.Status = StatusRevoked
			return Change{Type: EventWithdrawn, ActorID: a.PersonID, Detail: detail("area", string(area))}, nil
		}
		r.Areas = slices.DeleteFunc(slices.Clone(r.Areas), func(x Area) bool { return x == area })
		return Change{Type: EventAreaWithdrawn, ActorID: a.PersonID, Detail: detail("area", string(area))}, nil
	})
}
