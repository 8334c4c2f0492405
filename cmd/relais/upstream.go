package main

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authn/upstream"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui"
)

// UpstreamConfig is the login through FranceConnect and ProConnect
// (docs/accounts.md, « Logging in with FranceConnect and ProConnect »).
// Without an issuer, the login page offers the password only, as before.
type UpstreamConfig struct {
	FCIssuer    string // --franceconnect-issuer, RELAIS_FRANCECONNECT_ISSUER
	FCClientID  string // --franceconnect-client-id, RELAIS_FRANCECONNECT_CLIENT_ID
	FCScopes    string // --franceconnect-scopes, RELAIS_FRANCECONNECT_SCOPES
	FCACRValues string // --franceconnect-acr-values, RELAIS_FRANCECONNECT_ACR_VALUES
	SelfSignUp  bool   // --self-signup, RELAIS_SELF_SIGNUP
	// FCClientSecret comes from RELAIS_FRANCECONNECT_CLIENT_SECRET only,
	// never a flag (a flag shows in the process list), and is never
	// printed.
	FCClientSecret string

	PCIssuer          string // --proconnect-issuer, RELAIS_PROCONNECT_ISSUER
	PCClientID        string // --proconnect-client-id, RELAIS_PROCONNECT_CLIENT_ID
	PCScopes          string // --proconnect-scopes, RELAIS_PROCONNECT_SCOPES
	PCACRValues       string // --proconnect-acr-values, RELAIS_PROCONNECT_ACR_VALUES
	RequireProConnect bool   // --require-proconnect, RELAIS_REQUIRE_PROCONNECT
	PCClientSecret    string // RELAIS_PROCONNECT_CLIENT_SECRET only
}

// The variables the client secrets are read from.
const (
	franceConnectSecretEnv = "RELAIS_FRANCECONNECT_CLIENT_SECRET"
	proConnectSecretEnv    = "RELAIS_PROCONNECT_CLIENT_SECRET"
)

// defaultProConnectScopes are the scopes ProConnect's guide lists for
// the email and the organisation's SIRET.
const defaultProConnectScopes = "openid email given_name usual_name siret uid"

// defaultFranceConnectScopes are the scopes FranceConnect's integration
// guide lists for the identité pivot and the email.
const defaultFranceConnectScopes = "openid given_name family_name birthdate gender birthplace birthcountry email"

func bindUpstreamFlags(fs *pflag.FlagSet, c *UpstreamConfig) {
	fs.StringVar(&c.FCIssuer, "franceconnect-issuer", "", "FranceConnect's issuer URL, e.g. https://oidc.franceconnect.gouv.fr/api/v2; empty: no FranceConnect button (client secret in "+franceConnectSecretEnv+")")
	fs.StringVar(&c.FCClientID, "franceconnect-client-id", "", "the client id FranceConnect gave this deployment")
	fs.StringVar(&c.FCScopes, "franceconnect-scopes", defaultFranceConnectScopes, "the scopes asked of FranceConnect, space separated")
	fs.StringVar(&c.FCACRValues, "franceconnect-acr-values", "eidas1", "the acr_values asked of FranceConnect")
	fs.BoolVar(&c.SelfSignUp, "self-signup", false, "open an account for a person FranceConnect identifies and Relais does not know")
	fs.StringVar(&c.PCIssuer, "proconnect-issuer", "", "ProConnect's issuer URL, e.g. https://auth.agentconnect.gouv.fr/api/v2; empty: no ProConnect button (client secret in "+proConnectSecretEnv+")")
	fs.StringVar(&c.PCClientID, "proconnect-client-id", "", "the client id ProConnect gave this deployment")
	fs.StringVar(&c.PCScopes, "proconnect-scopes", defaultProConnectScopes, "the scopes asked of ProConnect, space separated")
	fs.StringVar(&c.PCACRValues, "proconnect-acr-values", "", "the acr_values asked of ProConnect (none by default)")
	fs.BoolVar(&c.RequireProConnect, "require-proconnect", false, "operators and organisation members log in through ProConnect only")
}

// readSecrets takes the client secret from the environment.
func (c *UpstreamConfig) readSecrets(getenv func(string) string) {
	c.FCClientSecret = getenv(franceConnectSecretEnv)
	c.PCClientSecret = getenv(proConnectSecretEnv)
}

func (c *UpstreamConfig) validate() error {
	if err := c.validateFranceConnect(); err != nil {
		return err
	}
	return c.validateProConnect()
}

