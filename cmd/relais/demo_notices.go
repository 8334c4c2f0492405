package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
)

// The demo's letterhead, when the deployment gives none: an invented
// address, and a number of the range ARCEP keeps for fiction (01 99 00 …).
const (
	demoNoticeFrom    = "Relais (démonstration)"
	demoNoticeAddress = "1 place de la Démonstration; 44000 Nantes"
	demoNoticePhone   = "01 99 00 12 34"
)

// demoDefaults gives the demo a letterhead when none is configured.
func (c *NoticeConfig) demoDefaults() {
	if c.From == "" && c.Address == "" && c.Phone == "" {
		c.From, c.Address, c.Phone = demoNoticeFrom, demoNoticeAddress, demoNoticePhone
	}
}

// demoLettersDir is where the demo writes its letters: beside the SQLite
// file (relais.db gives relais-lettres); for PostgreSQL, which has no
// file, relais-lettres in the system's temporary folder, so that a demo
// run from a source tree leaves nothing in it.
func demoLettersDir(db string) string {
	kind, path, err := storeKind(db)
	if err != nil || kind != "sqlite" {
		return filepath.Join(os.TempDir(), "relais-lettres")
	}
	return strings.TrimSuffix(path, filepath.Ext(path)) + "-lettres"
}

// demoOut keeps the demo's printed messages whole in the terminal.
var demoOut sync.Mutex

// demoEmail is the demo's email channel: it prints the email in the
// terminal instead of sending it.
type demoEmail struct {
	mu  *sync.Mutex
	out io.Writer
}

func (d demoEmail) Send(_ context.Context, m notices.Message) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--- E-mail de démonstration (non envoyé) ---\nÀ : %s <%s>\nObjet : %s\n\n", m.To.Name, m.To.Email, m.Subject)
	for _, l := range m.Lines {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "\nRéférence : %s\n---\n", m.Reference)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := io.WriteString(d.out, b.String())
	return err
}

// demoSMS is the demo's SMS channel: it prints the text.
type demoSMS struct {
	mu  *sync.Mutex
	out io.Writer
}

func (d demoSMS) Send(_ context.Context, m notices.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := fmt.Fprintf(d.out, "SMS de démonstration (non envoyé) à %s, %s : « %s »\n", m.To.Name, m.To.Phone, m.Short)
	return err
}

// demoPost is the demo's print service: it takes the letters as they are
// written (Store.ToPrint), marks each handed over and writes it to a PDF
// file in the folder (letter.Folder), as `relais notices print`
// hands letters to a print-and-post service. The dispatcher still never
// claims paper. A letter that cannot be printed (an incomplete postal
// address) stays pending, as operators see it, and is said once.
type demoPost struct {
	Store  notices.Store
	Writer notices.Writer
	Folder *letter.Folder
	Out    io.Writer
	mu     *sync.Mutex
	Log    *slog.Logger
	Now    func() time.Time
	told   map[string]bool
}

// RunOnce prints the letters waiting, and says how many it wrote.
func (p *demoPost) RunOnce(ctx context.Context) (int, error) {
	waiting, err := p.Store.ToPrint(ctx, 200)
	if err != nil {
		return 0, err
	}
	written := 0
	for _, n := range waiting {
		if p.told[n.ID] {
			continue
		}
		m, err := p.Writer.Write(ctx, n)
		var l *letter.Letter
		if err == nil {
			m.ID = n.ID
			l, err = p.Folder.Draft(ctx, m)
		}
		if notices.IsPermanent(err) {
			p.told[n.ID] = true
			var a *letter.AddressError
			why := "elle ne peut pas être écrite"
			if errors.As(err, &a) {
				why = "l’adresse postale est incomplète (" + a.Field + ")"
			}
			p.say("Lettre de démonstration non imprimée, pour %s : %s. Elle reste en attente.\n", orDefault(m.To.Name, n.RecipientID), why)
			continue
		}
		if err != nil {
			return written, err
		}
		// Every serve --demo on one database runs a print service: the
		// letter, written under a temporary name, is taken (handed over)
		// before it gets its name, and left to the instance that took it
		// first. What can fail after the taking is the rename alone.
		err = p.Store.MarkHandedOver(ctx, []string{n.ID}, p.Now())
		var taken *notices.TransitionError
		if errors.As(err, &taken) || errors.Is(err, mandates.ErrConflict) {
			l.Discard()
			continue
		}
		if err != nil {
			l.Discard()
			return written, err
		}
		err = l.Put()
		l.Discard()
		if err != nil {
			return written, fmt.Errorf("demo letter %s, handed over: %w", n.ID, err)
		}
		written++
		p.say("Lettre de démonstration écrite pour %s : %s\n  %s\n", m.To.Name, m.Subject, filepath.Join(p.Folder.Dir, n.ID+".pdf"))
	}
	return written, nil
}

func (p *demoPost) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.Out, format, args...)
}

// run prints the letters at each tick until ctx ends.
func (p *demoPost) run(ctx context.Context, tick <-chan time.Time) {
	for {
		if _, err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.Log.WarnContext(ctx, "demo letters", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// demoNotices is the demo's channels: the configured email and SMS
// senders, or printers in the terminal; and the print service that writes
// each letter as a PDF file in dir. It says where to look.
func demoNotices(c *NoticeConfig, st notices.Store, w notices.Writer, dir string, out io.Writer, log *slog.Logger) (noticeChannels, *demoPost, error) {
	if w == nil {
		return noticeChannels{}, nil, errors.New("demo notices: no writer")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return noticeChannels{}, nil, settingErr("the demo's letters folder %s cannot be made (%s); start from a folder you can write to.", dir, shortCause(err))
	}
	printer, err := letter.NewPrinter(c.letterhead())
	if err != nil {
		return noticeChannels{}, nil, err
	}
	mu := &demoOut
	senders := map[notices.Channel]notices.Sender{notices.Email: demoEmail{mu, out}, notices.SMS: demoSMS{mu, out}}
	for ch, s := range c.senders {
		senders[ch] = s
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	fmt.Fprintf(out, "Les lettres sont dans %s : un fichier PDF par lettre, écrit dès l’acte qui la cause. Les e-mails et SMS de démonstration s’affichent ici.\n", abs)
	post := &demoPost{Store: st, Writer: w, Folder: &letter.Folder{Dir: dir, Printer: printer}, Out: out, mu: mu, Log: log,
		Now: time.Now, told: map[string]bool{}}
	return noticeChannels{Senders: senders, Writer: w}, post, nil
}

// startDemoPost runs the demo's print service every 2 seconds until stop.
func startDemoPost(ctx context.Context, p *demoPost) (stop func()) {
	t := time.NewTicker(2 * time.Second)
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.run(pctx, t.C) })
	return func() {
		cancel()
		wg.Wait()
		t.Stop()
	}
}
