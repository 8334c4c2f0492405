package authz

import "context"

// VerifyAccessToken is the access tokens' direct verification, for the
// signer's tests in package authz_test.
func VerifyAccessToken(s *Signer, ctx context.Context, token string) error {
	_, err := s.verifyAccessToken(ctx, token)
	return err
}
