package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

const clientColumns = `id, name, redirect_uris, scopes, grant_types, sector_identifier, secret_hash,
	post_logout_redirect_uris, token_endpoint_auth_method, jwks, jwks_uri, subject_type,
	id_token_signed_response_alg, userinfo_signed_response_alg, created_at, updated_at, version, procedure_areas, exchange_audiences,
	require_signed_request_object, dpop_bound_access_tokens, id_token_encrypted_response_alg, id_token_encrypted_response_enc,
	userinfo_encrypted_response_alg, userinfo_encrypted_response_enc`

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

func scanClient(row interface{ Scan(...any) error }) (oauth.Client, error) {
	var c oauth.Client
	var uris, scopes, grants, logoutURIs, areas, audiences string
	var created, updated int64
	if err := row.Scan(&c.ID, &c.Name, &uris, &scopes, &grants, &c.SectorIdentifier, &c.SecretHash,
		&logoutURIs, &c.TokenEndpointAuthMethod, &c.JWKS, &c.JWKSURI, &c.SubjectType,
		&c.IDTokenSignedResponseAlg, &c.UserinfoSignedResponseAlg, &created, &updated, &c.Version, &areas, &audiences, &c.RequireSignedRequestObject,
		&c.DPoPBoundAccessTokens, &c.IDTokenEncryptedResponseAlg, &c.IDTokenEncryptedResponseEnc,
		&c.UserinfoEncryptedResponseAlg, &c.UserinfoEncryptedResponseEnc); err != nil {
		return c, mapErr(err, "client")
	}
	for _, f := range []struct {
		raw string
		dst *[]string
	}{{uris, &c.RedirectURIs}, {scopes, &c.Scopes}, {grants, &c.GrantTypes}, {logoutURIs, &c.PostLogoutRedirectURIs}, {areas, &c.ProcedureAreas}, {audiences, &c.ExchangeAudiences}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return c, fmt.Errorf("client %s: stored list %q: %w", c.ID, f.raw, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// CreateClient implements oauth.ClientStore.
func (s *Store) CreateClient(ctx context.Context, c oauth.Client) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	now := ms(s.now())
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, jsonList(c.RedirectURIs), jsonList(c.Scopes), jsonList(c.GrantTypes), c.SectorIdentifier, c.SecretHash,
			jsonList(c.PostLogoutRedirectURIs), c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI, c.SubjectType,
			c.IDTokenSignedResponseAlg, c.UserinfoSignedResponseAlg, now, now, jsonList(c.ProcedureAreas), jsonList(c.ExchangeAudiences),
			c.RequireSignedRequestObject, c.DPoPBoundAccessTokens, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc,
			c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc)
		if err != nil {
			return fmt.Errorf("create client %s: %w", c.ID, mapErr(err, "client"))
		}
		return nil
	})
}

// Client implements oauth.ClientStore.
func (s *Store) Client(ctx context.Context, id string) (oauth.Client, error) {
	rows, err := s.queryHot(ctx, &s.hot.client, id)
	if err != nil {
		return oauth.Client{}, fmt.Errorf("client %s: %w", id, mapErr(err, "client"))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return oauth.Client{}, fmt.Errorf("client %s: %w", id, mapErr(err, "client"))
		}
		return oauth.Client{}, fmt.Errorf("client %s: %w", id, mandates.ErrNotFound)
	}
	c, err := scanClient(rows)
	if err != nil {
		return c, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}

// Clients implements oauth.ClientStore, ordered by id.
func (s *Store) Clients(ctx context.Context) ([]oauth.Client, error) {
	rows, err := s.reader(ctx).QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err, "client"))
	}
	defer rows.Close()
	var out []oauth.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err, "client"))
	}
	return out, nil
}

// UpdateClient implements oauth.ClientStore.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*oauth.Client) error) (oauth.Client, error) {
	var out oauth.Client
	err := s.write(ctx, func(q querier) error {
		old, err := scanClient(q.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, err)
		}
		c, err := oauth.ApplyClientUpdate(old, fn, s.now().Truncate(time.Millisecond))
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, err)
		}
		res, err := q.ExecContext(ctx, `UPDATE clients SET name = ?, redirect_uris = ?, scopes = ?, grant_types = ?,
			sector_identifier = ?, secret_hash = ?, post_logout_redirect_uris = ?, token_endpoint_auth_method = ?,
			jwks = ?, jwks_uri = ?, subject_type = ?, id_token_signed_response_alg = ?, userinfo_signed_response_alg = ?,
			updated_at = ?, version = ?, procedure_areas = ?, exchange_audiences = ?,
			require_signed_request_object = ?, dpop_bound_access_tokens = ?, id_token_encrypted_response_alg = ?,
			id_token_encrypted_response_enc = ?, userinfo_encrypted_response_alg = ?, userinfo_encrypted_response_enc = ?
			WHERE id = ? AND version = ?`,
			c.Name, jsonList(c.RedirectURIs), jsonList(c.Scopes), jsonList(c.GrantTypes), c.SectorIdentifier, c.SecretHash,
			jsonList(c.PostLogoutRedirectURIs), c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI, c.SubjectType,
			c.IDTokenSignedResponseAlg, c.UserinfoSignedResponseAlg, ms(c.UpdatedAt), c.Version, jsonList(c.ProcedureAreas), jsonList(c.ExchangeAudiences),
			c.RequireSignedRequestObject, c.DPoPBoundAccessTokens, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc,
			c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc, id, old.Version)
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, mapErr(err, "client"))
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("update client %s: %w", id, mandates.ErrConflict)
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteClient implements oauth.ClientStore.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete client %s: %w", id, mapErr(err, "client"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete client %s: %w", id, mandates.ErrNotFound)
		}
		return nil
	})
}
