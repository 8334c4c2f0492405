package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// witnessFixture is a journal in SQLite with its key, and a witness of it
// served by witnessHandler over its own SQLite file.
type witnessFixture struct {
	st     *sqlite.Store
	keys   *keyring.JournalKeys
	server *httptest.Server
	client *httpCosigner
}

func newWitnessFixture(t *testing.T) *witnessFixture {
	t.Helper()
	_, path, _ := journalDB(t)
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32))
	keys := keyring.NewJournalKeys(st, box, time.Now)
	if err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	logKeys, err := keys.NoteKeys(t.Context(), "relais.test/journal")
	if err != nil {
		t.Fatal(err)
	}
	wpath := filepath.Join(t.TempDir(), "witness.db")
	wst, err := sqlite.Open(t.Context(), wpath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wst.Close() })
	if _, err := migrateUp(t.Context(), wst); err != nil {
		t.Fatal(err)
	}
	seed := sha256.Sum256([]byte("witness"))
	w, err := journal.NewWitnessing("witness.test/w", ed25519.NewKeyFromSeed(seed[:]), logKeys, wst, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(witnessHandler(w, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	ws, err := parseWitnesses([]string{srv.URL + "/ " + w.Key().String()})
	if err != nil {
		t.Fatal(err)
	}
	return &witnessFixture{st: st, keys: keys, server: srv, client: ws[0].(*httpCosigner)}
}

func (f *witnessFixture) checkpoint(t *testing.T) {
	t.Helper()
	if _, err := journal.MakeCheckpoint(t.Context(), f.st, f.keys, journal.CheckpointOptions{Always: true}); err != nil {
		t.Fatal(err)
	}
}

func (f *witnessFixture) notes(t *testing.T) []journal.NumberedNote {
	t.Helper()
	_, notes, err := journal.NoteCheckpoints(t.Context(), f.st, f.keys.NoteSigner("relais.test/journal"), "relais.test/journal")
	if err != nil {
		t.Fatal(err)
	}
	return notes
}

// TestTheWitnessAnswersAsTlogWitnessSays: over HTTP, a cosignature is a
// signature line; a conflict is 409 with the witness's latest number as
// text/x.tlog.size; a body that is not a request is 400; and the client
// reads each back as the witness meant it.
func TestTheWitnessAnswersAsTlogWitnessSays(t *testing.T) {
	f := newWitnessFixture(t)
	f.checkpoint(t)
	f.checkpoint(t)
	notes := f.notes(t)
	sigs, err := f.client.AddCheckpoint(t.Context(), journal.AddCheckpoint{Note: notes[0].Note})
	if err != nil || len(sigs) != 1 {
		t.Fatalf("first checkpoint: %v, %v", sigs, err)
	}
	if _, ok := f.client.Key().Verify(notes[0].Note.Text, sigs[0]); !ok {
		t.Error("the cosignature does not verify with the witness's key")
	}
	_, err = f.client.AddCheckpoint(t.Context(), journal.AddCheckpoint{Old: 0, Note: notes[1].Note})
	var ref *journal.WitnessRefusal
	if !errors.As(err, &ref) || ref.Status != http.StatusConflict || ref.Latest != 1 {
		t.Errorf("a stale old number: %v, want 409 naming checkpoint 1", err)
	}
	resp, err := http.Post(f.server.URL+"/add-checkpoint", "text/plain", strings.NewReader(string(journal.AddCheckpoint{Note: notes[1].Note}.Marshal())))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Content-Type") != "text/x.tlog.size" || string(body) != "1\n" {
		t.Errorf("raw conflict: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	for _, bad := range []string{"", "old x\n\n", "old 0\n\n" + notes[1].Note.Text} {
		resp, err := http.Post(f.server.URL+"/add-checkpoint", "text/plain", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", bad, resp.StatusCode)
		}
	}
	if sigs, err := f.client.AddCheckpoint(t.Context(), journal.AddCheckpoint{Old: 1, Note: notes[1].Note}); err != nil || len(sigs) != 1 {
		t.Errorf("checkpoint 2 from 1: %v, %v", sigs, err)
	}
}

// TestAWitnessThatIsDownDoesNotStopTheJournal: the checkpoint is signed
// and the round reports the witness; once it is back, the next round has
// it cosign the latest checkpoint, through the ones it missed.
func TestAWitnessThatIsDownDoesNotStopTheJournal(t *testing.T) {
	f := newWitnessFixture(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	jw := &journalWitnessing{store: f.st, signer: f.keys.NoteSigner("relais.test/journal"), origin: "relais.test/journal",
		witnesses: []journal.Cosigner{f.client}}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	jobs := &journalJobs{store: f.st, journal: journal.New(f.st, journal.Options{}), signer: f.keys, holder: "a", interval: time.Hour,
		witnesses: jw, now: func() time.Time { return now }, log: log}
	if ran, err := jobs.once(t.Context()); !ran || err != nil {
		t.Fatalf("first round: %v, %v", ran, err)
	}
	up := f.client.url
	f.client.url = "http://127.0.0.1:1/add-checkpoint" // nothing listens there
	for range 2 {
		now = now.Add(time.Hour)
		f.checkpoint(t) // as relais journal checkpoint would
		if ran, err := jobs.once(t.Context()); !ran || err != nil {
			t.Fatalf("a round with the witness down: %v, %v", ran, err)
		}
	}
	if !strings.Contains(logs.String(), "could not be reached") {
		t.Errorf("the witness being down was not logged:\n%s", logs.String())
	}
	f.client.url = up
	jw.round(context.WithoutCancel(t.Context()), log)
	if n, err := f.st.LastJournalCosignature(t.Context(), f.client.key.Name, f.client.key.KeyID); err != nil || n != 3 {
		t.Errorf("the witness, back, cosigned up to %d (%v), want 3", n, err)
	}
	rep, err := journal.VerifyWitnessed(t.Context(), f.st, []journal.NoteVerifier{f.client.key}, 1)
	if err != nil || rep.Failure != nil || rep.Checkpoint != 3 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
