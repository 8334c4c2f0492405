package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// newClients is relais clients create|list|show|delete: how an operator
// registers the relying parties (RFC 7591 §2 metadata) a deployment serves.
func newClients(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "Register, list, show and delete relying parties (OpenID Connect clients)",
	}
	storeFlags := cmd.PersistentFlags()
	bindStoreFlags(storeFlags, &c)
	open := func(cmd *cobra.Command) (store, error) {
		// Only the store flags take RELAIS_* defaults: a client id or a
		// redirect URI left in the environment would silently register
		// the wrong client.
		if err := applyEnv(storeFlags, getenv); err != nil {
			return nil, err
		}
		if c.BusyTimeout <= 0 {
			return nil, settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
		}
		st, _, err := openStore(cmd.Context(), &c)
		return st, err
	}
	cmd.AddCommand(newClientsCreate(stdout, open), newClientsList(stdout, open), newClientsShow(stdout, open), newClientsDelete(stdout, open))
	return cmd
}

type openFunc func(cmd *cobra.Command) (store, error)

// clientFlags are the flags of relais clients create.
type clientFlags struct {
	id, name, sector                  string
	redirectURIs, logoutURIs          []string
	scopes, grantTypes                []string
	authMethod, jwksFile, jwksURI     string
	subjectType, idTokenAlg, uinfoAlg string
	areas, audiences                  []string
	requireSignedRequest              bool
	dpopBound                         bool
	// OIDC Registration §2 encryption of ID tokens and userinfo answers.
	idTokenEncAlg, idTokenEnc, uinfoEncAlg, uinfoEnc string
}

func (f *clientFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.id, "id", "", "client_id (default: a new random id)")
	fs.StringVar(&f.name, "name", "", "name people see when they sign in to the site (required)")
	fs.StringArrayVar(&f.redirectURIs, "redirect-uri", nil, "redirect URI, matched exactly; https except on localhost (repeatable)")
	fs.StringArrayVar(&f.logoutURIs, "post-logout-redirect-uri", nil, "where to send people after they sign out; same rules as --redirect-uri (repeatable)")
	fs.StringVar(&f.sector, "sector-identifier", "", "host whose sites share pairwise subjects (default: the host of the first --redirect-uri)")
	fs.StringArrayVar(&f.scopes, "scope", []string{"openid"}, "scope the client may ask for (repeatable, or several space-separated)")
	fs.StringArrayVar(&f.grantTypes, "grant-type", []string{"authorization_code", "refresh_token"}, "grant type the client may use (repeatable)")
	fs.StringVar(&f.authMethod, "auth-method", oauth.AuthMethodSecretBasic, "token endpoint auth method: client_secret_basic, client_secret_post, private_key_jwt or none (public client)")
	fs.StringVar(&f.jwksFile, "jwks-file", "", "file holding the client's public JSON Web Key Set (for private_key_jwt)")
	fs.StringVar(&f.jwksURI, "jwks-uri", "", "https URL of the client's JSON Web Key Set (for private_key_jwt)")
	fs.StringVar(&f.subjectType, "subject-type", oauth.SubjectPairwise, "pairwise (a sub per sector) or public (OIDC Core §8)")
	fs.StringVar(&f.idTokenAlg, "id-token-alg", oauth.AlgES256, "ID token signing algorithm: ES256 or RS256")
	fs.StringVar(&f.uinfoAlg, "userinfo-alg", "", "sign userinfo responses with ES256 or RS256 (default: plain JSON)")
	fs.StringArrayVar(&f.audiences, "exchange-audience", nil, "another client (an administration's API) this client may exchange a person's token for, by RFC 8693 token exchange (repeatable); also add --grant-type urn:ietf:params:oauth:grant-type:token-exchange")
	fs.BoolVar(&f.requireSignedRequest, "require-signed-request-object", false, "accept this client's authorization requests only as request objects signed with its keys (RFC 9101 §10.5; needs --jwks-file or --jwks-uri)")
	fs.BoolVar(&f.dpopBound, "dpop-bound-access-tokens", false, "the client sends a DPoP proof (RFC 9449) with every token request, and every token request without one is refused")
	fs.StringVar(&f.idTokenEncAlg, "id-token-encryption-alg", "", "encrypt ID tokens to the client's key (--jwks-file or --jwks-uri, use enc): RSA-OAEP-256 or ECDH-ES (default: not encrypted)")
	fs.StringVar(&f.idTokenEnc, "id-token-encryption-enc", "", "content encryption of ID tokens: A256GCM, the default with --id-token-encryption-alg")
	fs.StringVar(&f.uinfoEncAlg, "userinfo-encryption-alg", "", "sign then encrypt userinfo answers to the client's key: RSA-OAEP-256 or ECDH-ES (default: not encrypted)")
	fs.StringVar(&f.uinfoEnc, "userinfo-encryption-enc", "", "content encryption of userinfo answers: A256GCM, the default with --userinfo-encryption-alg")
	fs.StringSliceVar(&f.areas, "procedure-area", nil, "procedure area the site's procedures belong to: papiers, famille, social, travail, logement, transports, argent, justice, etranger or loisirs (repeatable, or comma-separated)")
}

