package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/notices/sms"
	"github.com/relais-fr/relais/storage/sqlite"
)

// mailbox is an SMTP relay in process (go-smtp), with STARTTLS and AUTH
// PLAIN, that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	got  [][]byte
	rcpt []string
}

type mailSession struct{ m *mailbox }

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m}, nil }

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != "relais" || password != "smtp-s3cret" {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.rcpt = append(s.m.rcpt, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.got = append(s.m.got, b)
	return err
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startMailbox serves m on a loopback port with a certificate for
// localhost, and returns the port and a PEM file of the certificate (the
// relay's own CA, for --smtp-ca-file).
func startMailbox(t *testing.T, m smtp.Backend) (port int, caFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "relay-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, caFile
}

// gatewayHits is what an SMS gateway (httptest) received.
type gatewayHits struct {
	mu   sync.Mutex
	body []map[string]any
	keys []string
	auth []string
}

func (g *gatewayHits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.body = append(g.body, b)
	g.keys = append(g.keys, r.Header.Get("Idempotency-Key"))
	g.auth = append(g.auth, r.Header.Get("Authorization"))
	w.WriteHeader(http.StatusAccepted)
}

// chosen are the channels the people of a noticeWorld confirmed on
// « Comment je reçois mes courriers », with their account's address or
// number; the others get paper.
type chosen map[string]notices.Channel

// noticeWorld is a store where an operator registers Jeanne's tutelle with
// Marie as tutor: the act writes one notice to each, through the channel
// each chose.
type noticeWorld struct {
	st                      *sqlite.Store
	j                       *journal.Journal
	jeanne, marie, operator string
	now                     time.Time
}

func newNoticeWorld(t *testing.T) *noticeWorld {
	t.Helper()
	ctx := t.Context()
	st := migratedSQLite(t)
	w := &noticeWorld{st: st, j: journal.New(st, journal.Options{}), now: time.Now().UTC().Truncate(time.Millisecond)}
	person := func(given, family, email, phone string, a mandates.Address) string {
		p := mandates.Person{ID: mandates.NewID(w.now), GivenNames: given, FamilyName: family, BirthDate: mandates.Date(1948, time.March, 12),
			Email: email, Phone: phone, Address: a, Language: "fr"}
		if err := st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	w.operator = person("Olivier", "Roux", "", "", mandates.Address{})
	w.jeanne = person("Jeanne", "Lefèvre", "jeanne@example.fr", "06 12 34 56 78",
		mandates.Address{Street: "8 rue Victor Hugo", PostalCode: "69002", Locality: "Lyon", Country: "France"})
	w.marie = person("Marie", "Martin", "marie@example.fr", "06 98 76 54 32",
		mandates.Address{Street: "25 avenue Roger Salengro", PostalCode: "69100", Locality: "Villeurbanne", Country: "France"})
	if err := st.GrantRole(ctx, w.operator, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	return w
}

// register registers the tutelle, each recipient told through ch.
func (w *noticeWorld) register(t *testing.T, ch chosen) {
	t.Helper()
	for id, c := range ch {
		w.confirm(t, id, c)
	}
	sink := &notices.Notifier{Sink: w.j, Store: w.st, Reader: w.st, Channels: prefs.Lookup{Store: w.st}}
	svc := mandates.NewService(w.st, sink, mandates.ServiceConfig{})
	if _, err := svc.RegisterMeasure(t.Context(), mandates.Actor{PersonID: w.operator}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: w.jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: w.marie, Role: mandates.RoleTuteur}},
		ValidFrom:       w.now.AddDate(0, 0, -1), ValidUntil: w.now.AddDate(1, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, 0, -10), Reference: "RG 25/00001"}}); err != nil {
		t.Fatal(err)
	}
}

// confirm stores that the person confirmed channel c with their account's
// address or number, as the preferences page does after the code.
func (w *noticeWorld) confirm(t *testing.T, id string, c notices.Channel) {
	t.Helper()
	confirmChannel(t, w.st, id, c)
}

