package mandates

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A co-signature is the other party's agreement to one described act that
// the policy allows only with it (Decide answers Cosign): a person under
// curatelle disposing needs the curator's agreement; a curator disposing
// needs the person's. A site opens the request, the party who must agree
// approves or refuses it in their space, and the site's next evaluation of
// that very act answers allowed, once, within CosignatureTTL.

// Events of a co-signature, recorded in the represented person's journal.
const (
	EventCosignRequested EventType = "cosignature.requested"
	EventCosignApproved  EventType = "cosignature.approved"
	EventCosignRefused   EventType = "cosignature.refused"
	EventCosignUsed      EventType = "cosignature.used"
)

const (
	// CosignatureTTL is how long an approval can be used: the act is about
	// to happen, the agreement is not a standing permission.
	CosignatureTTL = 15 * time.Minute
	// CosignaturePendingTTL is how long a request waits for an answer.
	CosignaturePendingTTL = 7 * 24 * time.Hour
	// maxDescription bounds the act's description, in bytes.
	maxDescription = 1000
)

// CosignatureStatus is where a request stands. Expired is never stored:
// the clock decides it at every reading (EffectiveStatus).
type CosignatureStatus string

const (
	CosignPending  CosignatureStatus = "pending"
	CosignApproved CosignatureStatus = "approved"
	CosignRefused  CosignatureStatus = "refused"
	CosignUsed     CosignatureStatus = "used"
	CosignExpired  CosignatureStatus = "expired"
)

// Cosignature is one request for agreement to one act.
type Cosignature struct {
	ID          string
	ClientID    string // the site that opened it, the only one that may use it
	PersonID    string // whose account the act is in
	ActorID     string // who will do the act
	Action      Action
	Area        Area
	Description string // the act, as the site describes it
	// RepresentationID is the representation whose rule asks for the
	// agreement: the measure over the person when the person acts, the
	// actor's representation when a representative acts.
	RepresentationID string
	// Party is who must agree: PartyPerson (the represented person) or
	// PartyRepresentative (whoever holds RepresentationID).
	Party     Party
	Status    CosignatureStatus // as stored
	CreatedAt time.Time
	// ExpiresAt ends the pending request, then, once approved, the
	// approval.
	ExpiresAt time.Time
	DecidedAt time.Time
	DecidedBy string
	UsedAt    time.Time
	// ActReportedAt is when the site reported the act this agreement
	// allowed: an agreement backs one act, so a second report with it is
	// refused. Zero until then.
	ActReportedAt time.Time
	Version       int64
}

// EffectiveStatus is the status at now: a pending request or an unused
// approval past ExpiresAt is expired.
func (c *Cosignature) EffectiveStatus(now time.Time) CosignatureStatus {
	if (c.Status == CosignPending || c.Status == CosignApproved) && !now.Before(c.ExpiresAt) {
		return CosignExpired
	}
	return c.Status
}

// Matches says whether the cosignature was asked for exactly this act by
// this site: same actor, person, action, area and client.
func (c *Cosignature) Matches(q Question, clientID string) bool {
	return c.ActorID == q.ActorID && c.PersonID == q.PersonID && c.Action == q.Action && c.Area == q.Area && c.ClientID == clientID
}

// Validate reports the first field that breaks a rule.
func (c *Cosignature) Validate() error {
	switch {
	case !IsID(c.ID):
		return invalid("id", RuleFormat)
	case strings.TrimSpace(c.ClientID) == "":
		return invalid("client_id", RuleRequired)
	case !IsID(c.PersonID):
		return invalid("person", RuleFormat)
	case !IsID(c.ActorID):
		return invalid("actor", RuleFormat)
	case !c.Action.Valid():
		return invalid("action", RuleUnknown)
	case !c.Area.Valid():
		return invalid("procedure_area", RuleUnknown)
	case !IsID(c.RepresentationID):
		return invalid("representation", RuleFormat)
	case c.Party != PartyPerson && c.Party != PartyRepresentative:
		return invalid("party", RuleUnknown)
	}
	if err := checkText("description", c.Description, maxDescription, true); err != nil {
		return err
	}
	switch c.Status {
	case CosignPending, CosignApproved, CosignRefused, CosignUsed:
	default:
		return invalid("status", RuleUnknown)
	}
	if c.CreatedAt.IsZero() || c.ExpiresAt.IsZero() {
		return invalid("expires_at", RuleRequired)
	}
	return nil
}

