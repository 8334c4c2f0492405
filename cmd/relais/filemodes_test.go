package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestServeCreatesItsFilesForItsUserOnly protects the database (password
// hashes, personal data, the journal), its WAL and shared-memory files and
// the demo secret key from other users of the machine, even under a umask
// that would leave new files world-readable.
func TestServeCreatesItsFilesForItsUserOnly(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	path := filepath.Join(t.TempDir(), "relais.db")
	base, _, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + path})
	defer stop()
	// A request that writes: the WAL exists while serve runs.
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm", path + ".secret-key"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(name), err)
			continue
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s is %v, want -rw------- (0600)", filepath.Base(name), fs.FileMode(mode))
		}
	}
}
