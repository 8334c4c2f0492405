package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres"
)

// Config is every setting of relais serve, filled from flags whose defaults
// come from RELAIS_* variables, and checked once at start.
type Config struct {
	Listen          string        // --listen, RELAIS_LISTEN
	Issuer          string        // --issuer, RELAIS_ISSUER
	DB              string        // --db, RELAIS_DB: "sqlite:FILE" or "postgres://…"
	Demo            bool          // --demo, RELAIS_DEMO
	DemoPersons     string        // --demo-persons, RELAIS_DEMO_PERSONS: a JSON file of more demo accounts (demo_persons.go)
	AutoMigrate     bool          // --auto-migrate, RELAIS_AUTO_MIGRATE (always on for SQLite)
	BusyTimeout     time.Duration // --busy-timeout, RELAIS_BUSY_TIMEOUT (SQLite)
	LogFormat       string        // --log-format, RELAIS_LOG_FORMAT: text or json
	LogLevel        string        // --log-level, RELAIS_LOG_LEVEL
	ShutdownTimeout time.Duration // --shutdown-timeout, RELAIS_SHUTDOWN_TIMEOUT
	MaxBodyBytes    int64         // --max-body-bytes, RELAIS_MAX_BODY_BYTES
	SecretKey       string        // --secret-key, RELAIS_SECRET_KEY: base64 of 32 bytes
	CodeTTL         time.Duration // --code-ttl, RELAIS_CODE_TTL
	AccessTokenTTL  time.Duration // --access-token-ttl, RELAIS_ACCESS_TOKEN_TTL
	IDTokenTTL      time.Duration // --id-token-ttl, RELAIS_ID_TOKEN_TTL
	RefreshTokenTTL time.Duration // --refresh-token-ttl, RELAIS_REFRESH_TOKEN_TTL
	SessionTTL      time.Duration // --session-ttl, RELAIS_SESSION_TTL
	Policy          string        // --policy, RELAIS_POLICY: a policy file replacing the default

	PasswordHashConcurrency int // --password-hash-concurrency, RELAIS_PASSWORD_HASH_CONCURRENCY: default the number of cores

	DebugListen string // --debug-listen, RELAIS_DEBUG_LISTEN: loopback host:port of /debug/pprof; empty: off (debug.go)

	JournalCheckpointInterval time.Duration // --journal-checkpoint-interval, RELAIS_JOURNAL_CHECKPOINT_INTERVAL
	JournalRetention          time.Duration // --journal-retention, RELAIS_JOURNAL_RETENTION: 0 keeps details
	JournalWitnesses          []string      // --journal-witness, RELAIS_JOURNAL_WITNESS: "URL VKEY" of each witness

	CleanupInterval time.Duration // --cleanup-interval, RELAIS_CLEANUP_INTERVAL: how often expired records are deleted (cleanup.go)

	Notices NoticeConfig // --notice-*, --smtp-*, --sms-*: who notices come from, email and SMS (notices_config.go)

	Upstream UpstreamConfig // --franceconnect-*, --proconnect-*, --self-signup, --require-proconnect (upstream.go)

	policy *mandates.Policy // the parsed --policy, or the default
}

// configError is a setting the operator must fix: exit status 2, one
// sentence that names the setting and the fix.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func settingErr(format string, args ...any) error {
	return &configError{fmt.Sprintf(format, args...)}
}

func bindStoreFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.DB, "db", "sqlite:relais.db", "store: sqlite:FILE (embedded) or postgres://USER@HOST/DB")
	fs.DurationVar(&c.BusyTimeout, "busy-timeout", 5*time.Second, "how long SQLite waits for another program's lock")
}

func bindServeFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "address to listen on, host:port")
	fs.StringVar(&c.Issuer, "issuer", "http://localhost:8080", "public URL of this server (https, except on localhost)")
	fs.BoolVar(&c.Demo, "demo", false, "load demo accounts and a demo client, and print them")
	fs.StringVar(&c.DemoPersons, "demo-persons", "", "with --demo: a JSON file of more demo accounts (docs/accounts.md)")
	fs.BoolVar(&c.AutoMigrate, "auto-migrate", false, "apply database migrations at start (always done for SQLite)")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish at stop")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted")
	fs.StringVar(&c.SecretKey, "secret-key", "", "base64 of the 32-byte key that encrypts secrets at rest (prefer RELAIS_SECRET_KEY: a flag shows in the process list)")
	fs.DurationVar(&c.CodeTTL, "code-ttl", 60*time.Second, "lifetime of an authorization code")
	fs.DurationVar(&c.AccessTokenTTL, "access-token-ttl", 10*time.Minute, "lifetime of an access token")
	fs.DurationVar(&c.IDTokenTTL, "id-token-ttl", 10*time.Minute, "lifetime of an ID token")
	fs.DurationVar(&c.RefreshTokenTTL, "refresh-token-ttl", 30*24*time.Hour, "lifetime of a refresh token")
	fs.DurationVar(&c.SessionTTL, "session-ttl", time.Hour, "how long a login at Relais lasts")
	fs.StringVar(&c.Policy, "policy", "", "policy file replacing the default table of who may do what (relais policy show prints the default)")
	fs.IntVar(&c.PasswordHashConcurrency, "password-hash-concurrency", runtime.NumCPU(),
		"how many passwords are checked at once (each takes 19 MiB); past it, up to 32 times as many wait their turn for at most 2 s, and more logins answer 503")
	fs.StringVar(&c.DebugListen, "debug-listen", "", "loopback address (host:port) of a second listener serving /debug/pprof for profiling; empty: off")
	bindJournalFlags(fs, c)
	bindCleanupFlags(fs, c)
	bindNoticeFlags(fs, &c.Notices)
	bindUpstreamFlags(fs, &c.Upstream)
}

