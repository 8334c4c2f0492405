package authz

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// JWT-Secured Authorization Requests (RFC 9101). A site may send its
// authorization request as a request object (the request parameter, by
// value; request_uri only for Relais's own pushed requests, RFC 9126),
// signed with a key it registered for private_key_jwt. Relais verifies it
// itself, before fosite sees the request: fosite accepts alg "none", reads
// it only with scope=openid and merges the query into it.

// RequestObjectSigningAlgs are the algorithms a request object may be
// signed with; never "none" and never a MAC (RFC 9101 §10.1).
var RequestObjectSigningAlgs = []string{oauth.AlgES256, oauth.AlgRS256, "PS256"}

// requestObjectLeeway forgives a site's clock running a little ahead for
// nbf and iat; exp is not stretched.
const requestObjectLeeway = time.Minute

// requestObjectMaxLife bounds how far ahead a request object's exp may be
// (FAPI 2.0 Message Signing §5.3.2: at most 60 minutes).
const requestObjectMaxLife = 60 * time.Minute

// sealTTL bounds how long an authorization request verified from a request
// object may come back to /authorize (after login, consent) as plain
// parameters.
const sealTTL = 30 * time.Minute

// sealParam carries the seal: the parameters of a verified request object
// keep their proof when the pages send them back to /authorize, or when a
// pushed request is used.
const sealParam = "relais_request_object"

// notSealed are the parameters the seal does not cover: client
// authentication (removed before a pushed request is stored), the prompt
// values the pages take out once satisfied, ui_locales (a display
// preference the language switch rewrites, ui/ui_locales.go), and
// Relais's own additions.
func notSealed(k string) bool {
	switch k {
	case "client_secret", "client_assertion", "client_assertion_type", "request_uri", "prompt", "ui_locales":
		return true
	}
	return strings.HasPrefix(k, "relais_")
}

