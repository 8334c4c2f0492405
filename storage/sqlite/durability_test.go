package sqlite

import (
	"path/filepath"
	"testing"
)

// TestTheWriterIsSafeFromAProcessKill: every connection runs in WAL mode,
// and the writer commits with synchronous=NORMAL. In WAL mode a commit is
// written to the -wal file (the system's page cache) before it returns,
// and fsync waits for the next checkpoint: a process killed outright
// (kill -9, the OOM killer) loses no committed transaction and leaves no
// half-written one (the next opening replays the WAL up to its last
// commit); only a crash of the system or a power cut may lose the last
// transactions, and even then the file stays consistent. FULL would
// close that window at the cost of an fsync per commit. cmd/relais's
// TestKillNineUnderLoad kills serve under load.
func TestTheWriterIsSafeFromAProcessKill(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name, pragma, want string
	}{
		{"the writer journals ahead", "journal_mode", "wal"},
		{"the writer's commit is in the WAL when it returns (NORMAL)", "synchronous", "1"},
		{"the writer keeps the references", "foreign_keys", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := s.w.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
			}
		})
	}
	var mode string
	if err := s.r.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("a reader's journal_mode = %q (%v), want wal: a reader in rollback mode would block the writer", mode, err)
	}
}