// client builds the client the flags describe, reading the key set file.
func (f *clientFlags) client() (oauth.Client, error) {
	c := oauth.Client{
		ID:                         f.id,
		Name:                       f.name,
		RedirectURIs:               f.redirectURIs,
		PostLogoutRedirectURIs:     f.logoutURIs,
		Scopes:                     splitScopes(f.scopes),
		GrantTypes:                 f.grantTypes,
		SectorIdentifier:           f.sector,
		TokenEndpointAuthMethod:    f.authMethod,
		JWKSURI:                    f.jwksURI,
		SubjectType:                f.subjectType,
		IDTokenSignedResponseAlg:   f.idTokenAlg,
		UserinfoSignedResponseAlg:  f.uinfoAlg,
		ProcedureAreas:             f.areas,
		ExchangeAudiences:          f.audiences,
		RequireSignedRequestObject: f.requireSignedRequest,
		DPoPBoundAccessTokens:      f.dpopBound,

		IDTokenEncryptedResponseAlg:  f.idTokenEncAlg,
		IDTokenEncryptedResponseEnc:  f.idTokenEnc,
		UserinfoEncryptedResponseAlg: f.uinfoEncAlg,
		UserinfoEncryptedResponseEnc: f.uinfoEnc,
	}
	if c.ID == "" {
		c.ID = mandates.NewID(time.Now())
	}
	// OIDC Core §8.1: without a sector_identifier_uri, the sector is the
	// host of the redirect URI.
	if c.SectorIdentifier == "" && len(c.RedirectURIs) > 0 {
		if u, err := url.Parse(c.RedirectURIs[0]); err == nil {
			c.SectorIdentifier = u.Hostname()
		}
	}
	if f.jwksFile != "" {
		b, err := os.ReadFile(f.jwksFile)
		if err != nil {
			return c, settingErr("--jwks-file %q cannot be read (%s); give the file holding the client's public key set.", f.jwksFile, shortCause(err))
		}
		c.JWKS = strings.TrimSpace(string(b))
	}
	return c, nil
}

