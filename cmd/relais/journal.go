package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// The defaults of relais serve's journal settings.
const (
	// defaultCheckpointInterval bounds what a database edit can remove
	// unseen: entries no checkpoint signs yet (docs/journal.md; the cost
	// of one checkpoint is measured by BenchmarkCheckpoint in
	// storage/sqlite and storage/postgres).
	defaultCheckpointInterval = time.Minute
	// minRetention keeps a typo (--journal-retention 1h) from erasing the
	// details of everything older than an hour.
	minRetention = 24 * time.Hour
)

func bindJournalFlags(fs *pflag.FlagSet, c *Config) {
	fs.DurationVar(&c.JournalCheckpointInterval, "journal-checkpoint-interval", defaultCheckpointInterval,
		"how often a checkpoint of the journal is signed (by one instance at a time)")
	fs.DurationVar(&c.JournalRetention, "journal-retention", 0,
		"erase journal details older than this, for example 8760h (one year); 0 keeps them")
	bindWitnessFlags(fs, c)
}

func (c *Config) validateJournal() error {
	if c.JournalCheckpointInterval < time.Minute {
		return settingErr("--journal-checkpoint-interval (RELAIS_JOURNAL_CHECKPOINT_INTERVAL) must be at least 1m, for example 5m.")
	}
	if c.JournalRetention != 0 && c.JournalRetention < minRetention {
		return settingErr("--journal-retention (RELAIS_JOURNAL_RETENTION) must be 0 (keep) or at least 24h, for example 8760h for one year.")
	}
	if len(c.JournalWitnesses) > 0 {
		if _, err := parseWitnesses(c.JournalWitnesses); err != nil {
			return err
		}
		if _, err := journalOrigin(c.Issuer); err != nil {
			return err
		}
	}
	return nil
}

// newJournal is relais journal verify|checkpoint|export|erase.
func newJournal(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Verify, checkpoint, export or erase the journal, or witness another one (verify, checkpoint, export, erase, vkey, witness)",
	}
	storeFlags := cmd.PersistentFlags()
	bindStoreFlags(storeFlags, &c)
	open := func(cmd *cobra.Command) (store, error) {
		if err := applyEnv(storeFlags, getenv); err != nil {
			return nil, err
		}
		if c.BusyTimeout <= 0 {
			return nil, settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
		}
		st, kind, err := openDB(cmd.Context(), &c)
		if err != nil {
			return nil, err
		}
		if kind == "sqlite" {
			// A file without the journal's tables would read as an
			// empty journal: bring it up to date, as serve does.
			if _, err := migrateUp(cmd.Context(), st); err != nil {
				st.Close()
				return nil, err
			}
		} else if err := schemaCurrent(cmd.Context(), st); err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	}
	cmd.AddCommand(newJournalVerify(stdout, getenv, open), newJournalCheckpoint(stdout, getenv, open),
		newJournalExport(stdout, open), newJournalErase(stdout, open), newJournalRotateKey(stdout, getenv, open),
		newJournalVKey(stdout, getenv, open), newJournalWitness(stdout, getenv, open))
	return cmd
}

// verifyFailed is a journal that does not verify: exit 1, naming the
// first failure.
func verifyFailed(f *journal.Failure) error {
	return fmt.Errorf("the journal does not verify: %s", f)
}

// journalKeysWith reads the secret key (--secret-key or
// RELAIS_SECRET_KEY) and returns the journal keys over st. Only the secret
// key tells the deployment's journal keys from rows added to the
// database, so every command that trusts a journal key needs it.
func journalKeysWith(st store, secret string, getenv func(string) string) (*keyring.JournalKeys, error) {
	if secret == "" {
		secret = getenv("RELAIS_SECRET_KEY")
	}
	key, err := parseSecretKey(secret)
	if err != nil {
		return nil, err
	}
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		return nil, err
	}
	return keyring.NewJournalKeys(st, box, time.Now), nil
}

