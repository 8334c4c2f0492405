package letter

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/relais-fr/relais/notices"
)

// Letterhead is who sends the letters, as the deployment configures it:
// printed at the top left and again under « who to contact », so a person
// can call or write back (shared/PLAIN-LANGUAGE.md asks for a phone number
// and an address, not only a website).
type Letterhead struct {
	Name    string   // "France Services Nantes"
	Address []string // the postal address, one line each
	Phone   string   // "02 40 00 00 00"
}

// The page, in millimetres. A4 is 210 × 297.
const (
	pageW, pageH = 210.0, 297.0
	marginX      = 20.0
	textW        = pageW - 2*marginX
	bottom       = 272.0 // the last baseline of the body; the page number sits below
	footerY      = 285.0
	topOfNext    = 25.0 // the first baseline on the second page and after
)

// The address block, where a DL envelope's window shows it (doc/notices.md,
// « Paper letters »). The DL envelope is 220 × 110 mm; its window is
// 100 × 45 mm, 20 mm from the right edge and 15 mm from the bottom, that is
// 100 to 200 mm from the left and 50 to 95 mm from the top. The A4 sheet,
// folded in three (99 mm panels), can slide 10 mm sideways and 11 mm down
// in it: the zone the window shows whatever the slide is 100 to 190 mm from
// the sheet's left edge and 50 to 84 mm from its top.
const (
	windowX, windowY = 100.0, 50.0
	windowW, windowH = 90.0, 34.0
)

// Type sizes, in points. 14 pt is the floor for large type;
// TextSize is what every line a person reads is set in.
const (
	TextSize    = 14.0
	SubjectSize = 16.0
	// MinAddressSize is the smallest size the address block may shrink to
	// when a line of 38 characters in capitals is wider than the window at
	// 14 pt (it is about 125 mm). The block is read by La Poste's machines
	// and postmen; the person reads the letter's body, which stays at 14 pt.
	MinAddressSize = 10.0
)

// Line pitches, in millimetres: about 1.4 times the type, for white space.
const (
	textPitch    = 7.0
	paraGap      = 3.5
	addressPitch = 5.5 // six lines fit the window's 34 mm
)

// Printer lays out letters. It holds no state between letters and may be
// shared.
type Printer struct {
	head Letterhead
}

// ErrLetterhead matches a letterhead that cannot be printed: the
// deployment's configuration is wrong.
var ErrLetterhead = errors.New("letter: the letterhead is incomplete or too wide")

// ErrMessage matches a message that cannot make a letter: no subject or
// no date.
var ErrMessage = errors.New("letter: the message has no subject or no date")

// NewPrinter checks the letterhead once, at start: a name, a phone number,
// an address, and every line narrow enough for the left half of the page
// (the right half is the envelope's window).
func NewPrinter(head Letterhead) (*Printer, error) {
	if squeeze(head.Name) == "" || squeeze(head.Phone) == "" || len(head.Address) == 0 {
		return nil, fmt.Errorf("%w: name, phone and address are required", ErrLetterhead)
	}
	pdf, err := newPDF()
	if err != nil {
		return nil, err
	}
	pdf.SetFont(family, "B", TextSize)
	if pdf.GetStringWidth(head.Name) > windowX-marginX-5 {
		return nil, fmt.Errorf("%w: the name", ErrLetterhead)
	}
	pdf.SetFont(family, "", TextSize)
	for _, l := range append(head.Address, head.Phone) {
		if pdf.GetStringWidth(l) > windowX-marginX-5 {
			return nil, fmt.Errorf("%w: %q", ErrLetterhead, l)
		}
	}
	return &Printer{head: head}, nil
}

const family = "Go"

// newPDF starts an A4 document in millimetres with the Go fonts, which
// golang.org/x/image ships and which hold every French character
// (« » ’ é è ê ë à â ç ô û ù ï î œ Œ €), embedded as UTF-8 TrueType.
func newPDF() (*fpdf.Fpdf, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetAutoPageBreak(false, 0)
	// Sorted resources: the same letter makes the same bytes.
	pdf.SetCatalogSort(true)
	pdf.SetMargins(marginX, 0, marginX)
	pdf.AddUTF8FontFromBytes(family, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(family, "B", gobold.TTF)
	pdf.SetFont(family, "", TextSize)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("letter: fonts: %w", err)
	}
	return pdf, nil
}

// Render writes m as one PDF letter to w and says how many pages it has.
// An address that cannot be printed is an *AddressError (errors.Is
// ErrAddress), and nothing is written.
func (p *Printer) Render(w io.Writer, m notices.Message) (pages int, err error) {
	counts, err := p.Batch(w, []notices.Message{m})
	if err != nil {
		return 0, err
	}
	return counts[0], nil
}