// splitScopes also takes "openid profile" in one flag, as RFC 6749 §3.3
// writes scopes.
func splitScopes(in []string) []string {
	out := []string{}
	for _, s := range in {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// clientFlag names the create flag behind an RFC 7591 field.
func clientFlag(field string) (string, bool) {
	switch field {
	case "client_id":
		return "--id", true
	case "client_name":
		return "--name", true
	case "redirect_uris":
		return "--redirect-uri", true
	case "post_logout_redirect_uris":
		return "--post-logout-redirect-uri", true
	case "sector_identifier":
		return "--sector-identifier", true
	case "token_endpoint_auth_method", "client_secret":
		return "--auth-method", true
	case "jwks":
		return "--jwks-file", true
	case "jwks_uri":
		return "--jwks-uri", true
	case "subject_type":
		return "--subject-type", true
	case "id_token_signed_response_alg":
		return "--id-token-alg", true
	case "userinfo_signed_response_alg":
		return "--userinfo-alg", true
	case "procedure_areas":
		return "--procedure-area", true
	case "token_exchange_audiences":
		return "--exchange-audience", true
	case "require_signed_request_object":
		return "--require-signed-request-object", true
	case "id_token_encrypted_response_alg":
		return "--id-token-encryption-alg", true
	case "id_token_encrypted_response_enc":
		return "--id-token-encryption-enc", true
	case "userinfo_encrypted_response_alg":
		return "--userinfo-encryption-alg", true
	case "userinfo_encrypted_response_enc":
		return "--userinfo-encryption-enc", true
	}
	return "", false
}

// invalidClientErr turns a refusal of oauth.Client.Validate into a
// setting to fix (exit 2), naming the flag when one is to blame.
func invalidClientErr(c oauth.Client, err error) error {
	var ce *oauth.ClientError
	if !errors.As(err, &ce) {
		var inv *mandates.InvalidError
		if errors.As(err, &inv) {
			return settingErr("the client is not valid: %s.", inv.Message())
		}
		return settingErr("the client is not valid.")
	}
	switch {
	case ce.Field == "jwks" && c.JWKS == "" && c.JWKSURI == "":
		return settingErr("--auth-method private_key_jwt needs the client's public keys: give --jwks-file or --jwks-uri.")
	case (ce.Field == "id_token_encrypted_response_alg" || ce.Field == "userinfo_encrypted_response_alg") && c.JWKS == "" && c.JWKSURI == "":
		flag, _ := clientFlag(ce.Field)
		return settingErr("%s needs the client's public keys to encrypt to: give --jwks-file or --jwks-uri, with a key for encryption (use enc).", flag)
	case ce.Field == "sector_identifier" && c.SectorIdentifier == "":
		return settingErr("--sector-identifier is needed without a --redirect-uri: pairwise subjects are computed from it (OIDC Core §8.1); or choose --subject-type public.")
	}
	if flag, ok := clientFlag(ce.Field); ok {
		return settingErr("%s: %s.", flag, ce.Reason)
	}
	return settingErr("the client is not valid: %s.", ce.Reason)
}

func usesSecret(method string) bool {
	return method == oauth.AuthMethodSecretBasic || method == oauth.AuthMethodSecretPost
}

func newClientsCreate(stdout io.Writer, open openFunc) *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a relying party; prints its secret once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			// DESIGN.md §6: client secrets are made by Relais, high-entropy,
			// and stored hashed; the operator sees this one once.
			var secret string
			if usesSecret(c.TokenEndpointAuthMethod) {
				secret, c.SecretHash = oauth.NewClientSecret()
			}
			c.Normalize()
			// Check before touching the store: a bad flag changes nothing.
			if err := c.Validate(); err != nil {
				return invalidClientErr(c, err)
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			// The client and its entry in the journal's admin chain commit
			// together (DESIGN.md §5: administrative changes are journaled).
			err = st.InTx(ctx, func(ctx context.Context) error {
				if err := st.CreateClient(ctx, c); err != nil {
					return err
				}
				return adminEvent(ctx, st, mandates.EventClientCreated, c.ID, nil)
			})
			switch {
			case errors.Is(err, mandates.ErrAlreadyExists):
				return fmt.Errorf("a client with the id %q already exists; choose another --id, or delete that client first", c.ID)
			case errors.Is(err, mandates.ErrInvalid):
				return invalidClientErr(c, err)
			case err != nil:
				return err
			}
			stored, err := st.Client(ctx, c.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Client %q created.\n", c.ID)
			printClient(stdout, stored)
			if secret != "" {
				fmt.Fprintf(stdout, "\nclient_secret: %s\n", secret)
				fmt.Fprintln(stdout, "Copy this secret to the site now: it will not be shown again, as Relais keeps only its hash.")
			}
			return nil
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

func newClientsList(stdout io.Writer, open openFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the registered relying parties",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := st.Clients(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(stdout, "No client is registered; add one with relais clients create.")
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tAUTH METHOD\tSUBJECTS\tREDIRECT URIS")
			for _, c := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.TokenEndpointAuthMethod, c.SubjectType, listOrNone(c.RedirectURIs))
			}
			return tw.Flush()
		},
	}
}