// claimsNotParameters are the JWT claims of a request object that are not
// authorization request parameters (RFC 9101 §4).
var claimsNotParameters = map[string]bool{"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// withRequestObject replaces r's parameters by those of its request object,
// verified, when it carries one (RFC 9101 §6.3: "the authorization server
// MUST only use the parameters in the Request Object"). authenticated lists
// the parameters of the body kept beside them (client authentication, at
// the pushed authorization endpoint). It returns whether it did.
func (p *Provider) withRequestObject(ctx context.Context, r *http.Request, authenticated ...string) (bool, error) {
	if err := r.ParseForm(); err != nil {
		return false, fosite.ErrInvalidRequest.WithHint("The request could not be read.").WithWrap(err)
	}
	if !r.Form.Has("request") {
		return false, nil
	}
	if r.Form.Has("request_uri") {
		return false, fosite.ErrInvalidRequest.WithHint("Send request or request_uri, not both (RFC 9101 §5).")
	}
	if len(r.Form["request"]) > 1 {
		return false, fosite.ErrInvalidRequest.WithHint("The parameter 'request' is included more than once.")
	}
	clientID := r.Form.Get("client_id")
	if clientID == "" {
		if id, _, ok := r.BasicAuth(); ok {
			clientID, _ = url.QueryUnescape(id) // RFC 6749 §2.3.1
		}
	}
	if clientID == "" {
		// At /par, a private_key_jwt client may name itself only in its
		// assertion (RFC 7523 §3); fosite verifies that assertion next.
		clientID = assertionSubject(r.Form.Get("client_assertion"))
	}
	if clientID == "" {
		return false, fosite.ErrInvalidRequest.WithHint("client_id is required beside a request object (RFC 9101 §5).")
	}
	c, err := p.clients.Client(ctx, clientID)
	if err != nil {
		if errors.Is(err, mandates.ErrNotFound) {
			return false, fosite.ErrInvalidClient.WithHint("The client is not registered.")
		}
		return false, err
	}
	if c.JWKS == "" && c.JWKSURI == "" {
		// RFC 9101 §6.3: a client with no key to sign with cannot send
		// request objects.
		return false, fosite.ErrRequestNotSupported.WithHint("This client has no registered keys, so it cannot sign request objects.")
	}
	params, err := p.openRequestObject(ctx, c, r.Form.Get("request"))
	if err != nil {
		return false, err
	}
	if id := params.Get("client_id"); id != "" && id != clientID {
		return false, fosite.ErrInvalidRequestObject.WithHint("The client_id of the request object differs from the request's (RFC 9101 §6.3).")
	}
	params.Set("client_id", clientID)
	params.Set(sealParam, p.sealRequest(params))
	for _, k := range authenticated {
		if v, ok := r.Form[k]; ok && k != "client_id" {
			params[k] = v
		}
	}
	r.Form, r.PostForm = params, params
	return true, nil
}

// openRequestObject verifies raw with c's keys and returns its parameters.
func (p *Provider) openRequestObject(ctx context.Context, c oauth.Client, raw string) (url.Values, error) {
	invalid := func(hint string) error { return fosite.ErrInvalidRequestObject.WithHint(hint) }
	if strings.Count(raw, ".") == 4 {
		return nil, invalid("Encrypted request objects are not supported; sign it (JWS).")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(RequestObjectSigningAlgs))
	for _, a := range RequestObjectSigningAlgs {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	obj, err := jose.ParseSigned(raw, algs)
	if err != nil || len(obj.Signatures) != 1 {
		// Unsigned, alg none, a MAC, or not a JWS at all.
		return nil, invalid("The request object must be a JWS signed with one of " + strings.Join(RequestObjectSigningAlgs, ", ") + ".")
	}
	keys, err := p.clientPublicKeys(ctx, c)
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return nil, err
		}
		return nil, fosite.ErrInvalidRequestObject.WithHint("The client's keys could not be read.").WithWrap(err)
	}
	header := obj.Signatures[0].Header
	var payload []byte
	for _, k := range keys {
		if header.KeyID != "" && k.KeyID != header.KeyID || k.Use == "enc" || k.Algorithm != "" && k.Algorithm != header.Algorithm {
			continue
		}
		if b, err := obj.Verify(k.Key); err == nil {
			payload = b
			break
		}
	}
	if payload == nil {
		return nil, invalid("The request object is not signed by a key the client registered.")
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, invalid("The request object's payload is not a JSON object.")
	}
	if err := p.checkRequestClaims(c, claims); err != nil {
		return nil, err
	}
	params := url.Values{}
	for k, v := range claims {
		if claimsNotParameters[k] {
			continue
		}
		if k == "request" || k == "request_uri" || k == sealParam {
			return nil, invalid("A request object cannot hold " + k + ".")
		}
		s, ok := parameterValue(v)
		if !ok {
			return nil, invalid("The request object's " + k + " cannot be a parameter.")
		}
		params.Set(k, s)
	}
	return params, nil
}

// checkRequestClaims applies RFC 9101 §6.3 and RFC 7519 §4.1: issued by
// the client, for this server, and, where the times are given, current.
func (p *Provider) checkRequestClaims(c oauth.Client, claims map[string]any) error {
	invalid := func(hint string) error { return fosite.ErrInvalidRequestObject.WithHint(hint) }
	if iss, _ := claims["iss"].(string); iss != c.ID {
		return invalid("The request object's iss must be the client_id.")
	}
	if !audienceHas(claims["aud"], p.cfg.Issuer) {
		return invalid("The request object's aud must name the issuer " + p.cfg.Issuer + ".")
	}
	now := p.cfg.Now()
	if _, ok := claims["exp"]; !ok {
		// A request object travels in browser addresses and logs: one
		// without an end could start flows for ever (FAPI 2.0 Message
		// Signing §5.3.2 asks for exp, as Relais does).
		return invalid("The request object must carry exp.")
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		n, isNum := v.(json.Number)
		secs, err := strconv.ParseFloat(string(n), 64)
		if !isNum || err != nil {
			return invalid("The request object's " + name + " is not a number of seconds.")
		}
		at := time.Unix(int64(secs), 0)
		switch {
		case name == "exp" && !now.Before(at):
			return invalid("The request object has expired.")
		case name == "exp" && at.After(now.Add(requestObjectMaxLife)):
			return invalid("The request object's exp is more than 60 minutes away.")
		case name != "exp" && at.After(now.Add(requestObjectLeeway)):
			return invalid(fmt.Sprintf("The request object's %s is in the future.", name))
		}
	}
	return nil
}

