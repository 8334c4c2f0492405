package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// postgresCopies is what relais backup and restore say on a PostgreSQL
// deployment, whose copies PostgreSQL's own tools make.
const postgresCopies = "--db (RELAIS_DB) names a PostgreSQL database: back it up and restore it with PostgreSQL's own tools (pg_dump -Fc and pg_restore, or pg_basebackup with WAL archiving), as the README's « Back up and restore » section says."

// sqlitePath is the SQLite file --db names, after the RELAIS_* defaults;
// a PostgreSQL --db is a setting error pointing to PostgreSQL's tools.
func sqlitePath(flags *pflag.FlagSet, c *Config, getenv func(string) string) (string, error) {
	if err := applyEnv(flags, getenv); err != nil {
		return "", err
	}
	if c.BusyTimeout <= 0 {
		return "", settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
	}
	kind, path, err := storeKind(c.DB)
	if err != nil {
		return "", err
	}
	if kind != "sqlite" {
		return "", settingErr("%s", postgresCopies)
	}
	return path, nil
}

// newBackup is relais backup: a consistent copy of the embedded store,
// taken while serve runs.
func newBackup(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	var out string
	var replace bool
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the SQLite store, consistently, while relais serve runs (PostgreSQL: see the README)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := sqlitePath(cmd.Flags(), &c, getenv)
			if err != nil {
				return err
			}
			if out == "" {
				return settingErr("--out is required: the file to write the copy to, for example --out relais-%s.db.", time.Now().UTC().Format("20060102"))
			}
			return backup(cmd.Context(), stdout, c, path, out, replace)
		},
	}
	bindStoreFlags(cmd.Flags(), &c)
	cmd.Flags().StringVar(&out, "out", "", "the file to write the copy to (created readable by this user only)")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace --out if it exists")
	return cmd
}

func backup(ctx context.Context, stdout io.Writer, c Config, path, out string, replace bool) error {
	start := time.Now()
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return settingErr("--db %s (RELAIS_DB): there is no database file to back up there; check the path.", c.DB)
	}
	if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
		return settingErr("--out %s: the folder %s does not exist; create it or choose another file.", out, filepath.Dir(out))
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return settingErr("--out %s is a folder; name a file in it, for example --out %s.", out, filepath.Join(out, "relais-"+time.Now().UTC().Format("20060102")+".db"))
	}
	if _, err := os.Lstat(out); err == nil && !replace {
		return settingErr("--out %s already exists; choose another file, or add --replace to overwrite it.", out)
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: c.BusyTimeout})
	if err != nil {
		return sqliteErr(path, err)
	}
	defer st.Close()
	// The copy is written under a temporary name beside --out and renamed
	// once complete and on disk: a crash never leaves half a file there.
	// CreateTemp makes it 0600, and SQLite keeps an existing file's mode:
	// the copy holds what the store holds, secrets and personal data.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".relais-backup-*.db")
	if err != nil {
		return settingErr("--out %s cannot be written (%s); choose another folder.", out, shortCause(err))
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer removeDB(tmpPath)
	if err := st.Backup(ctx, tmpPath); err != nil {
		return err
	}
	sum, err := sqlite.Check(ctx, tmpPath)
	if err != nil {
		return fmt.Errorf("the copy does not check: %w", err)
	}
	if err := removeSidecars(tmpPath); err != nil {
		return err
	}
	size, err := syncFile(tmpPath)
	if err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmpPath, out)
	} else {
		// A link fails if --out appeared meanwhile: never overwritten
		// without --replace.
		err = os.Link(tmpPath, out)
	}
	if errors.Is(err, fs.ErrExist) {
		return settingErr("--out %s already exists; choose another file, or add --replace to overwrite it.", out)
	}
	if err != nil {
		return fmt.Errorf("put the copy at %s: %w", out, err)
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s: %s, schema version %d, journal of %d chains and %d entries (latest checkpoint %d), in %s\n",
		c.DB, out, byteSize(size), sum.Version, sum.Chains, sum.Entries, sum.Checkpoint, time.Since(start).Round(time.Millisecond))
	return nil
}

