package authz

import "strings"

// A stored request (encodeRequest) is JSON of about 1,300 bytes, more than
// half of it the same names and zero values in every record. It is kept
// compact: each of the fragments below is written as one byte from 0x01
// to 0x1F, which JSON never holds raw (RFC 8259 §7: control characters are
// escaped), so expanding it gives back the very same JSON. A token's
// record shrinks to about 530 bytes, which the store writes, indexes and
// reads back at every introspection.
//
// Records written with this table are read with it: never change or
// reorder an entry; a new one may be appended while there are fewer than
// 31. A record that begins with '{' is JSON as it was stored before.
var compactFragments = [...]string{
	`{"id":"`,
	`","requested_at":"`,
	`","client_id":"`,
	`","requested_scope":`,
	`,"granted_scope":`,
	`,"requested_audience":null,"granted_audience":`,
	`,"form":{`,
	`"grant_type":["`,
	`"]},"session":{"id_token_claims":{"jti":"","iss":"`,
	`","sub":"`,
	`","aud":null,"nonce":"","exp":"0001-01-01T00:00:00Z","iat":"0001-01-01T00:00:00Z","rat":"`,
	`","auth_time":"`,
	`","at_hash":"","acr":"`,
	`","amr":`,
	`,"c_hash":"","ext":{}},"headers":{"extra":{}},"expires_at":{`,
	`"access_token":"`,
	`","authorize_code":"`,
	`","refresh_token":"`,
	`"},"username":"","subject":"`,
	`","access_claims":{"Subject":"`,
	`","Issuer":"`,
	`","Audience":`,
	`,"JTI":"","IssuedAt":"`,
	`","NotBefore":"0001-01-01T00:00:00Z","ExpiresAt":"`,
	`","Scope":`,
	`,"Extra":{`,
	`"client_id":"`,
	`},"ScopeField":2},"access_header":{"extra":{"typ":"at+jwt"}},"person_id":"`,
	`0001-01-01T00:00:00Z`,
	`["openid","offline_access"]`,
	`"amr":["pwd"]`,
}

// compacter writes each fragment as its byte; at each place the first
// fragment in the table that matches is taken.
var compacter = func() *strings.Replacer {
	pairs := make([]string, 0, 2*len(compactFragments))
	for i, f := range compactFragments {
		pairs = append(pairs, f, string(rune(i+1)))
	}
	return strings.NewReplacer(pairs...)
}()

// compactRequest compacts encodeRequest's JSON. What does not begin with
// the first fragment, or holds a raw control byte, is kept as it is.
func compactRequest(js []byte) []byte {
	if !strings.HasPrefix(string(js), compactFragments[0]) {
		return js
	}
	for _, b := range js {
		if b < 0x20 {
			return js
		}
	}
	return []byte(compacter.Replace(string(js)))
}

// expandRequest gives back the JSON of a stored request, compact or not.
func expandRequest(raw []byte) []byte {
	if len(raw) == 0 || raw[0] >= 0x20 {
		return raw
	}
	out := make([]byte, 0, 3*len(raw))
	for _, b := range raw {
		if b >= 1 && int(b) <= len(compactFragments) {
			out = append(out, compactFragments[b-1]...)
			continue
		}
		out = append(out, b)
	}
	return out
}
