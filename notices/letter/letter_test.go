package letter

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter/lettertest"
)

// run runs a poppler-utils tool (lettertest: skipped without it, a
// failure in CI).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return lettertest.Run(t, name, args...)
}

func testPrinter(t *testing.T) *Printer {
	t.Helper()
	p, err := NewPrinter(Letterhead{
		Name:    "France Services Nantes",
		Address: []string{"4 rue de la Maison Neuve", "44000 Nantes"},
		Phone:   "02 40 41 42 43",
	})
	if err != nil {
		t.Fatalf("NewPrinter: %v", err)
	}
	return p
}

// allFrench holds every character the issue asks a letter to keep.
const allFrench = "« » ’ é è ê ë à â ç ô û ù ï î œ Œ É À Ç €"

var jeanne = notices.Recipient{
	Name:    "Jeanne Lefèvre",
	Address: mandates.Address{Street: "12 rue des Lilas\nRésidence Les Pins, bâtiment B", PostalCode: "44000", Locality: "Nantes", Country: "France"},
}

// samples are one letter per kind of notice the outbox will send, in the
// plain words shared/PLAIN-LANGUAGE.md asks for.
func samples() []struct {
	kind string
	m    notices.Message
} {
	day := time.Date(2027, time.March, 3, 14, 5, 0, 0, time.UTC)
	type sample = struct {
		kind string
		m    notices.Message
	}
	return []sample{
		{"measure-registered", notices.Message{ID: "n1", Reference: "N-2027-00041", Lang: "fr", Date: day, To: jeanne,
			Subject: "Le juge a décidé que Marie Martin est votre tutrice.",
			Lines: []string{
				"Votre tutrice vous aide pour vos papiers et votre argent.",
				"Elle peut agir pour vous sur les sites des services publics.",
				"Vous n’êtes pas d’accord ? Vous pouvez contester cette décision.",
				"Écrivez au tribunal judiciaire de Nantes avant le 18 mars 2027.",
			}}},
		{"proxy-requested", notices.Message{ID: "n2", Reference: "N-2027-00042", Lang: "fr", Date: day, To: jeanne,
			Subject: "France Services Nantes demande à agir pour vous pendant 12 mois.",
			Lines: []string{
				"France Services Nantes veut vous aider pour vos papiers.",
				"Votre tutrice, Marie Martin, doit d’abord dire oui.",
				"Vous pouvez dire non. Répondez avant le 17 mars 2027.",
			}}},
		{"cosign-asked", notices.Message{ID: "n3", Reference: "N-2027-00043", Lang: "fr", Date: day, To: jeanne,
			Subject: "Karim Benali vous demande votre accord.",
			Lines: []string{
				"Karim Benali veut vendre votre voiture pour 2 500 €.",
				"Il a besoin de votre accord pour le faire.",
				"Répondez « oui » ou « non » sur votre espace avant le 10 mars 2027.",
			}}},
		{"every-french-character", notices.Message{ID: "n4", Reference: "N-2027-00044", Lang: "fr", Date: day, To: jeanne,
			Subject: "Œuvre, cœur, Élodie, À bientôt, Ça va ?",
			Lines:   []string{allFrench, "L’été, à Noël : « déjà » ? Où ça ? Très bien. Maïs, île, flûte, 15 €."}}},
		{"english", notices.Message{ID: "n5", Reference: "N-2027-00045", Lang: "en", Date: day,
			To:      notices.Recipient{Name: "Anne Dupont", Address: mandates.Address{Street: "5 rue Haute", PostalCode: "1000", Locality: "Bruxelles", Country: "Belgique"}},
			Subject: "You stopped the access of France Services Nantes.",
			Lines:   []string{"France Services Nantes can no longer act for you.", "You can give access again at any time."}}},
		{"two-pages", notices.Message{ID: "n6", Reference: "N-2027-00046", Lang: "fr", Date: day, To: jeanne,
			Subject: "Votre tutelle est renouvelée pour 5 ans.",
			Lines:   longLines()}},
	}
}

func longLines() []string {
	var lines []string
	for i := 1; i <= 24; i++ {
		lines = append(lines, "Ligne "+strconv.Itoa(i)+" : une idée par ligne, en gros caractères, pour lire sans peine.")
	}
	return lines
}

