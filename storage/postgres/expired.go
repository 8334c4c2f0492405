package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ mandates.ExpiredStore = (*Store)(nil)

// expiredTables says, for each kind, the table and the condition on $1
// (the cut-off) that make a row deletable; the indexes of migrations
// 00037 and earlier serve each condition.
var expiredTables = map[mandates.ExpiredKind]struct{ table, where string }{
	mandates.ExpiredSessions:       {"browser_sessions", "expires_at <= $1"},
	mandates.ExpiredPendingLogins:  {"pending_logins", "expires_at <= $1"},
	mandates.ExpiredUpstreamLogins: {"upstream_logins", "expires_at <= $1"},
	mandates.ExpiredAccountCodes:   {"account_codes", "expires_at <= $1"},
	mandates.ExpiredLoginAttempts:  {"login_attempts", "window_start <= $1"},
	mandates.ExpiredCodes: {"oauth_tokens", "kind IN ('" + string(oauth.KindAuthorizeCode) + "', '" + string(oauth.KindPKCE) + "', '" +
		string(oauth.KindOpenIDConnect) + "', '" + string(oauth.KindPAR) + "') AND expires_at <= $1"},
	mandates.ExpiredAccessTokens:  {"oauth_tokens", "kind = '" + string(oauth.KindAccessToken) + "' AND expires_at <= $1"},
	mandates.ExpiredRefreshTokens: {"oauth_tokens", "kind = '" + string(oauth.KindRefreshToken) + "' AND expires_at <= $1"},
	mandates.ExpiredJTIs:          {"oauth_jtis", "expires_at <= $1"},
	mandates.ExpiredDPoPProofs:    {"dpop_proofs", "expires_at <= $1"},
	mandates.ExpiredConsentCodes:  {"consent_codes", "expires_at <= $1"},
	mandates.ExpiredCosignatures:  {"cosignatures", "status = '" + string(mandates.CosignPending) + "' AND expires_at <= $1"},
	mandates.ExpiredWriteKeys:     {"write_keys", "written_at <= $1"},
}

// DeleteExpired implements mandates.ExpiredStore: one statement, which
// locks the rows it picks and skips those another transaction holds (a
// token being rotated), so it never waits on a login.
func (s *Store) DeleteExpired(ctx context.Context, kind mandates.ExpiredKind, before time.Time, limit int) (int, error) {
	if err := mandates.CheckExpiredRequest(kind, limit); err != nil {
		return 0, fmt.Errorf("delete expired %s: %w", kind, err)
	}
	t := expiredTables[kind]
	var n int
	err := s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, deleteExpiredSQL(t.table, t.where), before.UTC(), limit)
		if err != nil {
			return fmt.Errorf("delete expired %s: %w", kind, mapErr(err, ""))
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}

// deleteExpiredSQL deletes at most $2 rows of table that match where: the
// rows are found by where's index, then deleted by their ctid.
func deleteExpiredSQL(table, where string) string {
	return `DELETE FROM ` + table + ` WHERE ctid = ANY(ARRAY(
		SELECT ctid FROM ` + table + ` WHERE ` + where + ` LIMIT $2 FOR UPDATE SKIP LOCKED))`
}
