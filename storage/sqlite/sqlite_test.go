package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"

	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/storagetest"
)

func openTemp(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return openTemp(t) })
}

// TestMain doubles as "another program" holding the database's write lock,
// when started by TestLockedByAnotherProcess.
func TestMain(m *testing.M) {
	if path := os.Getenv("RELAIS_TEST_HOLD_LOCK"); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	conn, err := db.Conn(context.Background())
	if err == nil {
		_, err = conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE")
	}
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold until the test closes stdin
	return 0
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, _ := s.Migrations()
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RELAIS_TEST_HOLD_LOCK="+path)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("lock holder said %q", line)
	}

	person := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Anne", FamilyName: "Roux", BirthDate: mandates.Date(1990, 1, 2)}
	err = s.CreatePerson(t.Context(), person)
	if !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("write while another program holds the lock: %v, want ErrUnavailable", err)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	if err := s.CreatePerson(t.Context(), person); err != nil {
		t.Errorf("write after the lock was released: %v", err)
	}
}

func TestOpenRefusesWhatIsNotADatabase(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"a text file":      notDB,
		"a folder":         dir,
		"a missing folder": filepath.Join(dir, "missing", "relais.db"),
	} {
		if s, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestTokenStore(t *testing.T) {
	storagetest.RunTokenStore(t, func(t *testing.T) storagetest.TokenStore { return openTemp(t) })
}

func TestKeyStore(t *testing.T) {
	storagetest.RunKeyStore(t, func(t *testing.T) storagetest.KeyStore { return openTemp(t) })
}

func TestLoginStore(t *testing.T) {
	storagetest.RunLoginStore(t, func(t *testing.T) storagetest.LoginStore { return openTemp(t) })
}

func TestTOTPStore(t *testing.T) {
	storagetest.RunTOTPStore(t, func(t *testing.T) storagetest.TOTPStore { return openTemp(t) })
}

func TestRepresentationStore(t *testing.T) {
	storagetest.RunRepresentationStore(t, func(t *testing.T) storagetest.RepresentationStore { return openTemp(t) })
}
