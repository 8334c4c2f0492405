package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

// rawSQL runs statements on the database behind the store's back.
func rawSQL(t *testing.T, dsn string) storagetest.SQL {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return func(t *testing.T, statement string) {
		t.Helper()
		if _, err := pool.Exec(t.Context(), statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}
}

func TestJournalStore(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunJournalStore(t, func(t *testing.T) (storagetest.JournalStore, storagetest.SQL) {
		dsn := pgtest.NewDatabaseFrom(t, tmpl)
		return open(t, dsn), rawSQL(t, dsn)
	})
}

func TestJournalBatcher(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunJournalBatcher(t, func(t *testing.T) (storagetest.JournalStore, storagetest.SQL) {
		dsn := pgtest.NewDatabaseFrom(t, tmpl)
		return open(t, dsn), rawSQL(t, dsn)
	})
}

// TestJournalTwoProcesses: two processes append to one person's chain at
// once, as two relais instances would; both succeed, in order: no gap,
// no fork, no loss.
func TestJournalTwoProcesses(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	dsn := pgtest.NewDatabaseFrom(t, tmpl)
	person := mandates.NewID(time.Now())
	const perProcess = 200
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var children []child
	for _, name := range []string{"A", "B"} {
		cmd := exec.Command(os.Args[0]) // TestMain runs journalAppendChild

		cmd.Env = append(os.Environ(), "RELAIS_TEST_JOURNAL_DSN="+dsn, "RELAIS_TEST_JOURNAL_PERSON="+person,
			"RELAIS_TEST_JOURNAL_WRITER="+name, fmt.Sprint("RELAIS_TEST_JOURNAL_N=", perProcess))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, child{cmd, stdin, bufio.NewReader(stdout)})
	}
	for _, c := range children {
		for {
			line, err := c.out.ReadString('\n')
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			if strings.TrimSpace(line) == "ready" {
				break
			}
		}
	}
	for _, c := range children { // both start together
		c.stdin.Close()
	}
	for _, c := range children {
		rest, _ := io.ReadAll(c.out)
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v\n%s", err, rest)
		}
	}
	s := open(t, dsn)
	var n int
	seen := map[string]bool{}
	writers := map[string]int{}
	var last string
	switches := 0 // how often the writing process changes along the chain
	err := s.JournalEntries(t.Context(), person, func(e journal.Stored) error {
		n++
		if e.Seq != int64(n) {
			return fmt.Errorf("entry %d has seq %d", n, e.Seq)
		}
		seen[e.Detail.Fields["writer"]+e.Detail.Fields["n"]] = true
		writers[e.Detail.Fields["writer"]]++
		if w := e.Detail.Fields["writer"]; last != "" && w != last {
			switches++
		}
		last = e.Detail.Fields["writer"]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2*perProcess || len(seen) != 2*perProcess || writers["A"] != perProcess || writers["B"] != perProcess {
		t.Errorf("%d entries, %d distinct, by writer %v; want %d each", n, len(seen), writers, perProcess)
	}
	if switches < 2 {
		t.Errorf("the processes did not write at the same time (%d switches)", switches)
	}
	t.Logf("%d entries, the writing process changed %d times along the chain", n, switches)
	box, _ := keyring.NewSecretBox([]byte(strings.Repeat("j", 32)))
	keys := keyring.NewJournalKeys(s, box, time.Now)
	if err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	v, _ := keys.Verifier(t.Context())
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() {
		t.Errorf("verify: %v, %v", rep.Failure, err)
	}
}

// journalAppendChild is one of TestJournalTwoProcesses's processes:
// TestMain runs it instead of the tests when the parent set its
// variables. It appends its events to the person's chain from several
// goroutines once the parent closes its stdin.
func journalAppendChild(dsn string) error {
	ctx := context.Background()
	person, writer := os.Getenv("RELAIS_TEST_JOURNAL_PERSON"), os.Getenv("RELAIS_TEST_JOURNAL_WRITER")
	total, err := strconv.Atoi(os.Getenv("RELAIS_TEST_JOURNAL_N"))
	if err != nil {
		return fmt.Errorf("RELAIS_TEST_JOURNAL_N: %w", err)
	}
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	j := journal.New(s, journal.Options{})
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // go when the parent closes stdin
	const goroutines = 4
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < total; i += goroutines {
				e := mandates.Event{Type: mandates.EventActivated, At: time.Now(), PersonID: person,
					Detail: map[string]string{"writer": writer, "n": strconv.Itoa(i)}}
				errs <- s.InTx(ctx, func(ctx context.Context) error { return j.Emit(ctx, e) })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestJournalVerifySpeed verifies a journal of 20,000 entries in 20
// chains and logs the time per million entries; RELAIS_JOURNAL_BENCH sets
// another size, for the measurement:
//
//	RELAIS_JOURNAL_BENCH=1000000 go test ./storage/postgres -run TestJournalVerifySpeed -v -timeout 1h
func TestJournalVerifySpeed(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.MeasureJournalVerify(t, open(t, pgtest.NewDatabaseFrom(t, tmpl)), storagetest.JournalBenchSize(), 1000)
}

// BenchmarkCheckpoint: see storage/sqlite's.
//
//	CI=1 go test ./storage/postgres -run '^$' -bench BenchmarkCheckpoint -benchtime 20x
func BenchmarkCheckpoint(b *testing.B) {
	tmpl := pgtest.Template(b, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	for _, bc := range []struct {
		name                     string
		chains, changed, history int
	}{
		{"10000 chains, 100 changed", 10_000, 100, 0},
		{"10000 chains, 100 changed, after more rounds", 10_000, 100, storagetest.CheckpointBenchHistory()},
		{"10000 chains, nothing new, after more rounds", 10_000, 0, storagetest.CheckpointBenchHistory()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			storagetest.BenchCheckpoint(b, open(b, pgtest.NewDatabaseFrom(b, tmpl)), bc.chains, bc.changed, bc.history)
		})
	}
}

// BenchmarkBatcher: see storage/sqlite's; four workers, as relais serve
// runs on PostgreSQL.
//
//	CI=1 go test ./storage/postgres -run '^$' -bench BenchmarkBatcher -benchtime 3s
func BenchmarkBatcher(b *testing.B) {
	tmpl := pgtest.Template(b, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	for _, chains := range []int{1, 64} {
		b.Run(fmt.Sprintf("32 recorders, %d chains", chains), func(b *testing.B) {
			storagetest.BenchBatcher(b, open(b, pgtest.NewDatabaseFrom(b, tmpl)), 32, chains, journal.BatchOptions{Workers: 4})
		})
	}
}
