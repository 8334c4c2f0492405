package oauth

import (
	"context"
	"time"
)

// ProofStore records the DPoP proofs used, so that a replayed proof is
// refused by every instance (RFC 9449 §11.1).
type ProofStore interface {
	// UseDPoPProof records a proof id until expiresAt;
	// mandates.ErrAlreadyExists when it is recorded and not expired at now.
	UseDPoPProof(ctx context.Context, id string, expiresAt, now time.Time) error
}