// Batch writes the letters of ms into one PDF, each starting on a new
// page, and says how many pages each has, in order (the print manifest
// lists them). One letter that cannot be printed fails the batch, with its
// index, before anything is written: check addresses with AddressBlock
// first to leave such letters out.
func (p *Printer) Batch(w io.Writer, ms []notices.Message) ([]int, error) {
	if len(ms) == 0 {
		return nil, errors.New("letter: an empty batch")
	}
	pdf, err := newPDF()
	if err != nil {
		return nil, err
	}
	letters := make([][]page, len(ms))
	var latest time.Time
	for i, m := range ms {
		letters[i], err = p.layout(pdf, m)
		if err != nil {
			return nil, fmt.Errorf("letter %d (%s): %w", i+1, m.ID, err)
		}
		if m.Date.After(latest) {
			latest = m.Date
		}
	}
	// The same messages make the same bytes, so a retried print run or
	// a rewritten demo file is the same document.
	pdf.SetCreationDate(latest)
	pdf.SetModificationDate(latest)
	pdf.SetTitle(ms[0].Subject, true)
	pdf.SetAuthor(p.head.Name, true)
	counts := make([]int, len(ms))
	for i, pages := range letters {
		counts[i] = len(pages)
		wd := wordsFor(ms[i].Lang)
		for n, pg := range pages {
			pdf.AddPage()
			for _, it := range pg {
				pdf.SetFont(family, it.style, it.size)
				pdf.Text(it.x, it.y, it.text)
			}
			if len(pages) > 1 {
				pdf.SetFont(family, "", TextSize)
				label := wd.page(n+1, len(pages))
				pdf.Text(pageW-marginX-pdf.GetStringWidth(label), footerY, label)
			}
		}
	}
	if err := pdf.Output(w); err != nil {
		return nil, fmt.Errorf("letter: write the PDF: %w", err)
	}
	return counts, nil
}

// item is one line of text at its baseline.
type item struct {
	x, y  float64
	style string
	size  float64
	text  string
}

type page []item

// layout places m's lines on pages: the letterhead at the top left, the
// address block in the window, the date and reference, the subject (what
// happened), one paragraph per line of the message, then who to contact.
func (p *Printer) layout(pdf *fpdf.Fpdf, m notices.Message) ([]page, error) {
	if squeeze(m.Subject) == "" || m.Date.IsZero() {
		return nil, ErrMessage
	}
	block, err := addressBlock(m.To.Name, m.To.Address)
	if err != nil {
		return nil, err
	}
	size, err := addressSize(pdf, block)
	if err != nil {
		return nil, err
	}
	wd := wordsFor(m.Lang)
	var first page
	y := 20.0
	first = append(first, item{marginX, y, "B", TextSize, p.head.Name})
	for _, l := range append(append([]string{}, p.head.Address...), p.head.Phone) {
		y += 6
		first = append(first, item{marginX, y, "", TextSize, l})
	}
	// The first baseline sits one ascent (about 0.75 em) under the top.
	ay := windowY + size*0.75*25.4/72
	for _, l := range block.lines {
		first = append(first, item{windowX, ay, "", size, l})
		ay += addressPitch
	}
	// Under the fold (99 mm): the date and the reference.
	pages := []page{first}
	y = 108
	add := func(style string, sz float64, text string, before float64) {
		if y+before > bottom {
			pages = append(pages, nil)
			y = topOfNext
		} else {
			y += before
		}
		pages[len(pages)-1] = append(pages[len(pages)-1], item{marginX, y, style, sz, text})
	}
	pages[0] = append(pages[0], item{marginX, y, "", TextSize, wd.date(m.Date)})
	add("", TextSize, wd.reference+m.Reference, textPitch)
	paragraph := func(style string, sz float64, text string, gap float64) {
		pdf.SetFont(family, style, sz)
		for i, l := range pdf.SplitText(squeeze(text), textW) {
			before := textPitch
			if i == 0 {
				before += gap
			}
			add(style, sz, l, before)
		}
	}
	paragraph("B", SubjectSize, m.Subject, 8)
	for _, l := range m.Lines {
		if squeeze(l) != "" {
			paragraph("", TextSize, l, paraGap)
		}
	}
	paragraph("B", TextSize, wd.question, 8)
	paragraph("", TextSize, wd.call+p.head.Phone+".", 0)
	paragraph("", TextSize, wd.write, paraGap)
	for _, l := range append([]string{p.head.Name}, p.head.Address...) {
		add("", TextSize, l, textPitch)
	}
	return pages, nil
}

// addressSize is the largest size, from 14 pt down to MinAddressSize by
// half points, at which every line of the block fits the window.
func addressSize(pdf *fpdf.Fpdf, b block) (float64, error) {
	for size := TextSize; size >= MinAddressSize; size -= 0.5 {
		pdf.SetFont(family, "", size)
		fits := true
		for _, l := range b.lines {
			if pdf.GetStringWidth(l) > windowW {
				fits = false
				break
			}
		}
		if fits {
			return size, nil
		}
	}
	pdf.SetFont(family, "", MinAddressSize)
	for i, l := range b.lines {
		if pdf.GetStringWidth(l) > windowW {
			return 0, &AddressError{Field: b.field(i), Rule: RuleTooWide, Limit: int(math.Round(windowW)), Line: i + 1}
		}
	}
	return MinAddressSize, nil
}