func newClientsShow(stdout io.Writer, open openFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show every setting of a relying party (never its secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := st.Client(cmd.Context(), args[0])
			if err != nil {
				return clientErr(args[0], err)
			}
			printClient(stdout, c)
			return nil
		},
	}
}

func newClientsDelete(stdout io.Writer, open openFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a relying party; it can no longer sign anyone in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			c, err := st.Client(ctx, args[0])
			if err != nil {
				return clientErr(args[0], err)
			}
			err = st.InTx(ctx, func(ctx context.Context) error {
				if err := st.DeleteClient(ctx, c.ID); err != nil {
					return err
				}
				return adminEvent(ctx, st, mandates.EventClientDeleted, c.ID, nil)
			})
			if err != nil {
				return clientErr(c.ID, err)
			}
			fmt.Fprintf(stdout, "Client %q (%s) deleted.\n", c.ID, c.Name)
			return nil
		},
	}
}

// adminEvent journals an administrative change made from the command line
// in the journal's admin chain: no person, no actor account (whoever runs
// the command has the database's credentials), the client concerned.
func adminEvent(ctx context.Context, st journal.Store, t mandates.EventType, clientID string, detail map[string]string) error {
	if detail == nil {
		detail = map[string]string{}
	}
	detail["via"] = "command"
	return journal.New(st, journal.Options{}).Emit(ctx, mandates.Event{Type: t, ClientID: clientID, Detail: detail})
}

// clientErr says in one sentence that an id names no client (exit 1).
func clientErr(id string, err error) error {
	if errors.Is(err, mandates.ErrNotFound) {
		return fmt.Errorf("no client has the id %q; relais clients list shows the registered ones", id)
	}
	return err
}

// printClient writes every field under its RFC 7591 name, so a site's
// developer recognises them. The secret never appears, not even hashed.
func printClient(w io.Writer, c oauth.Client) {
	secret := "none"
	if c.SecretHash != "" {
		secret = "set (shown only when the client was created)"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"client_id", c.ID},
		{"client_name", c.Name},
		{"redirect_uris", listOrNone(c.RedirectURIs)},
		{"post_logout_redirect_uris", listOrNone(c.PostLogoutRedirectURIs)},
		{"scope", listOrNone(c.Scopes)},
		{"grant_types", listOrNone(c.GrantTypes)},
		{"token_endpoint_auth_method", c.TokenEndpointAuthMethod},
		{"client_secret", secret},
		{"jwks", orDefault(compactJSON(c.JWKS), "(none)")},
		{"jwks_uri", orDefault(c.JWKSURI, "(none)")},
		{"subject_type", c.SubjectType},
		{"sector_identifier", orDefault(c.SectorIdentifier, "(none)")},
		{"id_token_signed_response_alg", c.IDTokenSignedResponseAlg},
		{"userinfo_signed_response_alg", orDefault(c.UserinfoSignedResponseAlg, "(none: plain JSON)")},
		{"procedure_areas", listOrNone(c.ProcedureAreas)},
		{"token_exchange_audiences", listOrNone(c.ExchangeAudiences)},
		{"require_signed_request_object", strconv.FormatBool(c.RequireSignedRequestObject)},
		{"dpop_bound_access_tokens", strconv.FormatBool(c.DPoPBoundAccessTokens)},
		{"id_token_encrypted_response_alg", orDefault(c.IDTokenEncryptedResponseAlg, "(none: signed only)")},
		{"id_token_encrypted_response_enc", orDefault(c.IDTokenEncryptedResponseEnc, "(none)")},
		{"userinfo_encrypted_response_alg", orDefault(c.UserinfoEncryptedResponseAlg, "(none: not encrypted)")},
		{"userinfo_encrypted_response_enc", orDefault(c.UserinfoEncryptedResponseEnc, "(none)")},
		{"created_at", c.CreatedAt.UTC().Format(time.RFC3339)},
		{"updated_at", c.UpdatedAt.UTC().Format(time.RFC3339)},
		{"version", strconv.FormatInt(c.Version, 10)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	tw.Flush()
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, " ")
}

// compactJSON puts a key set on one line; it holds public keys only.
func compactJSON(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}