func audienceHas(aud any, issuer string) bool {
	switch a := aud.(type) {
	case string:
		return a == issuer
	case []any:
		return slices.ContainsFunc(a, func(v any) bool { s, _ := v.(string); return s == issuer })
	}
	return false
}

// parameterValue writes a claim as a request parameter: strings as they
// are, numbers as numbers (max_age), structured values (claims,
// authorization_details) as their JSON.
func parameterValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case []any, map[string]any:
		b, err := json.Marshal(x)
		return string(b), err == nil
	}
	return "", false
}

// sealRequest seals the parameters a verified request object gave, for
// the client they name, for sealTTL.
func (p *Provider) sealRequest(params url.Values) string {
	exp := strconv.FormatInt(p.cfg.Now().Add(sealTTL).Unix(), 10)
	return exp + "." + p.requestMAC(params, exp)
}

// fromRequestObject says whether form's parameters are those of a
// request object Relais verified (sealRequest), unchanged.
func (p *Provider) fromRequestObject(form url.Values) bool {
	exp, mac, ok := strings.Cut(form.Get(sealParam), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.requestMAC(form, exp))) {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && p.cfg.Now().Unix() <= n
}

func (p *Provider) requestMAC(form url.Values, exp string) string {
	covered := url.Values{}
	for k, v := range form {
		if !notSealed(k) {
			covered[k] = v
		}
	}
	m := hmac.New(sha256.New, p.choiceKey)
	m.Write([]byte("request-object\x00" + exp + "\x00"))
	m.Write([]byte(covered.Encode())) // sorted by key, escaped: one encoding per set
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// errorRedirectRequest is what Relais knows of an authorization request
// whose request object it refused, enough to tell the site at its
// registered redirect URI (RFC 9101 §6.3, RFC 6749 §4.1.2.1): the query,
// and of the refused object only redirect_uri, state, response_type and
// response_mode. fosite still checks that the redirect URI is registered.
func errorRedirectRequest(r *http.Request, raw string) {
	form := url.Values{}
	for k, v := range r.Form {
		if k != "request" && k != "request_uri" {
			form[k] = v
		}
	}
	if parts := strings.Split(raw, "."); len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var unverified map[string]any
			if json.Unmarshal(b, &unverified) == nil {
				for _, k := range []string{"redirect_uri", "state", "response_type", "response_mode"} {
					if s, ok := unverified[k].(string); ok && !form.Has(k) {
						form.Set(k, s)
					}
				}
			}
		}
	}
	r.Form, r.PostForm = form, url.Values{}
}

// parClientAuthentication are the body parameters that authenticate the
// client at the pushed authorization endpoint, kept beside the request
// object's parameters (RFC 9126 §3).
var parClientAuthentication = []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"}

// parseRequestObject puts a request object's verified parameters in place
// of r's. When the object is refused, it returns the request as far as
// fosite can read it without the object, so that the refusal goes to the
// site's registered redirect URI when there is one.
func (p *Provider) parseRequestObject(ctx context.Context, r *http.Request) (*AuthorizeRequest, error) {
	raw := r.FormValue("request")
	_, err := p.withRequestObject(ctx, r)
	if err == nil {
		return nil, nil
	}
	if errors.Is(err, mandates.ErrUnavailable) {
		return &AuthorizeRequest{}, err
	}
	errorRedirectRequest(r, raw)
	ar, _ := p.oauth.NewAuthorizeRequest(ctx, r)
	a := &AuthorizeRequest{ar: ar}
	if ar != nil {
		if fc, ok := ar.GetClient().(*fositeClient); ok {
			a.client = fc.c
		}
	}
	return a, protocolError(err)
}

// checkRequestObjectRequired refuses a plain request from a client that
// registered require_signed_request_object (RFC 9101 §10.5).
func (p *Provider) checkRequestObjectRequired(c oauth.Client, form url.Values) error {
	if c.RequireSignedRequestObject && !p.fromRequestObject(form) {
		return fosite.ErrInvalidRequest.WithHint("This client must send its authorization requests as signed request objects (RFC 9101 §10.5).")
	}
	return nil
}

// assertionSubject is the sub of a client assertion, unverified: it only
// says whose keys to verify the request object with, and the client the
// endpoint then authenticates must be that one.
func assertionSubject(assertion string) string {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Sub
}
