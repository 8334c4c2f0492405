package authz

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// DPoP (RFC 9449): a client proves, with a JWT signed by a key it holds,
// that it sends the request; the tokens it then gets are bound to that key
// (cnf.jkt), so a stolen token is useless without the key.
//
// Relais's choices, for sites (docs/sites.md):
//   - every proof carries a server nonce (§8, §9), at the token endpoint
//     and at the resource endpoints alike: a proof cannot be made in
//     advance. A nonce is an HMAC, under the secret key, of a five-minute
//     slot, so every instance makes and accepts the same ones without
//     storing them; each is accepted in its slot and the next.
//   - a proof is fresh for DPoPProofMaxAge after its iat, and each is used
//     once: its jti is recorded in the store until it is stale (§11.1).
//   - once a grant is bound, every token request of the grant carries a
//     proof. A public client proves with the same key (its refresh token is
//     bound, §5); a confidential client, whose refresh token is bound by its
//     authentication, may move to a new key at a refresh.
//   - a token exchanged (RFC 8693) from a bound token stays bound to the
//     same key, and the exchange is proven with it.
const (
	// TokenTypeDPoP is the token_type of a bound token (RFC 9449 §5) and
	// the authorization scheme it is sent with (§7.1).
	TokenTypeDPoP = "DPoP"
	// DPoPProofMaxAge is how long after its iat a proof is accepted.
	DPoPProofMaxAge = 60 * time.Second
	// dpopClockSkew is how far ahead of ours a client's clock may run.
	dpopClockSkew = 10 * time.Second
	// dpopNonceSlot is how long one server nonce is made for.
	dpopNonceSlot = 5 * time.Minute
	// maxDPoPProofBytes bounds a proof: an RSA-4096 key and its signature
	// fit several times.
	maxDPoPProofBytes = 8 << 10
	// minDPoPRSABits: RFC 7518 §3.3 wants RSA keys of 2048 bits or more.
	minDPoPRSABits = 2048
)

// DPoPSigningAlgs are the algorithms a proof may be signed with: asymmetric
// only (RFC 9449 §4.3, check 5), advertised as
// dpop_signing_alg_values_supported.
func DPoPSigningAlgs() []string { return []string{"ES256", "PS256", "RS256", "EdDSA"} }

func dpopJoseAlgs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256, jose.EdDSA}
}

// DPoP errors (RFC 9449 §5, §7.1, §8, §9).
const (
	ErrCodeInvalidDPoPProof = "invalid_dpop_proof"
	ErrCodeUseDPoPNonce     = "use_dpop_nonce"
	ErrCodeInvalidToken     = "invalid_token"
)

// DPoPError is a request refused under RFC 9449: Code is one of the
// ErrCode* values, Description says why in words a developer reads.
type DPoPError struct {
	Code        string
	Description string
}

func (e *DPoPError) Error() string { return "dpop: " + e.Code + ": " + e.Description }

func badProof(format string, args ...any) error {
	return &DPoPError{Code: ErrCodeInvalidDPoPProof, Description: fmt.Sprintf(format, args...)}
}

// dpop checks proofs and makes nonces.
type dpop struct {
	issuer   string
	nonceKey []byte
	proofs   oauth.ProofStore
	now      func() time.Time
}

func newDPoP(issuer string, secret []byte, proofs oauth.ProofStore, now func() time.Time) *dpop {
	return &dpop{issuer: issuer, nonceKey: derive(secret, "dpop-nonce"), proofs: proofs, now: now}
}

// dpopProof is a verified proof: the thumbprint of its key.
type dpopProof struct {
	jkt string // RFC 7638 SHA-256 thumbprint, base64url (RFC 9449 §6.1)
}

