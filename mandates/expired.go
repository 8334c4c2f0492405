package mandates

import (
	"context"
	"time"
)

// ExpiredKind names one kind of short-lived record that a store deletes
// once it can no longer be used: the cleanup job of relais serve deletes
// each kind in turn, in bounded batches, and counts them by this name.
type ExpiredKind string

const (
	ExpiredSessions       ExpiredKind = "sessions"        // browser sessions past expires_at
	ExpiredPendingLogins  ExpiredKind = "pending_logins"  // logins waiting for their second factor
	ExpiredUpstreamLogins ExpiredKind = "upstream_logins" // logins on their way through FranceConnect or ProConnect
	ExpiredAccountCodes   ExpiredKind = "account_codes"   // activation and password-reset codes
	ExpiredLoginAttempts  ExpiredKind = "login_attempts"  // failed-login counters of past windows
	// ExpiredCodes are the authorization codes and what fosite keeps
	// beside them (PKCE, OpenID Connect and pushed-request sessions).
	ExpiredCodes         ExpiredKind = "codes"
	ExpiredAccessTokens  ExpiredKind = "access_tokens"
	ExpiredRefreshTokens ExpiredKind = "refresh_tokens"
	ExpiredJTIs          ExpiredKind = "jtis"        // client-assertion JWT ids recorded against replay
	ExpiredDPoPProofs    ExpiredKind = "dpop_proofs" // DPoP proof ids recorded against replay
	ExpiredConsentCodes  ExpiredKind = "consent_codes"
	// ExpiredCosignatures are co-signature requests nobody answered in
	// time. The journal names them too (cosignature.requested, and
	// access.evaluated when a site offered one), and the site that opened
	// one holds its id: the cleanup keeps them a while past their expiry,
	// and Service.Evaluate answers an id no longer stored as an expired
	// request. An answered one (approved, refused, used) stays: the
	// person's page shows it.
	ExpiredCosignatures ExpiredKind = "cosignatures"
	// ExpiredWriteKeys are the keys PostgreSQL's transactions write so
	// that a retry after a failover is not applied twice; past any retry
	// they serve nothing. The embedded store has none.
	ExpiredWriteKeys ExpiredKind = "write_keys"
)

// ExpiredKinds lists every kind, in the order the cleanup job takes them.
func ExpiredKinds() []ExpiredKind {
	return []ExpiredKind{
		ExpiredSessions, ExpiredPendingLogins, ExpiredUpstreamLogins, ExpiredAccountCodes, ExpiredLoginAttempts,
		ExpiredCodes, ExpiredAccessTokens, ExpiredRefreshTokens, ExpiredJTIs, ExpiredDPoPProofs,
		ExpiredConsentCodes, ExpiredCosignatures, ExpiredWriteKeys,
	}
}

// Valid says whether k is one of ExpiredKinds.
func (k ExpiredKind) Valid() bool {
	for _, known := range ExpiredKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// ExpiredStore deletes records that have expired. Nothing of a person's
// history is among them: representations, their history, the journal,
// notices and persons are never deleted this way.
type ExpiredStore interface {
	// DeleteExpired deletes at most limit records of kind whose end is at
	// or before before, and says how many. The end is the record's
	// expires_at, or for ExpiredLoginAttempts the start of its window and
	// for ExpiredWriteKeys the time of its write (the caller subtracts the
	// window's or the retention's length). Rotated refresh tokens and
	// used codes are ordinary records here: the caller chooses before so
	// that reuse detection keeps what it needs. An unknown kind is an
	// *InvalidError on "kind"; limit must be at least 1.
	DeleteExpired(ctx context.Context, kind ExpiredKind, before time.Time, limit int) (int, error)
}

// CheckExpiredRequest reports the first argument of DeleteExpired that
// breaks a rule, for the stores to share one answer.
func CheckExpiredRequest(kind ExpiredKind, limit int) error {
	switch {
	case !kind.Valid():
		return invalid("kind", RuleUnknown)
	case limit < 1:
		return invalid("limit", RuleFormat)
	}
	return nil
}
