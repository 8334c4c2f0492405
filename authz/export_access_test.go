package authz

// VerifyAccessToken is the access tokens' direct verification, for the
// signer's tests in package authz_test.
var VerifyAccessToken = (*Signer).verifyAccessToken
