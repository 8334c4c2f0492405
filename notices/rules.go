package notices

import (
	"github.com/relais-fr/relais/mandates"
)

// Role says why a recipient gets a notice; it is in the notice's Data
// (recipient_role), so the letter can say « vous » or name the person.
type Role string

const (
	// RolePerson: the represented person, about their own rights.
	RolePerson Role = "person"
	// RoleRepresentative: the holder of the representation the event
	// changed (the tutor named in a measure, the trusted person of a
	// proxy).
	RoleRepresentative Role = "representative"
	// RoleMeasure: the representative under the person's measure, for a
	// mandate or a proxy asked under it (they give it, agree to it, or are
	// told): its requests waiting for a tutor must reach the tutor.
	RoleMeasure Role = "measure_representative"
	// RoleAgreement: the holder of the representation whose rule asks for
	// an agreement (co-signature), when someone else acts.
	RoleAgreement Role = "agreement_representative"
)

// Facts are what Rules reads beside the event, read by the Notifier in
// the event's transaction.
type Facts struct {
	// Representation is the event's representation as stored after the
	// change; nil when the event names none.
	Representation *mandates.Representation
	// Measure is the measure a mandate or proxy was asked under
	// (Representation.Source.Measure.MeasureID); nil when none.
	Measure *mandates.Representation
}

// Addressee is one recipient of the notices an event causes.
type Addressee struct {
	ID   string
	Kind RecipientKind
	Role Role
}

// notified lists the events that cause notices, and to whom beside the
// person. Every event here is about one representation (or a co-signature
// request, which names the representation whose rule asks for it), but
// the changes of the person's login details, told to the person alone.
var notified = map[mandates.EventType]struct {
	representative bool // the holder of the event's representation
	measure        bool // the representative under the measure a request follows
	agreement      bool // for a co-signature: the holder whose agreement is asked
	paper          bool // to the person only, always on paper, whatever channel they chose
	// contest: about a court measure, the letter says how to contest the
	// decision, which an SMS cannot hold: an SMS comes with a letter
	// (LetterToo).
	contest bool
}{
	// A representation registered (a measure), or a mandate or proxy asked
	// or given.
	mandates.EventCreated: {representative: true, measure: true, contest: true},
	// A mandate or a proxy given: the person's consent, the trusted
	// person's acceptance, the measure's representative's agreement.
	mandates.EventConsentGiven: {representative: true, measure: true},
	mandates.EventAccepted:     {representative: true, measure: true},
	mandates.EventAgreed:       {representative: true, measure: true},
	// Refused.
	mandates.EventDeclined: {representative: true, measure: true},
	// In force, paused, resumed, changed.
	mandates.EventActivated:     {representative: true, measure: true, contest: true},
	mandates.EventSuspended:     {representative: true, measure: true, contest: true},
	mandates.EventResumed:       {representative: true, measure: true, contest: true},
	mandates.EventUpdated:       {representative: true, measure: true, contest: true},
	mandates.EventAreaWithdrawn: {representative: true, measure: true, contest: true},
	// Ended or stopped.
	mandates.EventRevoked:   {representative: true, measure: true, contest: true},
	mandates.EventWithdrawn: {representative: true, measure: true},
	mandates.EventExpired:   {representative: true, measure: true},
	// Ending within 30 days: the person and the holder.
	mandates.EventEndingSoon: {representative: true},
	// The first time someone acts for the person at a site: the person,
	// and the measure's representative when the representation used was
	// asked under the person's measure (a mandate under a tutelle). The
	// holder of the representation used is the actor, or the organisation
	// the actor acts for: never told of their own act.
	mandates.EventSiteFirstAct: {measure: true},
	// The person's login details changed: the person alone.
	mandates.EventSecondFactorEnrolled: {},
	mandates.EventSecondFactorDisabled: {},
	// An agreement (co-signature) asked, given or refused.
	mandates.EventCosignRequested: {agreement: true},
	mandates.EventCosignApproved:  {agreement: true},
	mandates.EventCosignRefused:   {agreement: true},
	// A new email address or mobile number counts from now: told on paper,
	// so someone who took over the account cannot divert the letters
	// unseen (the new channel is never used for this one).
	mandates.EventNoticeChannelConfirmed: {paper: true},
	// A new password, and a lost second factor removed by an operator
	// (issue 16): told on paper for the same reason, so that someone who
	// took over the account, its email or its phone cannot hide it.
	mandates.EventPasswordReset:     {paper: true},
	mandates.EventSecondFactorReset: {paper: true},
}