// withJournalKeys runs fn with the store and its journal keys, opened
// under the secret key (--secret-key or RELAIS_SECRET_KEY), which is
// checked before the store is opened.
func withJournalKeys(cmd *cobra.Command, open openFunc, secret string, getenv func(string) string, fn func(store, *keyring.JournalKeys) error) error {
	if secret == "" {
		secret = getenv("RELAIS_SECRET_KEY")
	}
	if _, err := parseSecretKey(secret); err != nil {
		return err
	}
	st, err := open(cmd)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := journalKeysWith(st, secret, getenv)
	if err != nil {
		return err
	}
	return fn(st, keys)
}

// keysFailed is a journal key that is not trusted, or a checkpoint its
// history names that is gone: exit 1, naming it.
func keysFailed(err error) error {
	var ue *keyring.UntrustedKeyError
	var f *journal.Failure
	switch {
	case errors.As(err, &ue):
		return fmt.Errorf("the journal does not verify: %s", ue)
	case errors.As(err, &f):
		return verifyFailed(f)
	}
	return secretKeyMismatch(err)
}

func newJournalVerify(stdout io.Writer, getenv func(string) string, open openFunc) *cobra.Command {
	var person, file, jwksFile, secret string
	var wf witnessFlags
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every chain and checkpoint (or one person's, or an export file); exit 1 naming the first failure",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			witnesses, k, err := wf.parse()
			if err != nil {
				return err
			}
			if file != "" {
				return verifyExportFile(cmd, stdout, getenv, open, file, jwksFile, secret, witnesses, k)
			}
			if jwksFile != "" {
				return settingErr("--jwks is for checking an export: add --file EXPORT.")
			}
			return withJournalKeys(cmd, open, secret, getenv, func(st store, keys *keyring.JournalKeys) error {
				rep, err := verifyStore(cmd.Context(), st, keys, person)
				var kf *keysFailure
				if errors.As(err, &kf) {
					return keysFailed(kf.err)
				}
				if err != nil {
					return err
				}
				if rep.Failure != nil {
					return verifyFailed(rep.Failure)
				}
				what := "the journal"
				if person != "" {
					what = "the journal of " + person
				}
				fmt.Fprintf(stdout, "%s verifies: %d chains, %d entries (%d details erased), %d checkpoints; %d entries not yet covered by a checkpoint\n",
					what, rep.Chains, rep.Entries, rep.Erased, rep.Checkpoints, rep.Uncovered)
				return verifyWitnessedStore(cmd.Context(), stdout, st, witnesses, k, wf.maxBehind)
			})
		},
	}
	wf.bind(cmd.Flags())
	cmd.Flags().StringVar(&person, "person", "", "check only this person's chain (or org:ID, admin)")
	cmd.Flags().StringVar(&file, "file", "", "check an export (relais journal export) instead of the store")
	cmd.Flags().StringVar(&jwksFile, "jwks", "", "with --file: the published JWK set (the issuer's /jwks, saved to a file); without it, the keys in --db")
	cmd.Flags().StringVar(&secret, "secret-key", "", "base64 of the deployment's 32-byte secret key, which tells its journal keys from rows added to the database (prefer RELAIS_SECRET_KEY; not needed with --jwks)")
	return cmd
}

// verifyStore is what relais journal verify checks in a store (and
// relais restore in a copy): the journal keys' history, then every chain
// and checkpoint, or one person's chain when person is set. A key that is
// not trusted, or a checkpoint the keys' history names that is gone, is
// a *keysFailure (over a *keyring.UntrustedKeyError, a *journal.Failure,
// or a secret key that does not open them); tampering
// with the entries or checkpoints is the report's Failure.
func verifyStore(ctx context.Context, st store, keys *keyring.JournalKeys, person string) (journal.Report, error) {
	v, err := keys.Verifier(ctx)
	if err != nil {
		return journal.Report{}, &keysFailure{err}
	}
	return journal.Verify(ctx, st, v, person)
}

