package authn

// HashPool is the pool a checks passwords in, for whatever else hashes
// passwords (a new password chosen with a reset code): one bound on the
// memory of every argon2id hash of the server.
func (a *Authenticator) HashPool() *HashPool { return a.hashes }
