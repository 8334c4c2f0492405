// Command relais-seed fills a Relais store with fake data at the scale of
// a deployment (issue 19): persons, court measures, token records and
// journal entries, written in bulk but built by Relais's own code, so that
// relais serve and relais journal verify read them as their own. It is a
// companion of relais, not one of its commands: it writes fake data.
//
//	relais migrate up --db sqlite:/tmp/big.db
//	RELAIS_SECRET_KEY=… relais-seed --db sqlite:/tmp/big.db --persons 1000000 \
//	    --representations 200000 --tokens 10000000 --journal 10000000
//
// The secret key must be the one relais serve will run with: refresh
// tokens and pairwise subjects derive from it.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"
)

// usageError is a bad setting, said in one sentence (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parseFlags(args, stderr, getenv)
	if err == nil && cfg.CPUProfile != "" {
		var stopProfile func() error
		if stopProfile, err = startProfile(cfg.CPUProfile); err == nil {
			defer stopProfile()
		}
	}
	if err == nil {
		_, err = seedStore(ctx, cfg, stdout)
	}
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "relais-seed:", ue.msg)
		return 2
	}
	fmt.Fprintln(stderr, "relais-seed:", err)
	return 1
}

// startProfile starts a CPU profile written to path.
func startProfile(path string) (func() error, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, usagef("--cpuprofile %s cannot be written (%v); choose another file.", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

// config is what one run seeds, and where.
type config struct {
	DB              string // --db, RELAIS_DB
	Issuer          string // --issuer, RELAIS_ISSUER: the iss the token records carry
	SecretKey       []byte // RELAIS_SECRET_KEY
	Persons         int
	Representations int
	Tokens          int
	Journal         int
	Batch           int
	Now             time.Time // when the seeded history ends
	CPUProfile      string    // --cpuprofile: where to write a CPU profile of the run
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (config, error) {
	c := config{Now: time.Now().UTC()}
	fs := flag.NewFlagSet("relais-seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := getenv("RELAIS_DB")
	if db == "" {
		db = "sqlite:relais.db"
	}
	issuer := getenv("RELAIS_ISSUER")
	if issuer == "" {
		issuer = "http://127.0.0.1:8080"
	}
	fs.StringVar(&c.DB, "db", db, "store (RELAIS_DB): sqlite:FILE or postgres://USER@HOST/DB, migrated (relais migrate up)")
	fs.StringVar(&c.Issuer, "issuer", issuer, "the issuer relais serve runs as (RELAIS_ISSUER), which the token records name")
	fs.IntVar(&c.Persons, "persons", 2000, "persons to add, one of them the operator who registers the measures")
	fs.IntVar(&c.Representations, "representations", 400, "court measures (tutelles) to register, each between two of the persons added")
	fs.IntVar(&c.Tokens, "tokens", 10000, "token records to add, two per grant (its access and refresh tokens)")
	fs.IntVar(&c.Journal, "journal", 10000, "journal entries to add, the measures' registrations included")
	fs.IntVar(&c.Batch, "batch", 10000, "rows per transaction")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, usagef("%v; see relais-seed -h.", err)
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q; every setting is a flag (relais-seed -h).", fs.Arg(0))
	}
	switch {
	case c.Persons < 1:
		return c, usagef("--persons must be at least 1 (the operator).")
	case c.Representations < 0 || 2*c.Representations+1 > c.Persons:
		return c, usagef("--representations must be between 0 and (persons-1)/2: each measure is between two persons added, one the operator's not.")
	case c.Tokens < 0 || c.Tokens%2 != 0:
		return c, usagef("--tokens must be an even number, at least 0: each grant stores two records.")
	case c.Journal < 0:
		return c, usagef("--journal must be at least 0.")
	case c.Batch < 1:
		return c, usagef("--batch must be at least 1.")
	case !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://"):
		return c, usagef("--db %q (RELAIS_DB) names an unknown store; use sqlite:FILE or postgres://USER@HOST/DATABASE.", c.DB)
	}
	key, err := parseSecretKey(getenv("RELAIS_SECRET_KEY"))
	if err != nil {
		return c, err
	}
	c.SecretKey = key
	return c, nil
}

// parseSecretKey reads RELAIS_SECRET_KEY as relais does: 32 bytes in
// base64 (standard or URL alphabet, padded or not).
func parseSecretKey(s string) ([]byte, error) {
	const hint = "set it to relais serve's, 32 random bytes in base64 (openssl rand -base64 32)"
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, usagef("RELAIS_SECRET_KEY is not set; %s.", hint)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, usagef("RELAIS_SECRET_KEY is %d bytes, not 32; %s.", len(b), hint)
			}
			return b, nil
		}
	}
	return nil, usagef("RELAIS_SECRET_KEY is not base64; %s.", hint)
}