// CosignatureStore keeps co-signature requests.
//
// UpdateCosignature reads the stored request, runs fn on it and saves what
// fn left with Version+1, in one transaction that holds the row: two
// concurrent updates never both see the same version (one waits, or fails
// with ErrConflict). When fn fails nothing changes.
type CosignatureStore interface {
	CreateCosignature(ctx context.Context, c Cosignature) error
	Cosignature(ctx context.Context, id string) (Cosignature, error)
	UpdateCosignature(ctx context.Context, id string, fn func(*Cosignature) error) (Cosignature, error)
	// CosignaturesAwaiting lists the pending requests, newest first, that
	// ask personID's agreement as the represented person, or the agreement
	// of the holder of one of representationIDs.
	CosignaturesAwaiting(ctx context.Context, personID string, representationIDs []string) ([]Cosignature, error)
}

// Failures of co-signatures, for callers to map to a page or a JSON error.
var (
	// ErrNoCosignNeeded: the policy does not answer cosign for this act
	// (it is allowed, or refused whatever anyone agrees).
	ErrNoCosignNeeded = errors.New("mandates: this act does not call for a co-signature")
	// ErrCosignDecided: the request was already approved, refused or used,
	// or it expired.
	ErrCosignDecided = errors.New("mandates: co-signature already decided or expired")
)

// CosignatureRequest is what a site sends to open a request.
type CosignatureRequest struct {
	ClientID    string
	PersonID    string
	ActorID     string
	Action      Action
	Area        Area
	Description string
}

func cosignEvent(c *Cosignature, t EventType, actor string, at time.Time) Event {
	return Event{Type: t, At: at, ActorID: actor, PersonID: c.PersonID, RepresentationID: c.RepresentationID,
		ClientID: c.ClientID, Areas: []Area{c.Area}, Detail: map[string]string{"cosignature_id": c.ID, "client_id": c.ClientID,
			"action": string(c.Action), "acting": c.ActorID}}
}

// RequestCosignature opens a request for one act, where the policy answers
// cosign for it now. The request names the party who must agree; it is
// written with its event in one transaction.
func (s *Service) RequestCosignature(ctx context.Context, in CosignatureRequest) (Cosignature, error) {
	now := s.now()
	ans, err := s.Decide(ctx, Question{ActorID: in.ActorID, PersonID: in.PersonID, Action: in.Action, Area: in.Area, At: now})
	if err != nil {
		return Cosignature{}, err
	}
	if ans.Decision != Cosign || ans.Representation == nil {
		return Cosignature{}, fmt.Errorf("%w: the policy answers %s (%s)", ErrNoCosignNeeded, ans.Decision, ans.Reason.Code)
	}
	c := Cosignature{ID: NewID(now), ClientID: in.ClientID, PersonID: in.PersonID, ActorID: in.ActorID, Action: in.Action,
		Area: in.Area, Description: strings.TrimSpace(in.Description), RepresentationID: ans.Representation.ID,
		Party: PartyRepresentative, Status: CosignPending, CreatedAt: now, ExpiresAt: now.Add(CosignaturePendingTTL), Version: 1}
	switch {
	case ans.Agreement != nil:
		// A measure over the person asks its representative's agreement.
		c.RepresentationID, c.Party = ans.Agreement.ID, PartyRepresentative
	case in.ActorID != in.PersonID:
		c.Party = PartyPerson
	}
	if err := c.Validate(); err != nil {
		return Cosignature{}, err
	}
	out := c
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		// Asking again for an act still waiting returns the request
		// waiting: one request per act and parties, even when two ask at
		// once (the person is held until the transaction ends).
		if err := s.store.LockPerson(ctx, c.PersonID); err != nil {
			return err
		}
		pending, err := s.store.CosignaturesAwaiting(ctx, c.PersonID, []string{c.RepresentationID})
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(pending, func(p Cosignature) bool { return sameAct(&p, &c, now) }); i >= 0 {
			out = pending[i]
			return nil
		}
		out = c
		if err := s.store.CreateCosignature(ctx, c); err != nil {
			return err
		}
		return s.emit(ctx, cosignEvent(&c, EventCosignRequested, in.ActorID, now))
	})
	if err != nil {
		return Cosignature{}, fmt.Errorf("request co-signature: %w", err)
	}
	return out, nil
}

