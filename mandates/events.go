package mandates

import (
	"context"
	"time"
)

// EventType names a change to a representation, an organisation or a
// consent. The journal records each one.
type EventType string

const (
	EventCreated          EventType = "representation.created"
	EventConsentGiven     EventType = "representation.consent_given"
	EventConsentCodeSent  EventType = "representation.consent_code_sent"
	EventConsentCodeWrong EventType = "representation.consent_code_wrong"
	EventActivated        EventType = "representation.activated"
	EventSuspended        EventType = "representation.suspended"
	EventResumed          EventType = "representation.resumed"
	EventRevoked          EventType = "representation.revoked"   // by an operator, or a cancelled request
	EventWithdrawn        EventType = "representation.withdrawn" // by the represented person
	EventAreaWithdrawn    EventType = "representation.area_withdrawn"
	// EventUpdated: a representation was corrected (an operator's
	// correction of a measure, CorrectMeasure). Detail: fields (the
	// fields changed, space-separated), reason, and replaced_by (the
	// representation that replaces it, when the correction named another
	// representative; that one's EventCreated names it in replaces).
	EventUpdated          EventType = "representation.updated"
	EventDelegatesChanged EventType = "representation.delegates_changed"
	EventAccepted         EventType = "representation.accepted" // a proxy, by the trusted person
	EventDeclined         EventType = "representation.declined"
	// EventAgreed: the representative under the person's measure agreed
	// to a mandate or a proxy the person gave (curatelle renforcée).
	// Detail: measure_id, role.
	EventAgreed EventType = "representation.agreed"
	// EventRefused: a request about a mandate or a proxy was refused and
	// nothing changed. Detail: reason (representative_gives, duplicate),
	// and existing_id for a duplicate.
	EventRefused EventType = "representation.refused"
	// EventExpired: the end date of a representation in force passed. The
	// status follows the clock at every reading; this entry records, once,
	// that it happened. Detail: valid_until (RFC 3339).
	EventExpired EventType = "representation.expired"
	// EventEndingSoon: a representation in force ends within 30 days
	// (Service.RecordEndingsSoon), recorded once per end date, by nobody.
	// Detail: ends_on (YYYY-MM-DD, the end's date in France).
	EventEndingSoon EventType = "representation.ending_soon"

	EventOrganisationCreated EventType = "organisation.created"
	EventMemberHabilitated   EventType = "organisation.member_habilitated"
	EventMemberWithdrawn     EventType = "organisation.member_withdrawn"

	// The provider's events (authz): a login, a second factor, a token
	// given to a site, a consent at a site. Detail holds ids and codes
	// only, never a token, a secret or a name.
	EventLoginSucceeded       EventType = "login.succeeded"
	EventLoginFailed          EventType = "login.failed" // a wrong password for an existing account
	EventLoggedOut            EventType = "login.logged_out"
	EventSecondFactorUsed     EventType = "second_factor.used"
	EventSecondFactorFailed   EventType = "second_factor.failed"
	EventRecoveryCodeUsed     EventType = "second_factor.recovery_code_used"
	EventSecondFactorEnrolled EventType = "second_factor.enrolled"
	EventSecondFactorDisabled EventType = "second_factor.disabled"
	EventTokenIssued          EventType = "token.issued" // code exchange or refresh: Detail grant_type, scope
	EventTokenExchanged       EventType = "token.exchanged"
	EventRefreshTokenReused   EventType = "token.refresh_reused"
	EventTokenRevoked         EventType = "token.revoked"
	EventSiteConsentGiven     EventType = "site.consent_given"
	EventSiteConsentWithdrawn EventType = "site.consent_withdrawn"
	// EventSiteFirstAct: the first token a site got for the person with
	// someone else acting (authz, FirstActStore): once per person, actor
	// and site. ActorID: who acts; RepresentationID: the representation
	// used. Detail: client_id, site_name (the site's registered name, when
	// it has one).
	EventSiteFirstAct EventType = "site.first_act"
	// EventAccessEvaluated: a site asked whether the actor may do an act
	// for the person (access evaluation) and got this answer. Detail:
	// action, decision (allowed, refused, cosign), and cosignature_id when
	// an agreement was used.
	EventAccessEvaluated EventType = "access.evaluated"
	// EventActReported: a site reports an act it completed for the person,
	// with the actor's access token, after the policy allowed it
	// (Service.ReportAct). Detail: action, label (the site's own words for
	// the act), reference (the site's, optional), cosignature_id when an
	// agreement allowed it.
	EventActReported EventType = "act.reported"

	// EventNoticeFallback: a notice Relais could not send by email or SMS
	// (refused, or still failing after its retries) will go on paper
	// instead (package notices). In the person's journal, written in the
	// transaction that marks the notice failed and writes the letter.
	// Detail: channel (the one that failed) and code (the failure's code),
	// nothing else.
	EventNoticeFallback EventType = "notice.fallback"
	// How the person receives their notices (issue 15, point 3), in the
	// person's journal. ActorID is who chose: the person, or the holder
	// of their measure of representation (RepresentationID names it).
	// EventNoticeChannelRequested: a new email address or mobile number
	// was given and a code sent to it; nothing changes yet. Detail:
	// channel (email or sms). EventNoticeChannelConfirmed: the code was
	// right, the channel counts from now; notified to the person on paper
	// always, so a taken-over account cannot divert the letters unseen.
	// Detail: channel. EventNoticePaperChosen: back to paper at once, for
	// good or until a date. Detail: until (YYYY-MM-DD) when set.
	// Never the address or the number: the journal outlives them.
	EventNoticeChannelRequested EventType = "notice.channel_requested"
	EventNoticeChannelConfirmed EventType = "notice.channel_confirmed"
	EventNoticePaperChosen      EventType = "notice.paper_chosen"
	// EventNoticeResent: an operator sent a notice again (a letter lost
	// in the post). In the person's journal; ActorID is the operator.
	// Detail: notice (the new notice's id), resent_of (the notice sent
	// again) and channel, nothing else (Service.NoticesAccess).
	EventNoticeResent EventType = "notice.resent"

	// Accounts (issue 16). EventAccountOpened: an account was opened;
	// ActorID is the operator or aidant, empty for a self sign-up; Detail
	// by: desk, import, franceconnect, cli or api.
	EventAccountOpened EventType = "account.opened"
	// EventActivationSent: an activation code was written to the person
	// (a letter by default).
	EventActivationSent EventType = "account.activation_sent"
	// EventAccountActivated: a password was set with the activation code,
	// or FranceConnect was linked instead.
	EventAccountActivated EventType = "account.activated"
	// EventPasswordResetRequested: « mot de passe oublié » sent a code.
	EventPasswordResetRequested EventType = "password.reset_requested"
	// EventPasswordReset: a new password was set; Detail by: code or
	// franceconnect.
	EventPasswordReset EventType = "password.reset"
	// EventSecondFactorReset: an operator removed a lost second factor
	// after checking the person's identity at a desk.
	EventSecondFactorReset EventType = "second_factor.reset"
	// Logins through an upstream provider; Detail provider: franceconnect or
	// proconnect. EventUpstreamRefused's Detail reason: ambiguous, no_match,
	// forged, expired, replayed, state, nonce, issuer, unavailable or
	// not_member.
	EventUpstreamLinked   EventType = "login.upstream_linked"
	EventUpstreamUnlinked EventType = "login.upstream_unlinked"
	EventUpstreamRefused  EventType = "login.upstream_refused"

	// Administrative events, in the journal's admin chain.
	EventClientCreated EventType = "client.created"
	EventClientDeleted EventType = "client.deleted"
	EventKeyRotated    EventType = "key.rotated"
)

