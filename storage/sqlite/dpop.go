package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

var _ oauth.ProofStore = (*Store)(nil)

// UseDPoPProof implements oauth.ProofStore: an expired record of the same
// id is replaced, a live one is a replay.
func (s *Store) UseDPoPProof(ctx context.Context, id string, expiresAt, now time.Time) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `INSERT INTO dpop_proofs (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE dpop_proofs.expires_at <= ?`, id, ms(expiresAt), ms(now))
		if err != nil {
			return fmt.Errorf("use DPoP proof: %w", mapErr(err, "dpop proof"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("use DPoP proof: %w", &mandates.UniqueError{Entity: "dpop proof", Field: "jti"})
		}
		return nil
	})
}
