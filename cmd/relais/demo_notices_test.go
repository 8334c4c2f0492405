package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestTheDemoWritesLettersToFilesAndPrintsEmailsAndSMS: in the demo, the
// letters an act writes become PDF files in the folder (and are handed
// over), each said in the terminal with its file; an email and an SMS are
// printed in French; a letter that cannot be printed is said once and
// stays pending.
func TestTheDemoWritesLettersToFilesAndPrintsEmailsAndSMS(t *testing.T) {
	ctx := t.Context()
	w := newNoticeWorld(t)
	w.register(t, chosen{w.marie: notices.SMS})
	byTo := w.notices(t)
	letter := byTo[w.jeanne+"/paper"]
	confirmChannel(t, w.st, w.jeanne, notices.Email)
	email := letter
	email.ID, email.Channel = mandates.NewID(w.now), notices.Email
	if err := w.st.CreateNotice(ctx, email); err != nil {
		t.Fatal(err)
	}
	// Olivier has no postal address: his letter cannot be printed.
	unprintable := letter
	unprintable.ID, unprintable.RecipientID = mandates.NewID(w.now), w.operator
	unprintable.Data = map[string]string{"recipient_role": "person", "event_at": letter.Data["event_at"]}
	unprintable.Kind = mandates.EventSecondFactorEnrolled
	if err := w.st.CreateNotice(ctx, unprintable); err != nil {
		t.Fatal(err)
	}

	var c NoticeConfig
	c.demoDefaults()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	writer, err := noticeWriter(w.st, &c, noticeLookup(w.st, nil), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "relais-lettres")
	var out syncBuffer
	log := slog.New(slog.DiscardHandler)
	channels, post, err := demoNotices(&c, w.st, writer, dir, &out, log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Les lettres sont dans "+dir+" :") {
		t.Errorf("the demo does not say where the letters are: %s", out.String())
	}

	if sent, _, err := newDispatcher(w.st, w.j, log, channels).RunOnce(ctx); sent != 2 || err != nil {
		t.Fatalf("the demo's dispatcher sent %d, %v; want the email and the SMS", sent, err)
	}
	for _, want := range []string{
		"--- E-mail de démonstration (non envoyé) ---\nÀ : Jeanne Lefèvre <jeanne@example.fr>\nObjet : Le juge a pris une mesure de protection pour vous.\n",
		"Vous pouvez faire appel. Écrivez à : Tribunal judiciaire de Lyon.\n",
		"Une question ? Contactez Relais (démonstration) : 01 99 00 12 34.\n",
		"SMS de démonstration (non envoyé) à Marie Martin, +33698765432 : « Le juge a décidé que vous aidez Jeanne Lefèvre. Plus d'informations dans \"Mon espace\" sur Relais. Une lettre suit. »\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the terminal lacks %q:\n%s", want, out.String())
		}
	}

	// Marie chose SMS, but the registration of a measure comes with a
	// letter that says how to contest it (notices.LetterToo).
	written, err := post.RunOnce(ctx)
	if err != nil || written != 2 {
		t.Fatalf("RunOnce = %d, %v; want Jeanne's letter and Marie's", written, err)
	}
	file := filepath.Join(dir, letter.ID+".pdf")
	if b, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Errorf("the letter is not a PDF in %s: %v", file, err)
	}
	if got, err := w.st.Notice(ctx, letter.ID); err != nil || got.Status != notices.HandedOver {
		t.Errorf("the letter written to the folder is %s, %v; want handed over", got.Status, err)
	}
	if got, err := w.st.Notice(ctx, unprintable.ID); err != nil || got.Status != notices.Pending {
		t.Errorf("the unprintable letter is %s, %v; want pending, as operators see it", got.Status, err)
	}
	said := "Lettre de démonstration écrite pour Jeanne Lefèvre : Le juge a pris une mesure de protection pour vous.\n  " + file + "\n"
	refused := "Lettre de démonstration non imprimée, pour Olivier Roux : l’adresse postale est incomplète (street). Elle reste en attente.\n"
	if !strings.Contains(out.String(), said) || !strings.Contains(out.String(), refused) {
		t.Errorf("the terminal does not say which letter went where:\n%s", out.String())
	}
	if written, err := post.RunOnce(ctx); written != 0 || err != nil || strings.Count(out.String(), refused) != 1 {
		t.Errorf("a second round wrote %d (%v) or repeated the refusal:\n%s", written, err, out.String())
	}
}

