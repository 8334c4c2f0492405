package words_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
)

// TestALetterToAnOrganisationGoesToItsAddress: an organisation with a
// postal address gets its letter, sent through the letter folder as the
// paper channel sends it; pdftotext finds the address block (the name,
// the street, the postal code and the commune in capitals) and the words.
func TestALetterToAnOrganisationGoesToItsAddress(t *testing.T) {
	s := fixture()
	o := s.orgs[id("fs")]
	o.Address = mandates.Address{Street: "Maison France Services\n4 rue de la Maison Neuve", PostalCode: "44000", Locality: "Nantes", Country: "France"}
	s.orgs[id("fs")] = o
	w := writer(t, s)
	n := notice(mandates.EventWithdrawn, "jeanne", "fs", notices.RoleRepresentative, notices.Paper,
		map[string]string{"representation_id": id("mandate"), "actor_id": id("jeanne"), "status": "revoked"})
	m, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if m.To.Address != o.Address {
		t.Errorf("the letter goes to %+v, want the organisation's address %+v", m.To.Address, o.Address)
	}
	p, err := letter.NewPrinter(letter.Letterhead{Name: "Relais", Address: []string{"1 rue Kervégan", "44000 Nantes"}, Phone: "02 40 00 00 00"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := &letter.Folder{Dir: dir, Printer: p}
	if err := f.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	pdfs, err := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if err != nil || len(pdfs) != 1 {
		t.Fatalf("the folder holds %v (%v), want one letter", pdfs, err)
	}
	text := run(t, "pdftotext", "-layout", "-enc", "UTF-8", pdfs[0], "-")
	block := []string{"France Services Nantes", "Maison France Services", "4 rue de la Maison Neuve", "44000 NANTES"}
	lines := strings.Split(text, "\n")
	at := -1
	for i, l := range lines {
		if strings.TrimSpace(l) == block[0] || strings.HasSuffix(strings.TrimSpace(l), " "+block[0]) {
			if i+len(block) <= len(lines) && strings.Contains(lines[i+1], block[1]) {
				at = i
				break
			}
		}
	}
	if at < 0 {
		t.Fatalf("no address block %q in the letter; pdftotext gives\n%s", block, text)
	}
	for k, want := range block[1:] {
		if !strings.Contains(lines[at+1+k], want) {
			t.Errorf("address block line %d is %q, want %q", k+2, strings.TrimSpace(lines[at+1+k]), want)
		}
	}
	if flat := squeeze(text); !strings.Contains(flat, "Jeanne Lefèvre a arrêté votre accès.") {
		t.Errorf("the letter lacks its subject; pdftotext gives\n%s", text)
	}
}
