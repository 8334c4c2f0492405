package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/ui"
)

func newServe(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Relais server",
		Long: "Run the Relais server. Every flag can also be set by a RELAIS_* variable:\n" +
			"--listen is RELAIS_LISTEN, --db is RELAIS_DB, and so on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), getenv); err != nil {
				return err
			}
			c.Upstream.readSecrets(getenv)
			if err := c.validate(); err != nil {
				return err
			}
			tuneGC(getenv)
			return serve(cmd.Context(), &c, stdout, stderr, nil)
		},
	}
	bindServeFlags(cmd.Flags(), &c)
	bindStoreFlags(cmd.Flags(), &c)
	return cmd
}

func newLogger(c *Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel) // checked by validate
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(ui.LogHandler(h))
}

// listen opens the address first, so a port in use is reported before
// anything else starts.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, listenErr(addr, err)
	}
	return ln, nil
}

// listenErr says in one sentence why addr cannot be listened on.
func listenErr(addr string, err error) error {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return settingErr("--listen %s (RELAIS_LISTEN) is already in use by another program; stop it or choose another port.", addr)
	case errors.Is(err, syscall.EACCES):
		return settingErr("--listen %s (RELAIS_LISTEN) needs privileges this process lacks; choose a port above 1023.", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL) || errors.As(err, &dns) && dns.IsNotFound:
		return settingErr("--listen %s (RELAIS_LISTEN) is not an address of this machine; use for example 127.0.0.1:8080.", addr)
	}
	return settingErr("--listen %s (RELAIS_LISTEN) cannot be opened (%s); choose another address.", addr, shortCause(err))
}