// TestServeDemoSaysWhereTheLettersAre: relais serve --demo makes the
// letters' folder beside the database and says where it is.
func TestServeDemoSaysWhereTheLettersAre(t *testing.T) {
	dir := t.TempDir()
	_, stdout, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + filepath.Join(dir, "relais.db")})
	letters := filepath.Join(dir, "relais-lettres")
	if code := stop(); code != 0 {
		t.Fatalf("serve --demo exited with %d", code)
	}
	if !strings.Contains(stdout.String(), "Les lettres sont dans "+letters+" :") {
		t.Errorf("serve --demo does not say where the letters are:\n%s", stdout.String())
	}
	if fi, err := os.Stat(letters); err != nil || !fi.IsDir() {
		t.Errorf("no letters folder beside the database: %v", err)
	}
}

// demoWorld is the demo's data in a SQLite store, its service writing
// notices as serve --demo does, and what the demo prints.
type demoWorld struct {
	dir    string
	st     *sqlite.Store
	svc    *mandates.Service
	out    *syncBuffer
	c      *Config
	writer notices.Writer
}

func newDemoWorld(t *testing.T) *demoWorld {
	t.Helper()
	ctx := t.Context()
	d := &demoWorld{dir: t.TempDir(), out: &syncBuffer{}, c: &Config{Demo: true}}
	st, err := sqlite.Open(ctx, filepath.Join(d.dir, "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d.st = st
	if _, err := migrateUp(ctx, st); err != nil {
		t.Fatal(err)
	}
	box, err := keyring.NewSecretBox(make([]byte, keyring.SecretKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if err := loadDemo(ctx, st, box, mandates.DefaultPolicy(), io.Discard, time.Now); err != nil {
		t.Fatal(err)
	}
	j := journal.New(st, journal.Options{})
	d.c.Notices.demoDefaults()
	if err := d.c.Notices.validate(); err != nil {
		t.Fatal(err)
	}
	if d.writer, err = noticeWriter(st, &d.c.Notices, noticeLookup(st, nil), "", nil); err != nil {
		t.Fatal(err)
	}
	codes := consentCodes(d.c, d.writer, demoSMS{&demoOut, d.out})
	d.svc = mandates.NewService(st, noticeSink(st, j, noticeLookup(st, nil)), mandates.ServiceConfig{Codes: codes})
	return d
}

// post is the demo's print service writing to folder.
func (d *demoWorld) post(t *testing.T, folder string) *demoPost {
	t.Helper()
	_, post, err := demoNotices(&d.c.Notices, d.st, d.writer, folder, d.out, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return post
}

// TestTheDemoCasesWriteTheLettersTheREADMESays: on the demo's data, the
// acts the README names write the letters it says, to files in the
// folder, the desk's too, at its postal address.
func TestTheDemoCasesWriteTheLettersTheREADMESays(t *testing.T) {
	ctx := t.Context()
	d := newDemoWorld(t)
	st, svc, out, post := d.st, d.svc, d.out, d.post(t, demoLettersDir("sqlite:"+filepath.Join(d.dir, "relais.db")))

	tutelle := "0193a000-0000-7000-8000-0000000001a1"
	r, err := st.Representation(ctx, tutelle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Suspend(ctx, mandates.Actor{PersonID: demoOperator}, tutelle, r.Version, "demo"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Withdraw(ctx, mandates.Actor{PersonID: demoFatima}, "0193a000-0000-7000-8000-0000000001a4"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Withdraw(ctx, mandates.Actor{PersonID: demoYvette}, "0193a000-0000-7000-8000-0000000001a3"); err != nil {
		t.Fatal(err)
	}
	sophie := mandates.Actor{PersonID: demoSophie, SecondFactor: true}
	asked, err := svc.StartMandate(ctx, sophie, mandates.MandateInput{OrganisationID: demoFranceServices, PersonID: demoFatima, Areas: []mandates.Area{"social"}, Duration: mandates.TwelveMonth})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SendConsentCode(ctx, sophie, asked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := post.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Lettre de démonstration écrite pour Jeanne Lefèvre : Votre mesure de protection est en pause.",
		"Lettre de démonstration écrite pour Marie Martin : La mesure de protection de Jeanne Lefèvre est en pause.",
		"Lettre de démonstration écrite pour Fatima Benali : Vous avez arrêté l’accès d’Ahmed Benali.",
		"Lettre de démonstration écrite pour Ahmed Benali : Fatima Benali a arrêté votre accès.",
		"Lettre de démonstration écrite pour Yvette Garnier : Vous avez arrêté l’accès de France Services Nantes Bellevue.",
		"Lettre de démonstration écrite pour France Services Nantes Bellevue : Yvette Garnier a arrêté votre accès.",
		"Lettre de démonstration écrite pour Fatima Benali : France Services Nantes Bellevue demande un mandat pour agir pour vous.",
		"SMS de démonstration (non envoyé) à Fatima Benali, 06 00 00 00 08 : « France Services Nantes Bellevue demande un mandat pour vos démarches : social, 12 mois. Code : ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the terminal lacks %q:\n%s", want, out.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join(post.Folder.Dir, "*.pdf"))
	if len(files) != 7 {
		t.Errorf("%d letters in the folder, want 7: %v", len(files), files)
	}
	if strings.Contains(out.String(), "non imprimée") {
		t.Errorf("a demo letter could not be printed:\n%s", out.String())
	}
}

func TestTheDemoLettersFolderIsBesideTheDatabase(t *testing.T) {
	for db, want := range map[string]string{
		"sqlite:relais.db":                      "relais-lettres",
		"sqlite:/var/lib/relais/essai.db":       "/var/lib/relais/essai-lettres",
		"postgres://relais@localhost/relais":    filepath.Join(os.TempDir(), "relais-lettres"),
		"postgresql://relais@localhost/relais2": filepath.Join(os.TempDir(), "relais-lettres"),
	} {
		if got := demoLettersDir(db); got != want {
			t.Errorf("demoLettersDir(%q) = %q, want %q", db, got, want)
		}
	}
}

// listedThen is a store whose ToPrint runs then after listing: what
// another instance does between this one's listing and its writing.
type listedThen struct {
	notices.Store
	then func(ctx context.Context)
}

func (l listedThen) ToPrint(ctx context.Context, limit int) ([]notices.Notice, error) {
	waiting, err := l.Store.ToPrint(ctx, limit)
	l.then(ctx)
	return waiting, err
}

// TestTheDemoPrintServicesOfSeveralInstancesWriteEachLetterOnce: every
// serve --demo instance on one database runs the demo's print service.
// The letters one lists, while another writes and hands them over, are
// not written a second time.
func TestTheDemoPrintServicesOfSeveralInstancesWriteEachLetterOnce(t *testing.T) {
	ctx := t.Context()
	d := newDemoWorld(t)
	first, second := d.post(t, t.TempDir()), d.post(t, t.TempDir())
	secondWrote := -1
	first.Store = listedThen{Store: d.st, then: func(ctx context.Context) {
		var err error
		if secondWrote, err = second.RunOnce(ctx); err != nil {
			t.Errorf("the second print service: %v", err)
		}
	}}
	tutelle := "0193a000-0000-7000-8000-0000000001a1"
	r, err := d.st.Representation(ctx, tutelle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Suspend(ctx, mandates.Actor{PersonID: demoOperator}, tutelle, r.Version, "demo"); err != nil {
		t.Fatal(err)
	}
	firstWrote, err := first.RunOnce(ctx)
	if err != nil {
		t.Fatalf("the first print service: %v", err)
	}
	if secondWrote != 2 || firstWrote != 0 {
		t.Errorf("the print services wrote %d and %d letters, want the suspension's two by the second alone", secondWrote, firstWrote)
	}
	for name, dir := range map[string]string{"first": first.Folder.Dir, "second": second.Folder.Dir} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
		if want := map[string]int{"first": 0, "second": 2}[name]; len(files) != want {
			t.Errorf("the %s print service's folder holds %d letters, want %d: %v", name, len(files), want, files)
		}
	}
	if waiting, err := d.st.ToPrint(ctx, 10); err != nil || len(waiting) != 0 {
		t.Errorf("letters still waiting: %v, %v", waiting, err)
	}
}