// sameAct says whether p, stored, is a request still waiting for the very
// act c asks about, of the same parties and site.
func sameAct(p, c *Cosignature, now time.Time) bool {
	return p.EffectiveStatus(now) == CosignPending && p.ClientID == c.ClientID && p.PersonID == c.PersonID && p.ActorID == c.ActorID &&
		p.Action == c.Action && p.Area == c.Area && p.Description == c.Description && p.RepresentationID == c.RepresentationID &&
		p.Party == c.Party
}

// CosignatureOf returns a request to the site that opened it; to any other
// it does not exist.
func (s *Service) CosignatureOf(ctx context.Context, clientID, id string) (Cosignature, error) {
	if !IsID(id) {
		return Cosignature{}, fmt.Errorf("co-signature %q: %w", id, ErrNotFound)
	}
	c, err := s.store.Cosignature(ctx, id)
	if err != nil {
		return Cosignature{}, err
	}
	if c.ClientID != clientID {
		return Cosignature{}, fmt.Errorf("co-signature %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// mayAgree says whether personID is the party who must agree to c at now:
// the represented person, or the holder of the representation (the person
// named, or an active member of the organisation holding it, among its
// delegates when it names some). A representation no longer in force has
// nobody to agree.
func (s *Service) mayAgree(ctx context.Context, c *Cosignature, personID string, now time.Time) (bool, error) {
	if personID == c.ActorID {
		return false, nil
	}
	if c.Party == PartyPerson {
		return personID == c.PersonID, nil
	}
	r, err := s.store.Representation(ctx, c.RepresentationID)
	if err != nil {
		return false, err
	}
	if !r.ActiveAt(now) {
		return false, nil
	}
	rep := r.Representative
	if !rep.IsOrganisation() {
		return rep.PersonID == personID, nil
	}
	if len(rep.Delegates) > 0 && !slices.Contains(rep.Delegates, personID) {
		return false, nil
	}
	m, err := s.store.Membership(ctx, rep.OrganisationID, personID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && m.Active, err
}

// agreesWithSecondFactor refuses an agreement given through a
// representation an organisation holds (an MJPM service's delegate) from a
// login without a second factor: a professional act needs one.
func (s *Service) agreesWithSecondFactor(ctx context.Context, c *Cosignature, a Actor) error {
	if c.Party != PartyRepresentative || a.SecondFactor {
		return nil
	}
	r, err := s.store.Representation(ctx, c.RepresentationID)
	if err != nil {
		return err
	}
	if r.Representative.IsOrganisation() {
		return fmt.Errorf("co-signature %s: %w", c.ID, ErrSecondFactor)
	}
	return nil
}

// CosignatureToAgree returns a request to the party who must agree to it;
// to anyone else it does not exist (ErrNotFound), so nobody learns of
// another's acts. Through an organisation's representation, it is shown
// only to a login with a second factor (ErrSecondFactor).
func (s *Service) CosignatureToAgree(ctx context.Context, a Actor, id string) (Cosignature, error) {
	viewer := a.PersonID
	if !IsID(id) {
		return Cosignature{}, fmt.Errorf("co-signature %q: %w", id, ErrNotFound)
	}
	c, err := s.store.Cosignature(ctx, id)
	if err != nil {
		return Cosignature{}, err
	}
	ok, err := s.mayAgree(ctx, &c, viewer, s.now())
	if err != nil {
		return Cosignature{}, err
	}
	if !ok && c.DecidedBy != viewer {
		return Cosignature{}, fmt.Errorf("co-signature %s: %w", id, ErrNotFound)
	}
	if err := s.agreesWithSecondFactor(ctx, &c, a); err != nil {
		return Cosignature{}, err
	}
	return c, nil
}

// CosignaturesAwaiting lists the requests waiting for the actor's
// agreement, newest first: as the represented person, and as the holder of
// representations (those held through an organisation only with a second
// factor).
func (s *Service) CosignaturesAwaiting(ctx context.Context, a Actor) ([]Cosignature, error) {
	personID := a.PersonID
	held, err := s.For(ctx, personID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var ids []string
	for _, v := range held {
		if v.Representation.ActiveAt(now) && (a.SecondFactor || !v.Representative.IsOrganisation()) {
			ids = append(ids, v.ID)
		}
	}
	list, err := s.store.CosignaturesAwaiting(ctx, personID, ids)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, c := range list {
		if c.EffectiveStatus(now) != CosignPending {
			continue
		}
		if ok, err := s.mayAgree(ctx, &c, personID, now); err != nil {
			return nil, err
		} else if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// AnswerCosignature records the agreement (approve) or the refusal of the
// party who must agree. Someone else gets ErrNotFound; a request already
// answered, used or expired gets ErrCosignDecided. An approval can be used
// for CosignatureTTL.
func (s *Service) AnswerCosignature(ctx context.Context, a Actor, id string, approve bool) (Cosignature, error) {
	if !IsID(id) {
		return Cosignature{}, fmt.Errorf("co-signature %q: %w", id, ErrNotFound)
	}
	now := s.now()
	var out Cosignature
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.UpdateCosignature(ctx, id, func(c *Cosignature) error {
			ok, err := s.mayAgree(ctx, c, a.PersonID, now)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("co-signature %s: %w", id, ErrNotFound)
			}
			if err := s.agreesWithSecondFactor(ctx, c, a); err != nil {
				return err
			}
			if st := c.EffectiveStatus(now); st != CosignPending {
				return fmt.Errorf("%w: it is %s", ErrCosignDecided, st)
			}
			c.DecidedAt, c.DecidedBy = now, a.PersonID
			if approve {
				c.Status, c.ExpiresAt = CosignApproved, now.Add(CosignatureTTL)
			} else {
				c.Status = CosignRefused
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = c
		t := EventCosignRefused
		if approve {
			t = EventCosignApproved
		}
		return s.emit(ctx, cosignEvent(&c, t, a.PersonID, now))
	})
	if err != nil {
		return Cosignature{}, fmt.Errorf("answer co-signature: %w", err)
	}
	return out, nil
}

// Evaluate answers q as Decide does, for the site clientID; where Decide
// answers cosign and cosignatureID names an approval of exactly this act
// (same actor, person, action, area and site), unused and unexpired, the
// answer is allowed and the approval is used up, in one transaction: of
// concurrent evaluations, exactly one is allowed. A co-signature that
// cannot be used leaves the answer at cosign and says why. An id no
// longer stored is answered as an expired request: the cleanup deletes a
// request some time after it expired unanswered, while sites still hold
// its id (ExpiredCosignatures). An unknown id and another site's request
// get that same answer, so that a site can tell none of them from the
// others; none makes the act allowed. Each is journaled as any
// evaluation, naming the id the site sent.
func (s *Service) Evaluate(ctx context.Context, q Question, clientID, cosignatureID string) (Answer, error) {
	if q.At.IsZero() {
		q.At = s.now()
	}
	ans, err := s.Decide(ctx, q)
	if err != nil {
		return ans, err
	}
	if cosignatureID == "" || ans.Decision != Cosign {
		if err := s.record(ctx, evaluationEvent(q, clientID, ans, "")); err != nil {
			return Answer{}, err
		}
		return ans, nil
	}
	if !IsID(cosignatureID) {
		return Answer{}, fmt.Errorf("co-signature %q: %w", cosignatureID, ErrNotFound)
	}
	var why Reason
	var used Cosignature
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		why = Reason{}
		c, err := s.store.UpdateCosignature(ctx, cosignatureID, func(c *Cosignature) error {
			if c.ClientID != clientID {
				why = Reason{Code: ReasonCosignExpired}
				return errUnusable
			}
			why = cosignUnusable(c, q, clientID)
			if why != (Reason{}) {
				return errUnusable
			}
			c.Status, c.UsedAt = CosignUsed, q.At
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			why = Reason{Code: ReasonCosignExpired}
			return errUnusable
		}
		if err != nil {
			return err
		}
		used = c
		if err := s.emit(ctx, cosignEvent(&c, EventCosignUsed, q.ActorID, q.At)); err != nil {
			return err
		}
		return s.emit(ctx, evaluationEvent(q, clientID, Answer{Decision: Allowed, Representation: ans.Representation}, c.ID))
	})
	switch {
	case errors.Is(err, errUnusable), errors.Is(err, ErrConflict):
		ans.Reason = why
		if errors.Is(err, ErrConflict) {
			// A concurrent evaluation used it first.
			ans.Reason = Reason{Code: ReasonCosignUsed}
		}
		if err := s.record(ctx, evaluationEvent(q, clientID, ans, cosignatureID)); err != nil {
			return Answer{}, err
		}
		return ans, nil
	case err != nil:
		return Answer{}, fmt.Errorf("evaluate with co-signature: %w", err)
	}
	ans.Decision = Allowed
	ans.Reason = Reason{Code: ReasonCosignGiven, Party: used.Party}
	return ans, nil
}

var errUnusable = errors.New("mandates: co-signature unusable")

// evaluationEvent is the journal's entry for a site's question and the
// answer it got: in the person's journal, with who would act, the
// representation the answer rests on and the area asked about.
func evaluationEvent(q Question, clientID string, ans Answer, cosignatureID string) Event {
	decision := "refused"
	switch ans.Decision {
	case Allowed:
		decision = "allowed"
	case Cosign:
		decision = "cosign"
	}
	e := Event{Type: EventAccessEvaluated, At: q.At, ActorID: q.ActorID, PersonID: q.PersonID, ClientID: clientID,
		Areas: []Area{q.Area}, Detail: map[string]string{"action": string(q.Action), "decision": decision}}
	if r := ans.Representation; r != nil {
		e.RepresentationID = r.ID
		if q.ActorID != q.PersonID {
			// The actor acts through the representation, so for its
			// organisation if one holds it; a person acting for
			// themselves acts for nobody else.
			e.OrganisationID = r.Representative.OrganisationID
		}
	}
	if cosignatureID != "" {
		e.Detail["cosignature_id"] = cosignatureID
	}
	return e
}

var cosignReasons = map[CosignatureStatus]ReasonCode{
	CosignPending: ReasonCosignPending,
	CosignRefused: ReasonCosignRefused,
	CosignUsed:    ReasonCosignUsed,
	CosignExpired: ReasonCosignExpired,
}

// cosignUnusable says why c cannot make q allowed for clientID, or
// the zero Reason when it can.
func cosignUnusable(c *Cosignature, q Question, clientID string) Reason {
	if !c.Matches(q, clientID) {
		return Reason{Code: ReasonCosignOtherAct}
	}
	if st := c.EffectiveStatus(q.At); st != CosignApproved {
		return Reason{Code: cosignReasons[st]}
	}
	return Reason{}
}
