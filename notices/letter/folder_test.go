package letter

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	f := &Folder{Dir: dir, Printer: testPrinter(t)}
	m := samples()[0].m
	m.ID = "0190f0c2-7a1b-7c3d-9e8f-001122334455"

	t.Run("a notice becomes one PDF named after its id, the same after a retry", func(t *testing.T) {
		if err := f.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		first, err := os.ReadFile(filepath.Join(dir, m.ID+".pdf"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		again, _ := os.ReadFile(filepath.Join(dir, m.ID+".pdf"))
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || string(first) != string(again) || len(first) < 1000 {
			t.Errorf("%d files, %d then %d bytes; want one file, the same bytes", len(entries), len(first), len(again))
		}
	})

	tests := []struct {
		name string
		edit func(*notices.Message)
		code string
	}{
		{"a missing address is a permanent refusal that says why", func(m *notices.Message) { m.To.Address = mandates.Address{} }, "address"},
		{"a message without a subject is a permanent refusal", func(m *notices.Message) { m.Subject = "" }, "message"},
		{"a message without a date is a permanent refusal", func(m *notices.Message) { m.Date = time.Time{} }, "message"},
		{"an id that would leave the folder is refused", func(m *notices.Message) { m.ID = "../x" }, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := m
			bad.ID = "other"
			tt.edit(&bad)
			err := f.Send(t.Context(), bad)
			var pe *notices.PermanentError
			if !errors.As(err, &pe) || pe.Code != tt.code || pe.Channel != notices.Paper {
				t.Fatalf("Send = %v, want a permanent paper refusal %q", err, tt.code)
			}
			if tt.code == "address" && !errors.Is(err, ErrAddress) {
				t.Errorf("%v does not match ErrAddress", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%d files in the folder, want only the first letter", len(entries))
			}
		})
	}
}

// TestFolderDraft: a letter rendered once is written under a temporary
// name, and becomes <ID>.pdf only when put, with the bytes Send writes;
// discarded, it leaves nothing. The demo's print service takes the notice
// between the two.
func TestFolderDraft(t *testing.T) {
	m := samples()[0].m
	m.ID = "0190f0c2-7a1b-7c3d-9e8f-00112233aaaa"
	sent := &Folder{Dir: t.TempDir(), Printer: testPrinter(t)}
	if err := sent.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(sent.Dir, m.ID+".pdf"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("put: the letter appears whole, under its name only", func(t *testing.T) {
		f := &Folder{Dir: t.TempDir(), Printer: testPrinter(t)}
		d, err := f.Draft(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, m.ID+".pdf")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the letter is in place before Put: %v", err)
		}
		if err := d.Put(); err != nil {
			t.Fatal(err)
		}
		d.Discard()
		got, err := os.ReadFile(filepath.Join(f.Dir, m.ID+".pdf"))
		if err != nil || string(got) != string(want) {
			t.Errorf("after Put: %d bytes, %v; want Send's %d bytes", len(got), err, len(want))
		}
		if entries, _ := os.ReadDir(f.Dir); len(entries) != 1 {
			t.Errorf("%d files in the folder, want the letter only", len(entries))
		}
	})
	t.Run("discard: nothing is left", func(t *testing.T) {
		f := &Folder{Dir: t.TempDir(), Printer: testPrinter(t)}
		d, err := f.Draft(t.Context(), m)
		if err != nil {
			t.Fatal(err)
		}
		d.Discard()
		if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
			t.Errorf("%d files in the folder after Discard, want none", len(entries))
		}
	})
	t.Run("a letter that cannot be printed is refused before any file", func(t *testing.T) {
		f := &Folder{Dir: t.TempDir(), Printer: testPrinter(t)}
		bad := m
		bad.To.Address = mandates.Address{}
		_, err := f.Draft(t.Context(), bad)
		var pe *notices.PermanentError
		if !errors.As(err, &pe) || pe.Code != "address" {
			t.Errorf("Draft = %v, want a permanent address refusal", err)
		}
		if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
			t.Errorf("%d files in the folder, want none", len(entries))
		}
	})
}