// serve runs until ctx ends. mount, when not nil, adds routes: tests use it
// to hold a request in flight across a shutdown.
func serve(ctx context.Context, c *Config, stdout, stderr io.Writer, mount func(*ui.Server)) error {
	log := newLogger(c, stderr)
	slog.SetDefault(log)

	ln, err := listen(c.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	stopDebug, err := startDebug(c.DebugListen, log)
	if err != nil {
		return err
	}
	defer stopDebug()

	st, kind, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	if kind == "sqlite" || c.AutoMigrate {
		res, err := migrateUp(ctx, st)
		if err != nil {
			if kind == "sqlite" {
				_, path, _ := storeKind(c.DB)
				return sqliteErr(path, err)
			}
			return fmt.Errorf("the database schema could not be updated: %w", err)
		}
		for _, r := range res {
			log.Info("migration applied", "version", r.Source.Version, "duration_ms", r.Duration.Milliseconds())
		}
	} else if err := schemaCurrent(ctx, st); err != nil {
		return err
	}

	if c.policy == nil { // a Config that skipped validate, as tests build
		c.policy = mandates.DefaultPolicy()
	}
	jr := journal.New(st, journal.Options{})
	// Access evaluations change nothing stored: their entries are written
	// by group commit, several to a transaction. SQLite has one writer;
	// PostgreSQL writes a few transactions at once.
	workers := 1
	if kind == "postgres" {
		workers = 4
	}
	decisions := journal.NewBatcher(jr, st, journal.BatchOptions{Workers: workers})
	defer decisions.Close() // after the requests in flight, before the store
	if c.Demo {
		c.Notices.demoDefaults()
	}
	days, err := noticeDays()
	if err != nil {
		return err
	}
	key, err := secretKey(c, stdout)
	if err != nil {
		return err
	}
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		return err
	}
	look := noticeLookup(st, c.policy)
	look.Location = days
	writer, err := noticeWriter(st, &c.Notices, look, c.Issuer, box.Derive(noticeCodesKey))
	if err != nil {
		return err
	}
	svcCfg := mandates.ServiceConfig{Policy: c.policy, Recorder: decisions}
	// Remote-consent codes go by SMS: through the gateway when one is
	// configured; without one, the demo prints them, so remote consent
	// can be tried.
	if codes := consentCodes(c, writer, demoSMS{&demoOut, stdout}); codes != nil {
		svcCfg.Codes = codes
	}
	sink := noticeSink(st, jr, look)
	service := mandates.NewService(st, sink, svcCfg)
	// The provider's and the logins' events go through the notices too:
	// a first act at a site, a second factor set up or removed.
	oidc, err := newOIDC(ctx, c, st, service, sink, key, box, log, stdout)
	if err != nil {
		return err
	}
	if oidc.Upstream, err = newUpstream(c, st, sink); err != nil {
		return err
	}
	// Account codes (issue 16): a reset code goes through the person's
	// channel, sealed in its notice; a new password is told on paper.
	accountCodes := authn.NewAccountCodes(st, st, authn.CodeLimits{}, time.Now)
	codeNotices := &notices.CodeNotices{Store: st, Reader: st, Channels: look, Sealer: box.Derive(noticeCodesKey), Now: time.Now}
	oidc.Recovery = accounts.NewRecovery(st, accountCodes, codeNotices, sink, oidc.Auth.HashPool(), accounts.RecoveryLimits{}, time.Now)
	stopJournal, err := startJournal(ctx, c, st, jr, box, service, log)
	if err != nil {
		return err
	}
	defer stopJournal()
	channels := noticeChannels{Senders: c.Notices.senders, Writer: writer}
	if c.Demo {
		if err := loadDemo(ctx, st, box, c.policy, stdout, time.Now); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if c.DemoPersons != "" {
			if err := loadDemoPersons(ctx, st, c.DemoPersons, stdout); err != nil {
				return fmt.Errorf("demo data: %w", err)
			}
		}
		// The demo prints emails and SMS, and writes letters to files.
		var post *demoPost
		if channels, post, err = demoNotices(&c.Notices, st, writer, demoLettersDir(c.DB), stdout, log); err != nil {
			return err
		}
		defer startDemoPost(ctx, post)()
	}
	defer startNotices(ctx, st, jr, log, channels, &c.Notices)()
	log.Info("policy", "version", c.policy.Version, "file", orDefault(c.Policy, "default"))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cleanupEvery := c.CleanupInterval
	if cleanupEvery <= 0 { // a Config that skipped validate, as tests build
		cleanupEvery = defaultCleanupInterval
	}
	defer startCleanup(ctx, newCleanup(st, cleanupEvery, reg, time.Now, log))()
	opNotices, err := operatorNotices(st, service, jr, writer, look, box.Derive(noticeCodesKey))
	if err != nil {
		return err
	}
	site, err := ui.New(ui.Options{
		Log:           log,
		Store:         st,
		Sessions:      authn.JournaledSessions(st, jr, st, time.Now), // logouts are journaled
		Registry:      reg,
		MaxBodyBytes:  c.MaxBodyBytes,
		SecureCookies: strings.HasPrefix(c.Issuer, "https://"),
		OIDC:          oidc,
		// The letters' page sends its codes with the dispatcher's email
		// and SMS senders; without any it offers paper only.
		Mandates: &ui.Mandates{Service: service, Auth: oidc.Auth, Journal: st, Letters: noticeLetters(st, service, sink, channels.Senders, days),
			Notices: opNotices, SecondFactors: accounts.NewSecondFactorReset(service, st, st, sink, time.Now),
			Accounts: uiAccounts(st, service, sink, accountCodes, codeNotices, oidc.Auth, c.Upstream.FCIssuer != "")},
	})
	if err != nil {
		return err
	}
	if mount != nil {
		mount(site)
	}
	srv := site.HTTPServer(c.Listen)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "Relais is running: open %s (issuer %s, store %s). Stop with Ctrl+C.\n", url, c.Issuer, kind)
	log.Info("listening", "addr", ln.Addr().String(), "issuer", c.Issuer, "store", kind)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// In-flight requests get ShutdownTimeout to finish; new ones are refused.
	log.Info("stopping: waiting for requests in flight", "timeout", c.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the end of the shutdown timeout were cut", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// schemaCurrent refuses to serve on a PostgreSQL schema that is behind:
// migrations there are an operator's step (relais migrate up).
func schemaCurrent(ctx context.Context, st store) error {
	p, err := st.Migrations()
	if err != nil {
		return err
	}
	defer p.Close()
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if pending {
		return settingErr("--db (RELAIS_DB): the database schema is not up to date; run relais migrate up with the same --db, or start with --auto-migrate.")
	}
	return nil
}

// secretKey is the deployment's secret key, from RELAIS_SECRET_KEY (or the
// demo's key file). Its secret box seals signing keys, second-factor
// secrets and the codes notices carry.
func secretKey(c *Config, stdout io.Writer) ([]byte, error) {
	var key []byte
	var err error
	switch {
	case c.SecretKey != "":
		key, err = parseSecretKey(c.SecretKey)
	case c.Demo:
		var created bool
		key, created, err = demoSecretKey(c.DB)
		if err == nil {
			path, _ := demoSecretKeyFile(c.DB)
			verb := "Using"
			if created {
				verb = "Generated"
			}
			fmt.Fprintf(stdout, "WARNING: %s the demo secret key in %s. It encrypts the signing keys and second-factor secrets: for a real deployment, set RELAIS_SECRET_KEY and keep it secret.\n", verb, path)
		}
	default:
		return nil, settingErr("RELAIS_SECRET_KEY is not set; set it to the base64 of 32 random bytes (for example: openssl rand -base64 32), or start with --demo for a trial.")
	}
	return key, err
}

// newOIDC builds the OpenID provider: the signing keys (made at first
// start, shared by every instance through the store, sealed by box), the
// provider and what its pages need. It journals the provider's acts
// (logins, second factors, tokens, consents) in events, each in the
// transaction of its act.
func newOIDC(ctx context.Context, c *Config, st store, service *mandates.Service, events mandates.EventSink, key []byte, box *keyring.SecretBox, log *slog.Logger, stdout io.Writer) (*ui.OIDC, error) {
	// The same lead and lifetime as relais keys rotate, so a retirement that
	// serve finishes is the one the command started.
	keys := keyring.NewKeys(st, box, time.Now, defaultPublishLead, max(defaultMaxTokenLifetime, c.AccessTokenTTL, c.IDTokenTTL))
	if err := keys.Ensure(ctx); err != nil {
		return nil, secretKeyMismatch(err)
	}
	// The journal's checkpoint keys are published beside the token keys.
	// Only the keys whose sealed private key opens under the secret key
	// (keyring.JournalKeys.PublicKeys): a row added to the database is not.
	keys.PublishAlso(keyring.NewJournalKeys(st, box, time.Now))
	for _, alg := range keyring.SigningAlgs {
		if _, _, err := keys.Active(ctx, alg); err != nil {
			return nil, secretKeyMismatch(err)
		}
	}
	provider, err := authz.NewProvider(authz.ProviderConfig{
		Issuer: c.Issuer, SecretKey: key, CodeTTL: c.CodeTTL, AccessTokenTTL: c.AccessTokenTTL,
		IDTokenTTL: c.IDTokenTTL, RefreshTokenTTL: c.RefreshTokenTTL, ClientCacheTTL: authz.ClientCacheTTL,
	}, authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st, Delegation: service, Subjects: st, Events: events, Proofs: st}, keys, log)
	if err != nil {
		return nil, err
	}
	auth := authn.NewAuthenticator(st, st, authn.LoginLimits{}, time.Now, events, st,
		authn.WithHashPool(authn.NewHashPool(authn.HashPoolConfig{Size: c.PasswordHashConcurrency})))
	return &ui.OIDC{
		Provider: provider,
		Auth:     auth,
		Consents: authn.JournaledConsents(st, events, st),
		Clients:  st,
		// TOTP secrets are sealed with the same secret key as signing keys.
		TOTP:       authn.NewTOTP(st, st, box, auth, authn.TOTPConfig{}),
		SessionTTL: c.SessionTTL,
		// A form sent after the session ended is sealed with the same key
		// and comes back filled after the new login.
		Forms: authn.NewFormKeeper(box.Derive("kept forms"), time.Now), // a key of its own: any visitor can have a form sealed
	}, nil
}