func TestLetterText(t *testing.T) {
	p := testPrinter(t)
	dir := t.TempDir()
	for _, s := range samples() {
		t.Run("the "+s.kind+" letter keeps its words, its address block and its page count", func(t *testing.T) {
			var buf bytes.Buffer
			pages, err := p.Render(&buf, s.m)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			file := filepath.Join(dir, s.kind+".pdf")
			if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if info := run(t, "pdfinfo", file); !strings.Contains(info, "Pages:           "+strconv.Itoa(pages)+"\n") {
				t.Errorf("Render said %d pages; pdfinfo says\n%s", pages, info)
			}
			text := run(t, "pdftotext", "-layout", "-enc", "UTF-8", file, "-")
			plain := run(t, "pdftotext", "-raw", "-enc", "UTF-8", file, "-")
			for _, want := range append([]string{s.m.Subject, s.m.Reference, "France Services Nantes", "02 40 41 42 43"}, s.m.Lines...) {
				if !strings.Contains(squeeze(plain), squeeze(want)) {
					t.Errorf("the letter lost %q; pdftotext -raw gives\n%s", want, plain)
				}
			}
			block, err := AddressBlock(s.m.To.Name, s.m.To.Address)
			if err != nil {
				t.Fatal(err)
			}
			last := -1
			for _, l := range block {
				at := strings.Index(text, l)
				if at <= last {
					t.Errorf("address line %q is missing or out of order in\n%s", l, text)
				}
				last = at
			}
			switch {
			case pages > 1 && !strings.Contains(text, "Page 1 sur "+strconv.Itoa(pages)) && !strings.Contains(text, "Page 1 of "+strconv.Itoa(pages)):
				t.Errorf("a letter of %d pages has no page numbers:\n%s", pages, text)
			case pages == 1 && strings.Contains(text, "Page 1"):
				t.Errorf("a letter of one page is numbered:\n%s", text)
			}
			if s.kind == "two-pages" && pages != 2 {
				t.Errorf("the long letter has %d pages, want 2", pages)
			}
		})
	}
	t.Run("every French character survives the PDF", func(t *testing.T) {
		file := filepath.Join(dir, "every-french-character.pdf")
		text := run(t, "pdftotext", "-layout", "-enc", "UTF-8", file, "-")
		for _, c := range strings.Fields(allFrench) {
			if !strings.Contains(text, c) {
				t.Errorf("%q is lost", c)
			}
		}
		if !strings.Contains(text, "Le 3 mars 2027") || !strings.Contains(text, "Référence : N-2027-00044") {
			t.Errorf("the date or the reference is missing:\n%s", text)
		}
	})
}

func TestLetterTypeSize(t *testing.T) {
	p := testPrinter(t)
	pdf, err := newPDF()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples() {
		t.Run("every line of the "+s.kind+" letter is set in 14 pt or more", func(t *testing.T) {
			pages, err := p.layout(pdf, s.m)
			if err != nil {
				t.Fatal(err)
			}
			for _, pg := range pages {
				for _, it := range pg {
					if it.size < TextSize {
						t.Errorf("%q is set in %v pt", it.text, it.size)
					}
					if it.y > bottom+0.01 || it.x < marginX {
						t.Errorf("%q sits at (%v, %v), outside the body", it.text, it.x, it.y)
					}
				}
			}
		})
	}
	t.Run("the PDF's words are as tall as 14 pt type", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := p.Render(&buf, samples()[0].m); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "l.pdf")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		html := run(t, "pdftotext", "-bbox", file, "-")
		heights := wordHeights(t, html)
		if len(heights) < 50 {
			t.Fatalf("only %d words in\n%s", len(heights), html)
		}
		// poppler's box is the font's ascent plus descent times the size:
		// 1.154 em for the Go fonts, so 14 pt type is 16.16 pt tall.
		for w, h := range heights {
			if h < 14*1.15 {
				t.Errorf("%q is %.1f pt tall: smaller than 14 pt type", w, h)
			}
		}
	})
}

// wordHeights reads pdftotext -bbox's <word yMin=… yMax=…>text</word>.
func wordHeights(t *testing.T, html string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(html, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "<word ") {
			continue
		}
		attr := func(name string) float64 {
			_, rest, _ := strings.Cut(line, name+`="`)
			v, _, _ := strings.Cut(rest, `"`)
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("no %s in %s", name, line)
			}
			return f
		}
		_, word, _ := strings.Cut(line, ">")
		word, _, _ = strings.Cut(word, "<")
		out[word] = attr("yMax") - attr("yMin")
	}
	return out
}

func TestLetterRefusesAnAddressThatCannotBePrinted(t *testing.T) {
	p := testPrinter(t)
	m := samples()[0].m
	m.To.Address.Street = "Résidence des Grands Chênes du Val de Loire, bâtiment C\n12 rue des Lilas"
	var buf bytes.Buffer
	_, err := p.Render(&buf, m)
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Rule != RuleTooLong || ae.Line != 2 {
		t.Fatalf("Render = %v, want an *AddressError too_long on line 2", err)
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written for a letter that cannot be sent", buf.Len())
	}
	m.To.Address = mandates.Address{}
	if _, err := p.Render(&buf, m); !errors.Is(err, ErrAddress) {
		t.Errorf("Render without an address = %v, want ErrAddress", err)
	}
}