// newRestore is relais restore: check a copy, then put it in place of the
// embedded store, keeping the previous one beside it.
func newRestore(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	var from, secret string
	var checkOnly bool
	cmd := &cobra.Command{
		Use:   "restore --from FILE",
		Short: "Check a copy relais backup wrote and put it in place of the SQLite store (relais serve stopped); --check-only only checks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := sqlitePath(cmd.Flags(), &c, getenv)
			if err != nil {
				return err
			}
			if from == "" {
				return settingErr("--from is required: the copy relais backup wrote.")
			}
			if secret == "" {
				secret = getenv("RELAIS_SECRET_KEY")
			}
			if _, err := parseSecretKey(secret); err != nil {
				return err
			}
			if fi, err := os.Stat(from); err != nil || !fi.Mode().IsRegular() {
				return settingErr("--from %s is not a file that can be read; check the path.", from)
			}
			return restore(cmd.Context(), stdout, getenv, c, path, from, secret, checkOnly)
		},
	}
	bindStoreFlags(cmd.Flags(), &c)
	cmd.Flags().StringVar(&from, "from", "", "the copy to restore, as relais backup wrote it")
	cmd.Flags().BoolVar(&checkOnly, "check-only", false, "only check the copy; change nothing")
	cmd.Flags().StringVar(&secret, "secret-key", "", "base64 of the deployment's 32-byte secret key, which the copy's journal keys must open under (prefer RELAIS_SECRET_KEY)")
	return cmd
}