// keysFailure is verifyStore's failure to trust the journal keys, told
// from a failure to read the store: keysFailed says which.
type keysFailure struct{ err error }

func (e *keysFailure) Error() string { return e.err.Error() }
func (e *keysFailure) Unwrap() error { return e.err }

func verifyExportFile(cmd *cobra.Command, stdout io.Writer, getenv func(string) string, open openFunc, file, jwksFile, secret string, witnesses []journal.NoteVerifier, k int) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return settingErr("--file %s cannot be read (%s); check the path.", file, shortCause(err))
	}
	x, err := journal.ParseExport(b)
	if err != nil {
		return fmt.Errorf("%s is rejected: %w", file, err)
	}
	var v journal.SignatureVerifier
	if jwksFile != "" {
		raw, err := os.ReadFile(jwksFile)
		if err != nil {
			return settingErr("--jwks %s cannot be read (%s); save the issuer's /jwks to a file.", jwksFile, shortCause(err))
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return settingErr("--jwks %s is not a JWK set (%s); save the issuer's /jwks to a file.", jwksFile, shortCause(err))
		}
		v = keyring.NewJournalVerifier(set)
	} else {
		st, err := open(cmd)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := journalKeysWith(st, secret, getenv)
		if err != nil {
			return err
		}
		if v, err = keys.Verifier(cmd.Context()); err != nil {
			return keysFailed(err)
		}
	}
	rep := journal.VerifyExport(x, v)
	if rep.Failure != nil {
		return fmt.Errorf("%s is rejected: %s", file, rep.Failure)
	}
	witnessed, err := verifyWitnessedExport(file, x, witnesses, k)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s verifies: chain %s, %d entries (%d details erased); checkpoint %d signs it up to entry %d; %d entries not yet covered by a checkpoint\n%s",
		file, x.Chain, rep.Entries, rep.Erased, rep.Checkpoint, rep.SignedUpTo, rep.Uncovered, witnessed)
	return nil
}

func newJournalCheckpoint(stdout io.Writer, getenv func(string) string, open openFunc) *cobra.Command {
	var secret string
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign a checkpoint of the journal now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withJournalKeys(cmd, open, secret, getenv, func(st store, keys *keyring.JournalKeys) error {
				if err := keys.Ensure(cmd.Context()); err != nil {
					return keysFailed(err)
				}
				cp, err := journal.MakeCheckpoint(cmd.Context(), st, keys, journal.CheckpointOptions{Always: true})
				var f *journal.Failure
				if errors.As(err, &f) {
					return fmt.Errorf("no checkpoint signed over a tampered journal: %s", f)
				}
				if err != nil {
					return err
				}
				if err := keys.EndorseFirst(cmd.Context()); err != nil {
					return keysFailed(err)
				}
				fmt.Fprintf(stdout, "checkpoint %d signed by %s: %d chains, root %s, %d changed since the previous one\n",
					cp.Number, cp.KeyID, cp.TreeSize, cp.Root, len(cp.Heads))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&secret, "secret-key", "", "base64 of the 32-byte key that encrypts the journal key at rest (prefer RELAIS_SECRET_KEY)")
	return cmd
}

func newJournalRotateKey(stdout io.Writer, getenv func(string) string, open openFunc) *cobra.Command {
	var secret string
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Add the next journal key, endorsed by the current one; it signs from the next checkpoint on",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withJournalKeys(cmd, open, secret, getenv, func(st store, keys *keyring.JournalKeys) error {
				var k keyring.JournalKey
				err := st.InTx(cmd.Context(), func(ctx context.Context) error {
					var err error
					if k, err = keys.Rotate(ctx); err != nil {
						return err
					}
					return adminEvent(ctx, st, mandates.EventKeyRotated, "", map[string]string{"kid": k.ID, "alg": keyring.ES256})
				})
				switch {
				case errors.Is(err, mandates.ErrConflict):
					return fmt.Errorf("another journal key was added at the same moment; run relais journal verify to see the history")
				case err != nil:
					return keysFailed(err)
				}
				fmt.Fprintf(stdout, "added journal key %s (generation %d), endorsed by the one before it: it signs from the next checkpoint on\n", k.ID, k.Generation)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&secret, "secret-key", "", "base64 of the 32-byte key that encrypts the journal keys at rest (prefer RELAIS_SECRET_KEY)")
	return cmd
}