func TestAddressBlockFitsTheWindow(t *testing.T) {
	p := testPrinter(t)
	pdf, err := newPDF()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		to   notices.Recipient
		min  float64
	}{
		{"a short address is set in 14 pt", jeanne, TextSize},
		{"38 characters in capitals shrink to fit, no smaller than 10 pt", notices.Recipient{Name: "Jeanne Lefèvre",
			Address: mandates.Address{Street: "1 rue Haute", PostalCode: "51290", Locality: "St Remy en Bouzemont St Genest e"}}, MinAddressSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := samples()[0].m
			m.To = tt.to
			pages, err := p.layout(pdf, m)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			for _, it := range pages[0] {
				if it.x != windowX {
					continue
				}
				n++
				pdf.SetFont(family, it.style, it.size)
				if it.size < tt.min || it.size < MinAddressSize {
					t.Errorf("%q in %v pt", it.text, it.size)
				}
				if w := pdf.GetStringWidth(it.text); it.x+w > windowX+windowW {
					t.Errorf("%q is %.1f mm wide, past the window", it.text, w)
				}
				if it.y < windowY || it.y > windowY+windowH {
					t.Errorf("%q at %.1f mm from the top, outside the window (%v to %v)", it.text, it.y, windowY, windowY+windowH)
				}
			}
			want, _ := AddressBlock(tt.to.Name, tt.to.Address)
			if n != len(want) {
				t.Errorf("%d lines in the window, want %d", n, len(want))
			}
		})
	}
}

func TestBatch(t *testing.T) {
	p := testPrinter(t)
	var ms []notices.Message
	for _, s := range samples() {
		ms = append(ms, s.m)
	}
	var buf bytes.Buffer
	counts, err := p.Batch(&buf, ms)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 1, 1, 1, 1, 2}
	if !slices.Equal(counts, want) {
		t.Errorf("pages per letter %v, want %v", counts, want)
	}
	file := filepath.Join(t.TempDir(), "batch.pdf")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if info := run(t, "pdfinfo", file); !strings.Contains(info, "Pages:           7\n") {
		t.Errorf("pdfinfo:\n%s", info)
	}
	// Each letter starts a new page: page 5 is the English letter alone.
	page5 := run(t, "pdftotext", "-f", "5", "-l", "5", "-layout", "-enc", "UTF-8", file, "-")
	if !strings.Contains(page5, "You stopped the access") || strings.Contains(page5, "Ligne 1 ") || strings.Contains(page5, "Œuvre") {
		t.Errorf("page 5:\n%s", page5)
	}
	t.Run("one letter that cannot be printed fails the batch and names it", func(t *testing.T) {
		bad := slices.Clone(ms)
		bad[2].To.Address.PostalCode = ""
		var out bytes.Buffer
		_, err := p.Batch(&out, bad)
		var ae *AddressError
		if !errors.As(err, &ae) || ae.Field != "postal_code" || out.Len() != 0 {
			t.Errorf("Batch = %v (%d bytes), want the postal code's AddressError and nothing written", err, out.Len())
		}
	})
	t.Run("the same messages make the same bytes", func(t *testing.T) {
		var again bytes.Buffer
		if _, err := p.Batch(&again, ms); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Error("two renderings of the same batch differ")
		}
	})
}

// TestLetterPictures renders one letter per sample kind to PNG, at 50 dpi,
// in <module root>/test-output/letters (RELAIS_TEST_OUTPUT replaces
// test-output), for a person to look at.
func TestLetterPictures(t *testing.T) {
	p := testPrinter(t)
	out := os.Getenv("RELAIS_TEST_OUTPUT")
	if out == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		out = filepath.Join(root, "test-output")
	}
	dir := filepath.Join(out, "letters")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples() {
		t.Run("the "+s.kind+" letter as a picture", func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := p.Render(&buf, s.m); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, s.kind+".pdf")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "pdftoppm", "-png", "-r", "50", file, filepath.Join(dir, s.kind))
			pngs, _ := filepath.Glob(filepath.Join(dir, s.kind+"-*.png"))
			if len(pngs) == 0 {
				t.Fatalf("no PNG for %s in %s", s.kind, dir)
			}
			t.Logf("%s", strings.Join(pngs, " "))
		})
	}
}