// envName is the variable that gives a flag its default: --busy-timeout is
// RELAIS_BUSY_TIMEOUT.
func envName(flag string) string {
	return "RELAIS_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its RELAIS_*
// variable, with the flag's own parsing, so a bad value is named.
func applyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if err != nil || f.Changed || v == "" || f.Name == "help" {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = settingErr("%s=%q is not a valid value for --%s (%s); fix or unset it.", name, v, f.Name, f.Usage)
		}
	})
	return err
}

// storeKind says which store a --db value names.
func storeKind(db string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(db, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "//")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", settingErr("--db %q (RELAIS_DB) names no usable file; write sqlite:FILE, for example sqlite:relais.db.", db)
		}
		return "sqlite", path, nil
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := postgres.ParseDSN(db); err != nil {
			return "", "", settingErr("--db (RELAIS_DB) is not a valid PostgreSQL URL; write postgres://USER:PASSWORD@HOST:5432/DATABASE.")
		}
		return "postgres", db, nil
	}
	return "", "", settingErr("--db %q (RELAIS_DB) names an unknown store; use sqlite:FILE or postgres://USER@HOST/DATABASE.", redact(db))
}

// redact keeps a password out of messages.
func redact(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return db
}

func (c *Config) validate() error {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return settingErr("--listen %q (RELAIS_LISTEN) is not host:port; write for example --listen 127.0.0.1:8080.", c.Listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return settingErr("--listen %q (RELAIS_LISTEN) has port %q, which is not a number from 0 to 65535; write for example --listen %s.",
			c.Listen, port, net.JoinHostPort(orDefault(host, "127.0.0.1"), "8080"))
	}
	if err := validIssuer(c.Issuer); err != nil {
		return settingErr("--issuer %q (RELAIS_ISSUER) %v; write for example --issuer https://relais.example.fr.", c.Issuer, err)
	}
	if _, _, err := storeKind(c.DB); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return settingErr("--log-format %q (RELAIS_LOG_FORMAT) is unknown; use text or json.", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return settingErr("--log-level %q (RELAIS_LOG_LEVEL) is unknown; use debug, info, warn or error.", c.LogLevel)
	}
	if c.ShutdownTimeout <= 0 {
		return settingErr("--shutdown-timeout (RELAIS_SHUTDOWN_TIMEOUT) must be positive, for example 15s.")
	}
	if c.BusyTimeout <= 0 {
		return settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"code-ttl", c.CodeTTL}, {"access-token-ttl", c.AccessTokenTTL}, {"id-token-ttl", c.IDTokenTTL},
		{"refresh-token-ttl", c.RefreshTokenTTL}, {"session-ttl", c.SessionTTL}} {
		if d.v <= 0 {
			return settingErr("--%s (%s) must be positive, for example 10m.", d.name, envName(d.name))
		}
	}
	if c.CodeTTL > 10*time.Minute {
		return settingErr("--code-ttl (RELAIS_CODE_TTL) must be 10m or less: codes are short-lived (RFC 6749 §4.1.2); 60s is the default.")
	}
	if c.SecretKey != "" {
		if _, err := parseSecretKey(c.SecretKey); err != nil {
			return err
		}
	}
	if err := validDebugListen(c.DebugListen); err != nil {
		return err
	}
	if c.PasswordHashConcurrency < 1 {
		return settingErr("--password-hash-concurrency (RELAIS_PASSWORD_HASH_CONCURRENCY) must be at least 1; the default is the number of cores (%d).", runtime.NumCPU())
	}
	if c.MaxBodyBytes < 1024 {
		return settingErr("--max-body-bytes (RELAIS_MAX_BODY_BYTES) must be at least 1024.")
	}
	if err := c.validateJournal(); err != nil {
		return err
	}
	if err := c.validateCleanup(); err != nil {
		return err
	}
	if c.Demo {
		c.Notices.demoDefaults()
	}
	if err := c.Notices.validate(); err != nil {
		return err
	}
	if err := c.Notices.validatePace(); err != nil {
		return err
	}
	if err := c.Upstream.validate(); err != nil {
		return err
	}
	if c.DemoPersons != "" {
		if !c.Demo {
			return settingErr("--demo-persons (RELAIS_DEMO_PERSONS) works with --demo only; add --demo, or remove --demo-persons.")
		}
		if _, _, err := readDemoPersons(c.DemoPersons); err != nil {
			return err
		}
	}
	p, err := loadPolicy(c.Policy)
	if err != nil {
		return err
	}
	c.policy = p
	return nil
}

// loadPolicy reads and checks a policy file; an empty path is the default
// policy. A bad file is a setting to fix, named with its line.
func loadPolicy(path string) (*mandates.Policy, error) {
	if path == "" {
		return mandates.DefaultPolicy(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, settingErr("--policy %s (RELAIS_POLICY) cannot be read (%s); check the path, or remove --policy to use the default policy.", path, shortCause(err))
	}
	p, err := mandates.ParsePolicy(b)
	var pe *mandates.PolicyError
	if errors.As(err, &pe) {
		return nil, settingErr("--policy %s (RELAIS_POLICY), line %d: %s; fix the file (relais policy show prints the default one).", path, pe.Line, pe.Problem)
	}
	return p, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// validIssuer: OpenID Connect Discovery §3 wants an https URL with no query
// or fragment; plain http is allowed for a developer's own machine only.
func validIssuer(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return errors.New("is not an absolute URL")
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a query or a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"):
		return nil
	}
	return errors.New("must use https (http only on localhost)")
}