func newJournalExport(stdout io.Writer, open openFunc) *cobra.Command {
	var person, output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write one person's journal as JSON, with the checkpoint and inclusion proof that let anyone verify it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if person == "" {
				return settingErr("--person is required: the id of the person whose journal to export.")
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			x, err := journal.BuildExport(cmd.Context(), st, person, time.Now())
			if err != nil {
				return err
			}
			if len(x.Entries) == 0 {
				return fmt.Errorf("the journal of %s has no entry", person)
			}
			b, err := json.MarshalIndent(x, "", "  ")
			if err != nil {
				return err
			}
			b = append(b, '\n')
			if output == "" {
				_, err = stdout.Write(b)
				return err
			}
			if err := os.WriteFile(output, b, 0o600); err != nil {
				return settingErr("--output %s cannot be written (%s); choose another file.", output, shortCause(err))
			}
			fmt.Fprintf(stdout, "wrote %d entries of %s to %s\n", len(x.Entries), person, output)
			return nil
		},
	}
	cmd.Flags().StringVar(&person, "person", "", "the person's id (or org:ID, admin)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

func newJournalErase(stdout io.Writer, open openFunc) *cobra.Command {
	var person, before string
	cmd := &cobra.Command{
		Use:   "erase",
		Short: "Erase the details of a person's journal entries written before a date; the chain still verifies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if person == "" {
				return settingErr("--person is required: the id of the person whose journal details to erase.")
			}
			at, err := parseBefore(before)
			if err != nil {
				return err
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := journal.New(st, journal.Options{}).Erase(cmd.Context(), person, at)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "erased the details of %d entries of %s written before %s\n", n, person, stamp(at))
			return nil
		},
	}
	cmd.Flags().StringVar(&person, "person", "", "the person's id")
	cmd.Flags().StringVar(&before, "before", "", "erase details of entries written before this date (2026-03-01) or time (RFC 3339)")
	return cmd
}

func parseBefore(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, settingErr("--before %q is not a date; write for example --before 2026-03-01.", s)
}

// journalJobs is the journal's background work in relais serve: a
// checkpoint every interval, if set the retention's erasures, and the
// representations' expiries. Any instance may do it; the lease in the
// store keeps two from doing it at once, and its expiry lets another take
// over if one stops.
type journalJobs struct {
	store     journal.Store
	journal   *journal.Journal
	signer    journal.Signer
	holder    string
	interval  time.Duration
	retention time.Duration
	expiries  expiryRecorder     // nil: none
	witnesses *journalWitnessing // nil: none
	now       func() time.Time
	log       *slog.Logger
}

// firstKeyEndorser endorses the first journal key once checkpoint 1
// exists (keyring.JournalKeys), so that the checkpoints cannot be deleted
// and signed again from 1 unseen (docs/journal.md).
type firstKeyEndorser interface {
	EndorseFirst(ctx context.Context) error
}

// expiryRecorder records the expiries of representations whose end date
// passed, and announces those whose end is near (mandates.Service;
// endings.go).
type expiryRecorder interface {
	RecordExpiries(ctx context.Context, limit int) (int, error)
	RecordEndingsSoon(ctx context.Context, limit int) (int, error)
}

// expiryBatch is how many expiries one call records; a round calls again
// while calls come back full.
const expiryBatch = 500