// EventTypes lists every event type, for the pages that put each one in
// words.
var EventTypes = []EventType{
	EventCreated, EventConsentGiven, EventConsentCodeSent, EventConsentCodeWrong, EventActivated, EventSuspended,
	EventResumed, EventRevoked, EventWithdrawn, EventAreaWithdrawn, EventUpdated, EventDelegatesChanged, EventAccepted,
	EventDeclined, EventAgreed, EventRefused, EventExpired, EventEndingSoon, EventOrganisationCreated, EventMemberHabilitated, EventMemberWithdrawn,
	EventLoginSucceeded, EventLoginFailed, EventLoggedOut, EventSecondFactorUsed, EventSecondFactorFailed,
	EventRecoveryCodeUsed, EventSecondFactorEnrolled, EventSecondFactorDisabled, EventTokenIssued, EventTokenExchanged,
	EventRefreshTokenReused, EventTokenRevoked, EventSiteConsentGiven, EventSiteConsentWithdrawn, EventSiteFirstAct, EventAccessEvaluated, EventActReported,
	EventCosignRequested, EventCosignApproved, EventCosignRefused, EventCosignUsed, EventNoticeFallback, EventNoticeResent,
	EventNoticeChannelRequested, EventNoticeChannelConfirmed, EventNoticePaperChosen,
	EventAccountOpened, EventActivationSent, EventAccountActivated, EventPasswordResetRequested, EventPasswordReset,
	EventSecondFactorReset, EventUpstreamLinked, EventUpstreamUnlinked, EventUpstreamRefused,
	EventClientCreated, EventClientDeleted, EventKeyRotated,
}

// Change is one entry of a representation's history.
type Change struct {
	Seq            int64 // 1 for the creation, then one more each change
	At             time.Time
	ActorID        string // who made the change
	OrganisationID string // the organisation the actor acted for, if any
	Type           EventType
	From, To       Status            // the stored status before and after
	Detail         map[string]string // what changed, in ids and codes only
}

// Event is a domain event: what the journal records. PersonID is the
// person whose journal it belongs to.
type Event struct {
	Type             EventType
	At               time.Time
	ActorID          string
	OrganisationID   string
	PersonID         string
	RepresentationID string
	ClientID         string // the relying party the act was for, if any
	Areas            []Area
	Detail           map[string]string
}

// EventSink receives domain events inside the transaction of the change
// they describe, so the change and its event commit together or neither
// does. The journal implements it.
type EventSink interface {
	Emit(ctx context.Context, e Event) error
}

// EventRecorder records an event that belongs to no change's
// transaction: an access evaluation changes nothing stored, its entry is
// its only write. When Record returns nil, the event is stored.
type EventRecorder interface {
	Record(ctx context.Context, e Event) error
}

// eventOf turns a history entry into the event the journal records.
func eventOf(r *Representation, c Change) Event {
	return Event{Type: c.Type, At: c.At, ActorID: c.ActorID, OrganisationID: c.OrganisationID, PersonID: r.PersonID,
		RepresentationID: r.ID, Areas: r.Areas, Detail: c.Detail}
}
