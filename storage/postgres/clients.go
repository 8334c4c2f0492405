package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

const clientColumns = `id, name, redirect_uris, scopes, grant_types, sector_identifier, secret_hash,
	post_logout_redirect_uris, token_endpoint_auth_method, jwks, jwks_uri, subject_type,
	id_token_signed_response_alg, userinfo_signed_response_alg, created_at, updated_at, version, procedure_areas, exchange_audiences,
	require_signed_request_object, dpop_bound_access_tokens, id_token_encrypted_response_alg, id_token_encrypted_response_enc,
	userinfo_encrypted_response_alg, userinfo_encrypted_response_enc`

func scanClient(row interface{ Scan(...any) error }) (oauth.Client, error) {
	var c oauth.Client
	if err := row.Scan(&c.ID, &c.Name, &c.RedirectURIs, &c.Scopes, &c.GrantTypes, &c.SectorIdentifier, &c.SecretHash,
		&c.PostLogoutRedirectURIs, &c.TokenEndpointAuthMethod, &c.JWKS, &c.JWKSURI, &c.SubjectType,
		&c.IDTokenSignedResponseAlg, &c.UserinfoSignedResponseAlg, &c.CreatedAt, &c.UpdatedAt, &c.Version, &c.ProcedureAreas, &c.ExchangeAudiences,
		&c.RequireSignedRequestObject, &c.DPoPBoundAccessTokens, &c.IDTokenEncryptedResponseAlg, &c.IDTokenEncryptedResponseEnc,
		&c.UserinfoEncryptedResponseAlg, &c.UserinfoEncryptedResponseEnc); err != nil {
		return c, mapErr(err, "client")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// CreateClient implements oauth.ClientStore.
func (s *Store) CreateClient(ctx context.Context, c oauth.Client) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1, $16, $17, $18, $19, $20, $21, $22, $23)`,
			c.ID, c.Name, list(c.RedirectURIs), list(c.Scopes), list(c.GrantTypes), c.SectorIdentifier, c.SecretHash,
			list(c.PostLogoutRedirectURIs), c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI, c.SubjectType,
			c.IDTokenSignedResponseAlg, c.UserinfoSignedResponseAlg, now, list(c.ProcedureAreas), list(c.ExchangeAudiences),
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
	c, err := scanClient(s.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return c, fmt.Errorf("client %s: %w", id, err)
	}
	return c, nil
}

// Clients implements oauth.ClientStore, ordered by id.
func (s *Store) Clients(ctx context.Context) ([]oauth.Client, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err, "client"))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (oauth.Client, error) { return scanClient(r) })
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err, "client"))
	}
	return out, nil
}

// UpdateClient implements oauth.ClientStore.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(*oauth.Client) error) (oauth.Client, error) {
	var out oauth.Client
	err := s.write(ctx, func(q querier) error {
		old, err := scanClient(q.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, err)
		}
		c, err := oauth.ApplyClientUpdate(old, fn, s.now())
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, err)
		}
		tag, err := q.Exec(ctx, `UPDATE clients SET name = $1, redirect_uris = $2, scopes = $3, grant_types = $4,
			sector_identifier = $5, secret_hash = $6, post_logout_redirect_uris = $7, token_endpoint_auth_method = $8,
			jwks = $9, jwks_uri = $10, subject_type = $11, id_token_signed_response_alg = $12,
			userinfo_signed_response_alg = $13, updated_at = $14, version = $15, procedure_areas = $18, exchange_audiences = $19,
			require_signed_request_object = $20, dpop_bound_access_tokens = $21, id_token_encrypted_response_alg = $22,
			id_token_encrypted_response_enc = $23, userinfo_encrypted_response_alg = $24, userinfo_encrypted_response_enc = $25
			WHERE id = $16 AND version = $17`,
			c.Name, list(c.RedirectURIs), list(c.Scopes), list(c.GrantTypes), c.SectorIdentifier, c.SecretHash,
			list(c.PostLogoutRedirectURIs), c.TokenEndpointAuthMethod, c.JWKS, c.JWKSURI, c.SubjectType,
			c.IDTokenSignedResponseAlg, c.UserinfoSignedResponseAlg, c.UpdatedAt, c.Version, id, old.Version, list(c.ProcedureAreas), list(c.ExchangeAudiences),
			c.RequireSignedRequestObject, c.DPoPBoundAccessTokens, c.IDTokenEncryptedResponseAlg, c.IDTokenEncryptedResponseEnc,
			c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc)
		if err != nil {
			return fmt.Errorf("update client %s: %w", id, mapErr(err, "client"))
		}
		if tag.RowsAffected() != 1 {
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
		tag, err := q.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete client %s: %w", id, mapErr(err, "client"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete client %s: %w", id, mandates.ErrNotFound)
		}
		return nil
	})
}