// once runs the work if this instance holds the lease, and says whether
// it did.
func (jj *journalJobs) once(ctx context.Context) (bool, error) {
	now := jj.now()
	// Held for most of an interval and not released: whichever instance
	// ticks next after it expires does the next round.
	ok, err := jj.store.AcquireJournalLease(ctx, jj.holder, now, now.Add(jj.interval*9/10))
	if err != nil || !ok {
		return false, err
	}
	cp, err := journal.MakeCheckpoint(ctx, jj.store, jj.signer, journal.CheckpointOptions{Now: jj.now})
	var f *journal.Failure
	switch {
	case errors.Is(err, journal.ErrNothingNew):
	case errors.As(err, &f):
		jj.log.ErrorContext(ctx, "journal tampering found: no checkpoint signed", "chain", f.Chain, "seq", f.Seq,
			"checkpoint", f.Checkpoint, "kind", string(f.Kind))
		return true, err
	case err != nil:
		return true, err
	default:
		jj.log.InfoContext(ctx, "journal checkpoint signed", "checkpoint", cp.Number, "chains", cp.TreeSize, "changed", len(cp.Heads))
		if e, ok := jj.signer.(firstKeyEndorser); ok {
			if err := e.EndorseFirst(ctx); err != nil {
				return true, err
			}
		}
	}
	jj.witnesses.round(ctx, jj.log)
	if jj.retention > 0 {
		n, err := jj.journal.Expire(ctx, jj.retention)
		if err != nil {
			return true, err
		}
		if n > 0 {
			jj.log.InfoContext(ctx, "journal details erased at the end of retention", "entries", n)
		}
	}
	return true, errors.Join(jj.recordExpiries(ctx), jj.recordEndings(ctx))
}

// recordExpiries journals the expiries due. Readers do not wait for it:
// a representation reads as expired the moment its end passes; this
// records, once, that it did. Instances racing here record each once.
func (jj *journalJobs) recordExpiries(ctx context.Context) error {
	if jj.expiries == nil {
		return nil
	}
	total := 0
	for {
		n, err := jj.expiries.RecordExpiries(ctx, expiryBatch)
		total += n
		if err != nil || n < expiryBatch {
			if total > 0 {
				jj.log.InfoContext(ctx, "representation expiries recorded", "representations", total)
			}
			return err
		}
	}
}

// run calls once at each tick until ctx ends.
func (jj *journalJobs) run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if _, err := jj.once(ctx); err != nil && ctx.Err() == nil {
				jj.log.ErrorContext(ctx, "journal background work failed", "err", err)
			}
		}
	}
}

// startJournal makes sure the journal key exists and starts the periodic
// checkpoint, erasures and expiries; stop waits for the work in progress
// to end.
func startJournal(ctx context.Context, c *Config, st store, j *journal.Journal, box *keyring.SecretBox, expiries expiryRecorder, log *slog.Logger) (stop func(), err error) {
	keys := keyring.NewJournalKeys(st, box, time.Now)
	if err := keys.Ensure(ctx); err != nil {
		// A key the deployment did not make, or checkpoints deleted:
		// refuse to start rather than publish the key or sign over
		// the database as it now is (docs/journal.md).
		return nil, keysFailed(err)
	}
	holder := make([]byte, 8)
	_, _ = rand.Read(holder) // crypto/rand.Read never fails (Go 1.24+).
	interval := c.JournalCheckpointInterval
	if interval <= 0 { // a Config that skipped validate, as tests build
		interval = defaultCheckpointInterval
	}
	witnesses, err := newJournalWitnessing(c, st, keys)
	if err != nil {
		return nil, err
	}
	jobs := &journalJobs{store: st, journal: j, signer: keys, holder: hex.EncodeToString(holder), interval: interval,
		retention: c.JournalRetention, expiries: expiries, witnesses: witnesses, now: time.Now, log: log}
	ticker := time.NewTicker(interval)
	jctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Checkpoints signed while no instance ran (relais journal
		// checkpoint) are cosigned at once rather than an interval later.
		witnesses.round(jctx, log)
		jobs.run(jctx, ticker.C)
	})
	return func() {
		cancel()
		ticker.Stop()
		wg.Wait()
	}, nil
}