// nonceAt is the server nonce of t's slot.
func (d *dpop) nonceAt(t time.Time) string {
	var slot [8]byte
	binary.BigEndian.PutUint64(slot[:], uint64(t.Unix()/int64(dpopNonceSlot/time.Second)))
	m := hmac.New(sha256.New, d.nonceKey)
	m.Write(slot[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Nonce is the nonce to give clients now (the DPoP-Nonce header).
func (d *dpop) Nonce() string { return d.nonceAt(d.now()) }

// validNonce accepts the nonce of this slot or of the previous one, so a
// nonce given just before a slot ends still works.
func (d *dpop) validNonce(n string) bool {
	now := d.now()
	for _, t := range []time.Time{now, now.Add(-dpopNonceSlot)} {
		if hmac.Equal([]byte(n), []byte(d.nonceAt(t))) {
			return true
		}
	}
	return false
}

// sameURI compares htu with the endpoint's URL as RFC 9449 §4.3 check 9
// says: without query and fragment, with RFC 3986 §6.2.2–6.2.3's
// normalisation of the scheme, the host and the default port.
func sameURI(htu, want string) bool {
	norm := func(raw string) (string, bool) {
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
			return "", false
		}
		scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			port = ""
		}
		if port != "" {
			host += ":" + port
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/"
		}
		return scheme + "://" + host + path, true
	}
	a, ok1 := norm(htu)
	b, ok2 := norm(want)
	return ok1 && ok2 && a == b
}

// accessTokenHash is RFC 9449 §4.2's ath: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// check verifies the request's DPoP proof (RFC 9449 §4.3) for the
// endpoint's URL, and, at a resource, for accessToken (ath); then records
// its jti.
// It returns nil, nil when the request carries no proof.
func (d *dpop) check(ctx context.Context, r *http.Request, endpoint, accessToken string) (*dpopProof, error) {
	values := r.Header.Values("DPoP")
	switch {
	case len(values) == 0:
		return nil, nil
	case len(values) > 1: // check 1
		return nil, badProof("Send one DPoP header, not %d.", len(values))
	case len(values[0]) > maxDPoPProofBytes:
		return nil, badProof("The DPoP proof is larger than %d KiB.", maxDPoPProofBytes>>10)
	}
	jws, err := jose.ParseSignedCompact(values[0], dpopJoseAlgs())
	if err != nil { // checks 2 and 5: a JWS, with an asymmetric algorithm
		return nil, badProof("The DPoP proof is not a compact JWS signed with one of %s.", strings.Join(DPoPSigningAlgs(), ", "))
	}
	if len(jws.Signatures) != 1 {
		return nil, badProof("The DPoP proof must carry exactly one signature.")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" { // check 4
		return nil, badProof("The DPoP proof's typ header must be dpop+jwt.")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() { // checks 3 and 7
		return nil, badProof("The DPoP proof's jwk header must be a public key, without private members.")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < minDPoPRSABits {
		return nil, badProof("The DPoP proof's RSA key must have at least %d bits.", minDPoPRSABits)
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil { // check 6
		return nil, badProof("The DPoP proof's signature does not verify with its jwk.")
	}
	var c struct {
		JTI   string      `json:"jti"`
		HTM   string      `json:"htm"`
		HTU   string      `json:"htu"`
		IAT   json.Number `json:"iat"`
		ATH   string      `json:"ath"`
		Nonce string      `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil { // check 2
		return nil, badProof("The DPoP proof's claims are not a JSON object of the expected shape.")
	}
	iat, err := c.IAT.Float64()
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, badProof("The DPoP proof needs a jti of at most 256 characters.")
	case c.HTM != r.Method: // check 8
		return nil, badProof("The DPoP proof's htm must be %s, the method of this request.", r.Method)
	case !sameURI(c.HTU, endpoint): // check 9
		return nil, badProof("The DPoP proof's htu must be %s, the URL of this endpoint without query or fragment.", endpoint)
	case err != nil || math.IsNaN(iat) || iat < 0 || iat > 1<<40: // a time, not a value that overflows a Duration
		return nil, badProof("The DPoP proof needs an iat, in seconds since the epoch.")
	}
	if accessToken != "" && !hmac.Equal([]byte(c.ATH), []byte(accessTokenHash(accessToken))) { // check 12
		return nil, badProof("The DPoP proof's ath must be the base64url SHA-256 hash of the access token.")
	}
	now := d.now()
	issued := time.Unix(int64(iat), 0)
	if issued.Before(now.Add(-DPoPProofMaxAge)) || issued.After(now.Add(dpopClockSkew)) { // check 11
		return nil, badProof("The DPoP proof's iat is not within %d seconds of this server's time: make a new proof.", int(DPoPProofMaxAge/time.Second))
	}
	if !d.validNonce(c.Nonce) { // check 10 (§8, §9)
		return nil, &DPoPError{Code: ErrCodeUseDPoPNonce, Description: "This server requires its nonce in each DPoP proof: use the DPoP-Nonce header of this answer."}
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, badProof("The DPoP proof's key has no thumbprint.")
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)
	// The key's thumbprint is part of the id, so no client can use up the
	// jti another will send.
	sum := sha256.Sum256([]byte(jkt + "\x00" + c.JTI))
	err = d.proofs.UseDPoPProof(ctx, hex.EncodeToString(sum[:]), issued.Add(DPoPProofMaxAge), now)
	if errors.Is(err, mandates.ErrAlreadyExists) {
		return nil, badProof("This DPoP proof was already used: make a new proof, with a new jti, for each request.")
	}
	if err != nil {
		return nil, fmt.Errorf("record DPoP proof: %w", err)
	}
	return &dpopProof{jkt: jkt}, nil
}

// checkResource checks the proof that comes with an access token at a
// resource endpoint (RFC 9449 §7): scheme is how the token came
// (TokenTypeDPoP or "Bearer"), bound the thumbprint the token is bound to.
func (d *dpop) checkResource(ctx context.Context, w http.ResponseWriter, r *http.Request, scheme, token, bound string) error {
	if len(r.Header.Values("DPoP")) > 0 {
		w.Header().Set("DPoP-Nonce", d.Nonce())
	}
	proof, err := d.check(ctx, r, d.issuer+r.URL.Path, token)
	if err != nil {
		return err
	}
	switch {
	case scheme != TokenTypeDPoP && bound != "":
		// §7.2: a bound token sent as a bearer token is not accepted.
		return &DPoPError{Code: ErrCodeInvalidToken, Description: "This access token is DPoP-bound: send it with the DPoP authorization scheme and a DPoP proof."}
	case scheme != TokenTypeDPoP:
		return nil
	case proof == nil:
		return badProof("The DPoP authorization scheme needs a DPoP proof in the DPoP header.")
	case bound == "":
		return &DPoPError{Code: ErrCodeInvalidToken, Description: "This access token is not DPoP-bound: send it as a Bearer token."}
	case proof.jkt != bound: // check 12
		return &DPoPError{Code: ErrCodeInvalidToken, Description: "The DPoP proof's key is not the key this access token is bound to."}
	}
	return nil
}

// accessTokenOf reads the access token of a resource request and the
// scheme it came with: DPoP (RFC 9449 §7.1), or Bearer in the header or
// the form (RFC 6750 §2).
func accessTokenOf(r *http.Request) (scheme, token string) {
	if scheme, token := dpopAuthorization(r); scheme != "" {
		return scheme, token
	}
	return "Bearer", fosite.AccessTokenFromRequest(r)
}

// bearerError is a resource request refused under RFC 6750 §3: its
// status, its WWW-Authenticate challenges and its RFC 6749 §5.2 error (no
// error_description when Description is empty).
type bearerError struct {
	Status      int
	Challenges  []string
	Code        string
	Description string
}

func (e *bearerError) Error() string { return "bearer: " + e.Code + ": " + e.Description }

// resourceHandler adapts a resource endpoint (userinfo): its error is
// answered once, by writeResourceError.
func (p *Provider) resourceHandler(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.writeResourceError(w, r, err)
		}
	}
}

// writeResourceError answers a resource request refused under RFC 6750
// §3 (bearerError) or RFC 9449 §7.1 (401 with a DPoP challenge, and the
// nonce for use_dpop_nonce); any other error is the server's.
func (p *Provider) writeResourceError(w http.ResponseWriter, r *http.Request, err error) {
	var be *bearerError
	if errors.As(err, &be) {
		for _, c := range be.Challenges {
			w.Header().Add("WWW-Authenticate", c)
		}
		body := map[string]string{"error": be.Code}
		if be.Description != "" {
			body["error_description"] = be.Description
		}
		writeJSON(w, be.Status, body)
		return
	}
	var de *DPoPError
	if !errors.As(err, &de) {
		p.serverError(w, r, err)
		return
	}
	w.Header().Set("DPoP-Nonce", p.dpop.Nonce())
	w.Header().Add("WWW-Authenticate", fmt.Sprintf(`DPoP error=%q, error_description=%q, algs="%s"`,
		de.Code, de.Description, strings.Join(DPoPSigningAlgs(), " ")))
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": de.Code, "error_description": de.Description})
}

// dpopChallenge is the challenge of a resource request without a token:
// either scheme will do.
func dpopChallenge() string {
	return fmt.Sprintf(`DPoP algs="%s"`, strings.Join(DPoPSigningAlgs(), " "))
}

// tokenProof checks the DPoP proof of a token request, if any, and gives
// the request's answer a fresh nonce (§8.2).
func (p *Provider) tokenProof(ctx context.Context, w http.ResponseWriter, r *http.Request) (*dpopProof, error) {
	if len(r.Header.Values("DPoP")) == 0 {
		return nil, nil
	}
	w.Header().Set("DPoP-Nonce", p.dpop.Nonce())
	proof, err := p.dpop.check(ctx, r, p.cfg.Issuer+"/token", "")
	return proof, tokenDPoPError(err)
}

// tokenDPoPError is a DPoP refusal as the token endpoint's RFC 6749 §5.2
// error (RFC 9449 §5, §8): 400 invalid_dpop_proof or use_dpop_nonce.
func tokenDPoPError(err error) error {
	var de *DPoPError
	if err == nil || !errors.As(err, &de) {
		return err
	}
	return &fosite.RFC6749Error{ErrorField: de.Code, DescriptionField: de.Description, CodeField: http.StatusBadRequest}
}

// bindProof binds the tokens about to be issued to the proof's key: the
// access token carries cnf.jkt (RFC 9449 §6.1) and the grant keeps the
// thumbprint, so that its refresh needs a proof too.
func bindProof(ar fosite.AccessRequester, proof *dpopProof) error {
	s, ok := ar.GetSession().(*Session)
	fc, ok2 := ar.GetClient().(*fositeClient)
	if !ok || !ok2 {
		return fosite.ErrServerError.WithHint("Unexpected session or client type.")
	}
	// A confidential client's refresh token is bound by the client's
	// authentication, not by a key, so it may move to a new key (§5).
	mayRebind := ar.GetGrantTypes().ExactOne("refresh_token") && !fc.IsPublic()
	switch {
	case proof == nil && fc.c.DPoPBoundAccessTokens:
		return tokenDPoPError(badProof("This client is registered with dpop_bound_access_tokens: send a DPoP proof with each token request."))
	case proof == nil && s.DPoPJKT != "":
		return tokenDPoPError(badProof("The tokens of this grant are DPoP-bound: send a DPoP proof with the same key."))
	case proof == nil:
		return nil
	case s.DPoPJKT != "" && s.DPoPJKT != proof.jkt && !mayRebind:
		return tokenDPoPError(badProof("The DPoP proof's key is not the key the tokens of this grant are bound to."))
	}
	s.DPoPJKT = proof.jkt
	s.AccessClaims.Extra["cnf"] = map[string]any{"jkt": proof.jkt}
	return nil
}

// dpopAuthorization is the token of an Authorization header with the DPoP
// scheme; scheme is empty for any other header.
func dpopAuthorization(r *http.Request) (scheme, token string) {
	if s, t, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(s, TokenTypeDPoP) {
		return TokenTypeDPoP, strings.TrimSpace(t)
	}
	return "", ""
}

// dpopClient authenticates a client at the access endpoints by a
// DPoP-bound access token it holds for itself (its own audience), proven
// with its key: the key was bound when the client authenticated at the
// token endpoint, so only that client can prove it. Bearer tokens are not
// taken there: a leaked one would let anyone ask about people.
func (p *Provider) dpopClient(ctx context.Context, w http.ResponseWriter, r *http.Request, token string) (oauth.Client, error) {
	_, ar, err := p.oauth.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return oauth.Client{}, fmt.Errorf("authenticate client by DPoP: %w", mandates.ErrUnavailable)
		}
		return oauth.Client{}, &DPoPError{Code: ErrCodeInvalidToken, Description: "The access token is not valid."}
	}
	sess, ok := ar.GetSession().(*Session)
	fc, ok2 := ar.GetClient().(*fositeClient)
	if !ok || !ok2 {
		return oauth.Client{}, errors.New("authz: unexpected session or client type")
	}
	if err := p.dpop.checkResource(ctx, w, r, TokenTypeDPoP, token, sess.DPoPJKT); err != nil {
		return oauth.Client{}, err
	}
	switch {
	case fc.IsPublic():
		return oauth.Client{}, &accessError{http.StatusUnauthorized, "invalid_client", "A public client cannot use this endpoint."}
	case !slices.Contains(ar.GetGrantedAudience(), fc.c.ID):
		return oauth.Client{}, &DPoPError{Code: ErrCodeInvalidToken, Description: "This access token is for another audience than its client."}
	}
	return fc.c, nil
}

// checkDPoPJKT accepts an authorization request's dpop_jkt (RFC 9449 §10):
// absent, or a SHA-256 thumbprint in base64url.
func checkDPoPJKT(jkt string) error {
	if jkt == "" {
		return nil
	}
	if b, err := base64.RawURLEncoding.DecodeString(jkt); err != nil || len(b) != sha256.Size {
		return fosite.ErrInvalidRequest.WithHint("dpop_jkt must be the base64url SHA-256 thumbprint (RFC 7638) of the client's DPoP key.")
	}
	return nil
}