func (c *UpstreamConfig) validateProConnect() error {
	if c.PCIssuer == "" {
		if c.PCClientID != "" || c.PCClientSecret != "" {
			return settingErr("--proconnect-client-id or %s is set without --proconnect-issuer (RELAIS_PROCONNECT_ISSUER); set the issuer too, or unset them.", proConnectSecretEnv)
		}
		if c.RequireProConnect {
			return settingErr("--require-proconnect (RELAIS_REQUIRE_PROCONNECT) needs ProConnect; set --proconnect-issuer too, or remove --require-proconnect.")
		}
		return nil
	}
	if err := validIssuer(c.PCIssuer); err != nil {
		return settingErr("--proconnect-issuer %q (RELAIS_PROCONNECT_ISSUER) %v; write ProConnect's issuer, for example https://auth.agentconnect.gouv.fr/api/v2.", c.PCIssuer, err)
	}
	if c.PCClientID == "" {
		return settingErr("--proconnect-client-id (RELAIS_PROCONNECT_CLIENT_ID) is empty; write the client id ProConnect gave this deployment.")
	}
	if c.PCClientSecret == "" {
		return settingErr("%s is not set; set it to the client secret ProConnect gave this deployment.", proConnectSecretEnv)
	}
	if !slices.Contains(strings.Fields(c.PCScopes), "openid") {
		return settingErr("--proconnect-scopes (RELAIS_PROCONNECT_SCOPES) must contain openid; the default is %q.", defaultProConnectScopes)
	}
	return nil
}

func (c *UpstreamConfig) validateFranceConnect() error {
	if c.FCIssuer == "" {
		if c.FCClientID != "" || c.FCClientSecret != "" {
			return settingErr("--franceconnect-client-id or %s is set without --franceconnect-issuer (RELAIS_FRANCECONNECT_ISSUER); set the issuer too, or unset them.", franceConnectSecretEnv)
		}
		if c.SelfSignUp {
			return settingErr("--self-signup (RELAIS_SELF_SIGNUP) needs FranceConnect; set --franceconnect-issuer too, or remove --self-signup.")
		}
		return nil
	}
	if err := validIssuer(c.FCIssuer); err != nil {
		return settingErr("--franceconnect-issuer %q (RELAIS_FRANCECONNECT_ISSUER) %v; write FranceConnect's issuer, for example https://oidc.franceconnect.gouv.fr/api/v2.", c.FCIssuer, err)
	}
	if c.FCClientID == "" {
		return settingErr("--franceconnect-client-id (RELAIS_FRANCECONNECT_CLIENT_ID) is empty; write the client id FranceConnect gave this deployment.")
	}
	if c.FCClientSecret == "" {
		return settingErr("%s is not set; set it to the client secret FranceConnect gave this deployment.", franceConnectSecretEnv)
	}
	if !slices.Contains(strings.Fields(c.FCScopes), "openid") {
		return settingErr("--franceconnect-scopes (RELAIS_FRANCECONNECT_SCOPES) must contain openid; the default is %q.", defaultFranceConnectScopes)
	}
	return nil
}

// upstreamStore is what the upstream logins keep in the store.
type upstreamStore interface {
	authn.UpstreamLoginStore
	authn.UpstreamLinkStore
	mandates.PersonStore
	mandates.PivotStore
	mandates.Transactor
	upstream.OrgStore
}

// newUpstream builds the FranceConnect client, or nil when none is
// configured. It does not contact FranceConnect: a provider that is down
// never stops serve from starting.
func newUpstream(c *Config, st upstreamStore, events mandates.EventSink) (*ui.Upstream, error) {
	u := &c.Upstream
	if u.FCIssuer == "" && u.PCIssuer == "" {
		return nil, nil
	}
	issuer := strings.TrimSuffix(c.Issuer, "/")
	stores := upstream.Stores{Logins: st, Links: st, Persons: st, Pivots: st, Tx: st, Events: events, Orgs: st}
	out := &ui.Upstream{RequireProConnect: u.RequireProConnect,
		Contact: ui.Contact{Name: c.Notices.From, Address: c.Notices.Address, Phone: c.Notices.Phone}}
	var err error
	if u.FCIssuer != "" {
		out.FranceConnect, err = upstream.New(upstream.Config{
			Name: authn.UpstreamFranceConnect, Issuer: u.FCIssuer, ClientID: u.FCClientID, ClientSecret: u.FCClientSecret,
			Scopes: strings.Fields(u.FCScopes), ACRValues: u.FCACRValues, SelfSignUp: u.SelfSignUp,
			RedirectURL: issuer + ui.FranceConnectReturnPath, LogoutReturnURL: issuer + ui.FranceConnectLogoutPath,
			HTTPClient: &http.Client{Timeout: 10 * time.Second},
		}, stores)
		if err != nil {
			return nil, err
		}
	}
	if u.PCIssuer != "" {
		out.ProConnect, err = upstream.New(upstream.Config{
			Name: authn.UpstreamProConnect, Issuer: u.PCIssuer, ClientID: u.PCClientID, ClientSecret: u.PCClientSecret,
			Scopes: strings.Fields(u.PCScopes), ACRValues: u.PCACRValues,
			RedirectURL: issuer + ui.ProConnectReturnPath, LogoutReturnURL: issuer + ui.ProConnectLogoutPath,
			HTTPClient: &http.Client{Timeout: 10 * time.Second},
		}, stores)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