func restore(ctx context.Context, stdout io.Writer, getenv func(string) string, c Config, path, from, secret string, checkOnly bool) error {
	start := time.Now()
	// The copy is checked as a copy of it, staged beside the store so the
	// rename that puts it in place is atomic; checking it may migrate it
	// and leaves SQLite's files beside it, so --from is never touched.
	dir := filepath.Dir(path)
	if checkOnly {
		tmp, err := os.MkdirTemp("", "relais-restore-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return settingErr("--db %s (RELAIS_DB): the folder %s does not exist; create it first.", c.DB, dir)
	}
	staged, err := stageCopy(from, dir)
	if err != nil {
		return err
	}
	defer removeDB(staged)
	sum, rep, err := checkCopy(ctx, getenv, c, staged, from, secret)
	if err != nil {
		return err
	}
	checked := fmt.Sprintf("schema version %d, journal verifies: %d chains, %d entries, %d checkpoints", sum.Version, rep.Chains, rep.Entries, rep.Checkpoints)
	if checkOnly {
		fmt.Fprintf(stdout, "%s can be restored: %s\n", from, checked)
		return nil
	}
	if err := removeSidecars(staged); err != nil {
		return err
	}
	if _, err := syncFile(staged); err != nil {
		return err
	}
	kept, held, err := setAside(ctx, c, path)
	if err != nil {
		return err
	}
	// Rename replaces the store in one step: at every moment the path
	// holds either the previous store or the whole copy. The previous
	// store stays locked until the copy is in place, so no process can
	// start using it between the check that no one did and the rename.
	err = os.Rename(staged, path)
	if held != nil {
		if rerr := held.Release(); err == nil && rerr != nil {
			return rerr
		}
	}
	if err != nil {
		return fmt.Errorf("put the copy at %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	previous := "there was no store before"
	if kept != "" {
		previous = "the previous store is kept as " + kept
	}
	fmt.Fprintf(stdout, "restored %s into %s (%s): %s, in %s\n", from, c.DB, previous, checked, time.Since(start).Round(time.Millisecond))
	return nil
}

// stageCopy copies from into dir under a temporary name, readable by this
// user only.
func stageCopy(from, dir string) (string, error) {
	src, err := os.Open(from)
	if err != nil {
		return "", settingErr("--from %s cannot be read (%s); check the path and its rights.", from, shortCause(err))
	}
	defer src.Close()
	dst, err := os.CreateTemp(dir, ".relais-restore-*.db")
	if err != nil {
		return "", settingErr("the folder %s cannot be written (%s); check its rights.", dir, shortCause(err))
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		removeDB(dst.Name())
		return "", fmt.Errorf("copy %s: %w", from, err)
	}
	if err := dst.Close(); err != nil {
		removeDB(dst.Name())
		return "", fmt.Errorf("copy %s: %w", from, err)
	}
	return dst.Name(), nil
}

// checkCopy checks the staged copy of from as relais restore needs it: a
// sound SQLite file, a Relais schema this binary knows, brought up to
// date as serve would, whose journal verifies as relais journal verify
// checks it, under the deployment's secret key. Each failure is a setting
// error (exit 2) naming from.
func checkCopy(ctx context.Context, getenv func(string) string, c Config, staged, from, secret string) (sqlite.Summary, journal.Report, error) {
	var rep journal.Report
	sum, err := sqlite.Check(ctx, staged)
	var ie *sqlite.IntegrityError
	var se *sqlite.SchemaError
	switch {
	case errors.Is(err, sqlite.ErrNotDatabase):
		return sum, rep, settingErr("--from %s is not a SQLite database; choose a file relais backup wrote.", from)
	case errors.Is(err, sqlite.ErrNotRelais):
		return sum, rep, settingErr("--from %s is a SQLite database but not a Relais store; choose a file relais backup wrote.", from)
	case errors.As(err, &ie):
		return sum, rep, settingErr("--from %s is damaged (SQLite's integrity check: %s); restore another copy.", from, ie.Problems[0])
	case errors.As(err, &se):
		return sum, rep, settingErr("--from %s comes from a newer relais (schema version %d; this one knows up to %d); restore it with that version or a later one.", from, se.Version, se.Known)
	case err != nil:
		return sum, rep, err
	}
	st, err := sqlite.Open(ctx, staged, sqlite.Options{BusyTimeout: c.BusyTimeout})
	if err != nil {
		return sum, rep, err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if _, err := migrateUp(ctx, st); err != nil {
		return sum, rep, err
	}
	keys, err := journalKeysWith(st, secret, getenv)
	if err != nil {
		return sum, rep, err
	}
	rep, err = verifyStore(ctx, st, keys, "")
	var kf *keysFailure
	var ue *keyring.UntrustedKeyError
	var f *journal.Failure
	switch {
	case errors.As(err, &ue):
		return sum, rep, settingErr("--from %s: its journal does not verify (%s); restore another copy.", from, ue)
	case errors.As(err, &f):
		return sum, rep, settingErr("--from %s: its journal does not verify (%s); restore another copy.", from, f)
	case errors.As(err, &kf):
		return sum, rep, keysFailed(kf.err)
	case err != nil:
		return sum, rep, err
	case rep.Failure != nil:
		return sum, rep, settingErr("--from %s: its journal does not verify (%s); restore another copy.", from, rep.Failure)
	}
	// Closed before the file is moved: the last connection folds the
	// -wal in and removes it.
	closed = true
	return sum, rep, st.Close()
}

// setAside makes sure no one uses the store at path (a relais serve holds
// it open while it runs), folds its write-ahead log into the file, and
// keeps it under a second name, path.before-restore-TIME; it says that
// name, or "" when there was no store, and holds the store locked until
// the caller releases it (nil when there was no store). The -wal must be
// folded in first: SQLite would replay a -wal left beside the restored
// file into it, and the kept file alone must hold the whole previous
// store.
func setAside(ctx context.Context, c Config, path string) (string, *sqlite.Settled, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := removeSidecars(path); err != nil {
			return "", nil, err
		}
		return "", nil, nil
	}
	held, err := sqlite.Settle(ctx, path)
	switch {
	case errors.Is(err, sqlite.ErrInUse):
		return "", nil, settingErr("--db %s (RELAIS_DB) is in use, by relais serve most likely; stop it, restore, then start it again.", c.DB)
	case err != nil:
		return "", nil, err
	}
	kept := path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
	// A link, not a rename: the path never goes missing, and an earlier
	// kept file of the same second is never overwritten.
	if err := os.Link(path, kept); err != nil {
		held.Release()
		return "", nil, fmt.Errorf("keep the previous store as %s: %w", kept, err)
	}
	return kept, held, nil
}

// removeSidecars removes what SQLite may leave beside a database file no
// connection holds: the -shm index (rebuilt from the -wal) and an empty
// -wal. A -wal with content would hold committed writes: refuse.
func removeSidecars(path string) error {
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s-wal holds writes not yet in %s", path, path)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeDB removes a temporary database file and what SQLite left beside
// it.
func removeDB(path string) {
	for _, f := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		os.Remove(f)
	}
}

// syncFile flushes the file at path to disk and says its size.
func syncFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), f.Close()
}

// syncDir flushes a folder's entries, so a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// byteSize is n in the largest unit that keeps it at least 1.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
