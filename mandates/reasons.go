package mandates

// ReasonCode names why the policy answered as it did. The domain keeps
// codes, not sentences: the package locales words each code in French and
// English, so pages, the AuthZEN API and commands say it the same way.
type ReasonCode string

const (
	ReasonPersonalSelf        ReasonCode = "personal_self"        // a personal act, done by the person
	ReasonSelfFree            ReasonCode = "self_free"            // no measure over the person
	ReasonSelfAllowed         ReasonCode = "self_allowed"         // Kind leaves the person this act
	ReasonSelfCosign          ReasonCode = "self_cosign"          // Kind asks Role's agreement
	ReasonSelfNo              ReasonCode = "self_no"              // under Kind, Role does this act
	ReasonPersonalOnly        ReasonCode = "personal_only"        // a personal act, never a representative's
	ReasonNothing             ReasonCode = "nothing"              // no representation of the person
	ReasonAllowed             ReasonCode = "allowed"              // Kind lets Role do this act
	ReasonCosign              ReasonCode = "cosign"               // Kind also asks the person's agreement
	ReasonProxyNotGranted     ReasonCode = "proxy_not_granted"    // the proxy does not give this action
	ReasonNotAllowed          ReasonCode = "not_allowed"          // Kind does not let Role do this act
	ReasonAreaNotCovered      ReasonCode = "area_not_covered"     // Kind does not cover the area
	ReasonOrganisationArea    ReasonCode = "organisation_area"    // the organisation does not act in the area
	ReasonMembershipWithdrawn ReasonCode = "membership_withdrawn" // the organisation withdrew the member
	ReasonNotDelegate         ReasonCode = "not_delegate"         // the member is not named for the case
	ReasonSecondFactor        ReasonCode = "second_factor"        // a professional act needs a second factor
	ReasonExpired             ReasonCode = "expired"              // Kind's end date has passed
	ReasonRevoked             ReasonCode = "revoked"              // Kind was stopped
	ReasonSuspended           ReasonCode = "suspended"            // Kind is paused
	ReasonPendingConsent      ReasonCode = "pending_consent"      // Kind waits for agreement
	ReasonNotYet              ReasonCode = "not_yet"              // Kind is not in force yet
	ReasonBasisEnded          ReasonCode = "basis_ended"          // MeasureKind, under which Kind was given, ended
	ReasonMeasureCosign       ReasonCode = "measure_cosign"       // MeasureKind asks MeasureRole's agreement too
	ReasonMeasureGiver        ReasonCode = "measure_giver"        // under MeasureKind, MeasureRole gives Kind
	ReasonMeasureNo           ReasonCode = "measure_no"           // under MeasureKind, Kind does not allow the act
	ReasonCosignPending       ReasonCode = "cosign_pending"       // the agreement was not given yet
	ReasonCosignRefused       ReasonCode = "cosign_refused"       // the agreement was refused
	ReasonCosignUsed          ReasonCode = "cosign_used"          // the agreement was already used
	ReasonCosignExpired       ReasonCode = "cosign_expired"       // the agreement is no longer valid
	ReasonCosignOtherAct      ReasonCode = "cosign_other_act"     // the agreement was for another act
	ReasonCosignGiven         ReasonCode = "cosign_given"         // Party's agreement made the act allowed
)

// ReasonCodes lists every reason code, so that a code without words in
// the catalogues fails a test.
var ReasonCodes = []ReasonCode{
	ReasonPersonalSelf, ReasonSelfFree, ReasonSelfAllowed, ReasonSelfCosign, ReasonSelfNo,
	ReasonPersonalOnly, ReasonNothing, ReasonAllowed, ReasonCosign, ReasonProxyNotGranted, ReasonNotAllowed,
	ReasonAreaNotCovered, ReasonOrganisationArea, ReasonMembershipWithdrawn, ReasonNotDelegate, ReasonSecondFactor,
	ReasonExpired, ReasonRevoked, ReasonSuspended, ReasonPendingConsent, ReasonNotYet,
	ReasonBasisEnded, ReasonMeasureCosign, ReasonMeasureGiver, ReasonMeasureNo,
	ReasonCosignPending, ReasonCosignRefused, ReasonCosignUsed, ReasonCosignExpired, ReasonCosignOtherAct, ReasonCosignGiven,
}

// Reason is why an answer is what it is: a code and what its sentence
// names. The zero Reason is no reason.
type Reason struct {
	Code ReasonCode
	// Kind and Role are the representation's kind and its
	// representative's role.
	Kind Kind
	Role Role
	// MeasureKind and MeasureRole are the measure that limits the
	// representation or under which it was given.
	MeasureKind Kind
	MeasureRole Role
	// Party is whose agreement a co-signature carried.
	Party Party
	// Judge: the court decision changed the default policy here.
	Judge bool
}