// AlwaysPaper says whether the notices of events of type t go on paper
// whatever channel the recipient chose (the Notifier does not ask its
// Channels for them).
func AlwaysPaper(t mandates.EventType) bool { return notified[t].paper }

// LetterToo says whether an SMS notice of an event of type t about a
// representation of kind k comes with a letter: the events of a court
// measure (registered, in force, paused, resumed, changed, an area
// withdrawn, ended) whose letter says how to contest the decision (the
// court, the 15 days). Issue 15 asks every notice to say how to contest;
// an email holds the letter's lines, a text message cannot, so it says
// that a letter follows, and the Notifier writes that letter.
func LetterToo(t mandates.EventType, k mandates.Kind) bool {
	return notified[t].contest && k.IsMeasure()
}

// Notified says whether events of type t cause notices.
func Notified(t mandates.EventType) bool {
	_, ok := notified[t]
	return ok
}

// Rules says who receives a notice of event e: always the represented
// person (e.PersonID) for the events that cause notices; and the
// representatives the event concerns, unless they did it themselves (the
// actor, or the organisation the actor acted for):
//   - the holder of the representation the event changed;
//   - for a mandate or a proxy asked under the person's measure, the
//     measure's representative, who gives it, agrees to it or is told;
//   - for an agreement (co-signature), the holder of the representation
//     whose rule asks for it, when someone else acts.
//
// Each recipient appears once, the person first.
func Rules(e mandates.Event, f Facts) []Addressee {
	rule, ok := notified[e.Type]
	if !ok || !mandates.IsID(e.PersonID) {
		return nil
	}
	out := []Addressee{{ID: e.PersonID, Kind: ToPerson, Role: RolePerson}}
	add := func(holder mandates.Representative, role Role) {
		a := Addressee{ID: holder.PersonID, Kind: ToPerson, Role: role}
		if holder.IsOrganisation() {
			a = Addressee{ID: holder.OrganisationID, Kind: ToOrganisation, Role: role}
		}
		if !mandates.IsID(a.ID) || a.ID == e.ActorID || a.ID == e.OrganisationID {
			return
		}
		for _, o := range out {
			if o.ID == a.ID {
				return
			}
		}
		out = append(out, a)
	}
	r := f.Representation
	if r == nil || r.PersonID != e.PersonID {
		return out
	}
	if rule.representative || rule.agreement {
		role := RoleRepresentative
		if rule.agreement {
			role = RoleAgreement
		}
		add(r.Representative, role)
	}
	if rule.measure && f.Measure != nil && f.Measure.PersonID == e.PersonID {
		add(f.Measure.Representative, RoleMeasure)
	}
	return out
}

// dataOf is what a notice of e keeps to be put in words later: ids and
// codes of the event, never a free text (a reason, a description).
func dataOf(e mandates.Event, r *mandates.Representation, role Role) map[string]string {
	d := map[string]string{"recipient_role": string(role), "event_at": e.At.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("representation_id", e.RepresentationID)
	set("actor_id", e.ActorID)
	set("organisation_id", e.OrganisationID)
	set("client_id", e.ClientID)
	if r != nil {
		set("representation_kind", string(r.Kind))
		set("status", string(r.Status))
	}
	for _, k := range []string{"cosignature_id", "action", "measure_id", "role", "rule", "by", "area", "replaced_by", "valid_until", "channel", "until", "ends_on", "site_name"} {
		set(k, e.Detail[k])
	}
	if len(e.Areas) == 1 {
		set("area", string(e.Areas[0]))
	}
	return d
}
