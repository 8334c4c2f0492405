package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ mandates.ExpiredStore = (*Store)(nil)

// expiredTables says, for each kind, the table and the condition on the
// first parameter (the cut-off, Unix ms) that make a row deletable; the
// indexes of migrations 00037 and earlier serve each condition.
var expiredTables = map[mandates.ExpiredKind]struct{ table, where string }{
	mandates.ExpiredSessions:       {"browser_sessions", "expires_at <= ?"},
	mandates.ExpiredPendingLogins:  {"pending_logins", "expires_at <= ?"},
	mandates.ExpiredUpstreamLogins: {"upstream_logins", "expires_at <= ?"},
	mandates.ExpiredAccountCodes:   {"account_codes", "expires_at <= ?"},
	mandates.ExpiredLoginAttempts:  {"login_attempts", "window_start <= ?"},
	mandates.ExpiredCodes: {"oauth_tokens", "kind IN ('" + string(oauth.KindAuthorizeCode) + "', '" + string(oauth.KindPKCE) + "', '" +
		string(oauth.KindOpenIDConnect) + "', '" + string(oauth.KindPAR) + "') AND expires_at <= ?"},
	mandates.ExpiredAccessTokens:  {"oauth_tokens", "kind = '" + string(oauth.KindAccessToken) + "' AND expires_at <= ?"},
	mandates.ExpiredRefreshTokens: {"oauth_tokens", "kind = '" + string(oauth.KindRefreshToken) + "' AND expires_at <= ?"},
	mandates.ExpiredJTIs:          {"oauth_jtis", "expires_at <= ?"},
	mandates.ExpiredDPoPProofs:    {"dpop_proofs", "expires_at <= ?"},
	mandates.ExpiredConsentCodes:  {"consent_codes", "expires_at <= ?"},
	mandates.ExpiredCosignatures:  {"cosignatures", "status = '" + string(mandates.CosignPending) + "' AND expires_at <= ?"},
}

// DeleteExpired implements mandates.ExpiredStore: one short write
// transaction per call, so a batch holds the database's single writer
// only briefly.
func (s *Store) DeleteExpired(ctx context.Context, kind mandates.ExpiredKind, before time.Time, limit int) (int, error) {
	if err := mandates.CheckExpiredRequest(kind, limit); err != nil {
		return 0, fmt.Errorf("delete expired %s: %w", kind, err)
	}
	if kind == mandates.ExpiredWriteKeys {
		return 0, nil // one process and no failover: no write keys here
	}
	t := expiredTables[kind]
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, deleteExpiredSQL(t.table, t.where), ms(before), limit)
		if err != nil {
			return fmt.Errorf("delete expired %s: %w", kind, mapErr(err, ""))
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// deleteExpiredSQL deletes at most limit rows of table that match where:
// the rows are found by where's index, then deleted by their rowid (none
// of these tables is WITHOUT ROWID).
func deleteExpiredSQL(table, where string) string {
	return `DELETE FROM ` + table + ` WHERE rowid IN (SELECT rowid FROM ` + table + ` WHERE ` + where + ` LIMIT ?)`
}