// confirmChannel is confirm on any store.
func confirmChannel(t *testing.T, st interface {
	Person(ctx context.Context, id string) (mandates.Person, error)
	prefs.Store
}, id string, c notices.Channel) {
	t.Helper()
	p, err := st.Person(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	phone, err := sms.Normalize(p.Phone)
	if err != nil {
		t.Fatalf("%s's phone %q: %v", id, p.Phone, err)
	}
	if _, err := st.UpdateNoticeChoice(t.Context(), id, func(x *prefs.Choice) error {
		x.Channel, x.Email, x.Phone = c, "", ""
		if c == notices.Email {
			x.Email = p.Email
		} else {
			x.Phone = phone
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// notices lists the person's notices, by recipient.
func (w *noticeWorld) notices(t *testing.T) map[string]notices.Notice {
	t.Helper()
	all, err := w.st.NoticesOf(t.Context(), w.jeanne, 50)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]notices.Notice{}
	for _, n := range all {
		out[n.RecipientID+"/"+string(n.Channel)] = n
	}
	return out
}

// serveConfig parses args and env as serve does, and checks them.
func serveConfig(t *testing.T, args []string, env func(string) string) *Config {
	t.Helper()
	var c Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(fs, &c)
	bindStoreFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs, env); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return &c
}

// TestServeSendsEmailAndSMSOnceWhenConfigured: with an SMTP relay and an
// SMS gateway configured, the notices an act writes for email and SMS are
// sent once by serve's dispatcher, in the recipient's words; a second
// round sends nothing; letters stay for the print command.
func TestServeSendsEmailAndSMSOnceWhenConfigured(t *testing.T) {
	ctx := t.Context()
	box := &mailbox{}
	port, ca := startMailbox(t, box)
	gw := &gatewayHits{}
	gateway := httptest.NewServer(gw)
	defer gateway.Close()
	passwordFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(passwordFile, []byte("smtp-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := serveConfig(t, []string{
		"--notice-from", "France Services Nantes", "--notice-address", "4 rue de la Maison Neuve; 44000 Nantes", "--notice-phone", "02 40 41 42 43",
		"--smtp-host", "localhost", "--smtp-port", strconv.Itoa(port), "--smtp-user", "relais", "--smtp-password-file", passwordFile,
		"--smtp-from", "France Services Nantes <courrier@relais.example.fr>", "--smtp-ca-file", ca,
		"--sms-url", gateway.URL + "/send", "--sms-sender", "RELAIS", "--sms-extra", `{"type":"transactional"}`,
	}, envOf("RELAIS_SMS_TOKEN", "gw-token"))

	w := newNoticeWorld(t)
	w.register(t, chosen{w.jeanne: notices.Email, w.marie: notices.SMS})
	letter := w.notices(t)[w.jeanne+"/email"]
	letter.ID, letter.Channel = mandates.NewID(w.now), notices.Paper
	if err := w.st.CreateNotice(ctx, letter); err != nil {
		t.Fatal(err)
	}

	writer, err := noticeWriter(w.st, &c.Notices, noticeLookup(w.st, nil), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(w.st, w.j, slog.New(slog.DiscardHandler), noticeChannels{Senders: c.Notices.senders, Writer: writer})
	if sent, failed, err := d.RunOnce(ctx); sent != 2 || failed != 0 || err != nil {
		t.Fatalf("RunOnce = %d sent, %d failed, %v; want the email and the SMS sent", sent, failed, err)
	}
	if sent, failed, err := d.RunOnce(ctx); sent != 0 || failed != 0 || err != nil {
		t.Fatalf("a second round = %d sent, %d failed, %v; want nothing", sent, failed, err)
	}

	byTo := w.notices(t)
	email, text := byTo[w.jeanne+"/email"], byTo[w.marie+"/sms"]
	if email.Status != notices.Sent || text.Status != notices.Sent {
		t.Errorf("statuses %s, %s; want both sent", email.Status, text.Status)
	}
	if got := byTo[w.jeanne+"/paper"]; got.Status != notices.Pending || got.Version != letter.Version || got.LeaseOwner != "" {
		t.Errorf("a dispatcher with email and SMS senders touched a letter: %+v", got)
	}

	box.mu.Lock()
	if len(box.got) != 1 || len(box.rcpt) != 1 || box.rcpt[0] != "jeanne@example.fr" {
		t.Fatalf("the relay got %d emails to %v; want one to Jeanne", len(box.got), box.rcpt)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(box.got[0]))
	box.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Le juge a pris une mesure de protection pour vous." {
		t.Errorf("Subject = %q, %v", subject, err)
	}
	if !strings.Contains(msg.Header.Get("Message-Id"), email.ID) {
		t.Errorf("Message-ID %q does not come from the notice %s", msg.Header.Get("Message-Id"), email.ID)
	}

	gw.mu.Lock()
	defer gw.mu.Unlock()
	if len(gw.body) != 1 {
		t.Fatalf("the gateway got %d texts, want 1", len(gw.body))
	}
	want := map[string]any{"to": "+33698765432", "sender": "RELAIS", "type": "transactional",
		"text": `Le juge a décidé que vous aidez Jeanne Lefèvre. Plus d'informations dans "Mon espace" sur Relais. Une lettre suit.`}
	for k, v := range want {
		if gw.body[0][k] != v {
			t.Errorf("the text's %s = %v, want %v", k, gw.body[0][k], v)
		}
	}
	if gw.keys[0] != "relais-notice-"+text.ID || gw.auth[0] != "Bearer gw-token" {
		t.Errorf("Idempotency-Key %q, Authorization %q", gw.keys[0], gw.auth[0])
	}
}

// TestBadNoticeSettingsStopServeAtStart: a notice setting that cannot work
// stops serve with exit status 2 and one sentence naming it, without the
// secret.
func TestBadNoticeSettingsStopServeAtStart(t *testing.T) {
	dir := t.TempDir()
	head := []string{"--notice-from", "Relais", "--notice-address", "1 rue Kervégan; 44000 Nantes", "--notice-phone", "02 40 00 00 00"}
	smtpOK := append(append([]string{}, head...), "--smtp-host", "smtp.example.fr", "--smtp-user", "relais", "--smtp-from", "Relais <courrier@relais.example.fr>")
	both := filepath.Join(dir, "password")
	if err := os.WriteFile(both, []byte("hunter2-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   func(string) string
		names string
	}{
		{"email without a letterhead", []string{"--smtp-host", "smtp.example.fr"}, noEnv, "--notice-from"},
		{"a letterhead without a phone", []string{"--notice-from", "Relais", "--notice-address", "1 rue Kervégan"}, noEnv, "--notice-phone"},
		{"SMTP without a password", smtpOK, noEnv, "--smtp-password"},
		{"SMTP settings without a host", append(append([]string{}, head...), "--smtp-user", "relais"), noEnv, "--smtp-host"},
		{"a From that is no address", append(append([]string{}, smtpOK...), "--smtp-from", "Relais"), envOf("RELAIS_SMTP_PASSWORD", "hunter2"), "--smtp-from"},
		{"a password twice", append(append([]string{}, smtpOK...), "--smtp-password-file", both), envOf("RELAIS_SMTP_PASSWORD", "hunter2"), "--smtp-password-file"},
		{"a password file that is missing", append(append([]string{}, smtpOK...), "--smtp-password-file", filepath.Join(dir, "none")), noEnv, "--smtp-password-file"},
		{"a CA file that is no certificate", append(append([]string{}, smtpOK...), "--smtp-ca-file", both), envOf("RELAIS_SMTP_PASSWORD", "hunter2"), "--smtp-ca-file"},
		{"an SMS gateway over plain http", append(append([]string{}, head...), "--sms-url", "http://sms.example.fr/send"), envOf("RELAIS_SMS_TOKEN", "hunter2"), "--sms-"},
		{"an SMS gateway without credentials", append(append([]string{}, head...), "--sms-url", "https://sms.example.fr/send"), noEnv, "--sms-token"},
		{"an SMS gateway with two credentials", append(append([]string{}, head...), "--sms-url", "https://sms.example.fr/send", "--sms-user", "relais"),
			envOf("RELAIS_SMS_TOKEN", "hunter2", "RELAIS_SMS_PASSWORD", "hunter3"), "--sms-token"},
		{"extra fields that are no JSON object", append(append([]string{}, head...), "--sms-url", "https://sms.example.fr/send", "--sms-extra", "[1]"),
			envOf("RELAIS_SMS_TOKEN", "hunter2"), "--sms-extra"},
		{"SMS settings without a URL", append(append([]string{}, head...), "--sms-user", "relais"), noEnv, "--sms-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(dir, "relais.db")}, tt.args...)
			code := run(t.Context(), args, &stdout, &stderr, tt.env)
			msg := stderr.String()
			if code != 2 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "relais: ") {
				t.Fatalf("exit %d, %q; want 2 and one sentence", code, msg)
			}
			if !strings.Contains(msg, tt.names) {
				t.Errorf("the message does not name %s: %s", tt.names, msg)
			}
			if strings.Contains(msg, "hunter") {
				t.Errorf("a secret leaked: %s", msg)
			}
		})
	}
}
