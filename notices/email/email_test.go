package email

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/relais-fr/relais/notices"
)

// certificate makes a self-signed certificate for localhost and 127.0.0.1,
// and the pool a client trusts it through.
func certificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// relay is the receiving side: a real SMTP server (go-smtp) in process,
// with STARTTLS and AUTH PLAIN, that records what reaches it.
type relay struct {
	rcptErr error         // returned to RCPT TO
	stall   chan struct{} // MAIL FROM waits on it: a server slower than the time-out

	mu        sync.Mutex
	sessions  int
	commands  []string // AUTH, MAIL, RCPT, DATA as they came, with "tls" or "clear"
	delivered [][]byte
	user      string
}

type session struct {
	r    *relay
	conn *smtp.Conn
}

func (r *relay) NewSession(c *smtp.Conn) (smtp.Session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sessions++
	return &session{r: r, conn: c}, nil
}

func (s *session) note(cmd string) {
	state := "clear"
	if st, ok := s.conn.TLSConnectionState(); ok && st.HandshakeComplete {
		state = "tls"
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.commands = append(s.r.commands, cmd+" "+state)
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		s.note("AUTH")
		if user != "relais" || password != "s3cret" {
			return smtp.ErrAuthFailed
		}
		s.r.mu.Lock()
		defer s.r.mu.Unlock()
		s.r.user = user
		return nil
	}), nil
}

func (s *session) Mail(string, *smtp.MailOptions) error {
	s.note("MAIL")
	if s.r.stall != nil {
		<-s.r.stall
	}
	return nil
}

func (s *session) Rcpt(string, *smtp.RcptOptions) error {
	s.note("RCPT")
	return s.r.rcptErr
}

func (s *session) Data(r io.Reader) error {
	s.note("DATA")
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.delivered = append(s.r.delivered, b)
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// start serves r on a loopback port, with STARTTLS unless clear, and
// returns a Config that reaches it.
func start(t *testing.T, r *relay, clear bool) Config {
	t.Helper()
	cert, pool := certificate(t)
	srv := smtp.NewServer(r)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if !clear {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	if r.stall != nil {
		t.Cleanup(func() { close(r.stall) }) // runs first: frees the stalled session
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return Config{
		Host:     "localhost",
		Port:     port,
		Username: "relais",
		Password: "s3cret",
		From:     "France Services Nantes <courrier@relais.example.fr>",
		Timeout:  2 * time.Second,
		TLS:      &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12},
		HELO:     "relais.example.fr",
	}
}

func notice() notices.Message {
	return notices.Message{
		ID:        "0190f0c2-7a1b-7c3d-9e8f-001122334455",
		Reference: "N-2027-00042",
		Lang:      "fr",
		Date:      time.Date(2027, time.March, 3, 14, 5, 0, 0, time.UTC),
		To:        notices.Recipient{Name: "Jeanne Lefèvre", Email: "jeanne.lefevre@example.org"},
		Subject:   "France Services Nantes demande à agir pour vous pendant 12 mois.",
		Lines: []string{
			"France Services Nantes veut vous aider pour vos papiers.",
			"Vous pouvez dire « non ». Répondez avant le 17 mars 2027.",
		},
	}
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestSendDelivers(t *testing.T) {
	r := &relay{}
	s := newSender(t, start(t, r, false))
	m := notice()
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.delivered) != 1 || r.user != "relais" {
		t.Fatalf("%d messages delivered, authenticated as %q; want one, as relais", len(r.delivered), r.user)
	}
	for _, c := range r.commands {
		if !strings.HasSuffix(c, " tls") {
			t.Errorf("%s: sent in clear", c)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(r.delivered[0]))
	if err != nil {
		t.Fatal(err)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	from, _ := msg.Header.AddressList("From")
	to, _ := msg.Header.AddressList("To")
	date, _ := msg.Header.Date()
	headers := []struct{ name, got, want string }{
		{"Subject", subject, m.Subject},
		{"From", from[0].String(), `"France Services Nantes" <courrier@relais.example.fr>`},
		{"To", to[0].Address, "jeanne.lefevre@example.org"},
		{"To's name", to[0].Name, "Jeanne Lefèvre"},
		{"Message-ID", msg.Header.Get("Message-ID"), "<notice.0190f0c2-7a1b-7c3d-9e8f-001122334455@relais.example.fr>"},
		{"Date", date.UTC().Format(time.RFC3339), "2027-03-03T14:05:00Z"},
		{"Content-Language", msg.Header.Get("Content-Language"), "fr"},
	}
	for _, h := range headers {
		if h.got != h.want {
			t.Errorf("%s = %q, want %q", h.name, h.got, h.want)
		}
	}
	text, html := alternatives(t, msg)
	for _, want := range append([]string{m.Subject, "Référence : N-2027-00042"}, m.Lines...) {
		if !strings.Contains(text, want) {
			t.Errorf("the text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{`<html lang="fr">`, "<h1>France Services Nantes demande à agir pour vous pendant 12 mois.</h1>",
		"<p>France Services Nantes veut vous aider pour vos papiers.</p>", "<p>Vous pouvez dire « non ». Répondez avant le 17 mars 2027.</p>",
		"<p>Référence : N-2027-00042</p>", "<title>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML part lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<img") {
		t.Errorf("the HTML part has an image:\n%s", html)
	}
}

// alternatives reads the text and HTML parts of a multipart/alternative
// email, decoded.
func alternatives(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", mediaType, err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p)
		parts[ct] = string(b)
	}
	if len(parts) != 2 {
		t.Errorf("parts %v, want text/plain and text/html", parts)
	}
	return parts["text/plain"], parts["text/html"]
}

func TestAnEnglishNoticeSaysSo(t *testing.T) {
	r := &relay{}
	s := newSender(t, start(t, r, false))
	m := notice()
	m.Lang = "en"
	m.Subject = "You stopped the access of France Services Nantes."
	m.Lines = []string{"France Services Nantes can no longer act for you."}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	msg, err := mail.ReadMessage(bytes.NewReader(r.delivered[0]))
	if err != nil {
		t.Fatal(err)
	}
	text, html := alternatives(t, msg)
	if msg.Header.Get("Content-Language") != "en" || !strings.Contains(html, `<html lang="en">`) ||
		!strings.Contains(text, "Reference: N-2027-00042") || !strings.Contains(html, "<p>France Services Nantes can no longer act for you.</p>") {
		t.Errorf("Content-Language %q\n%s\n%s", msg.Header.Get("Content-Language"), text, html)
	}
}

func TestARetryIsTheSameEmail(t *testing.T) {
	r := &relay{}
	s := newSender(t, start(t, r, false))
	for range 2 {
		if err := s.Send(t.Context(), notice()); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, d := range r.delivered {
		msg, err := mail.ReadMessage(bytes.NewReader(d))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, msg.Header.Get("Message-ID"))
	}
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] != s.MessageID(notice().ID) {
		t.Errorf("Message-IDs %q, want twice %q", ids, s.MessageID(notice().ID))
	}
	if other := s.MessageID("another notice"); other == ids[0] || !strings.HasSuffix(other, "@relais.example.fr>") {
		t.Errorf("another notice's Message-ID is %q", other)
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name      string
		relay     *relay
		clear     bool
		edit      func(*Config, *notices.Message)
		permanent string // the reply code of a permanent refusal; "" for a temporary failure
		auth      int    // the code of an *AuthError
		connected bool   // whether Relais reached the server at all
	}{
		{name: "a wrong password is refused by the server, and the message waits for the fix",
			relay: &relay{}, edit: func(c *Config, _ *notices.Message) { c.Password = "wrong" }, auth: 535, connected: true},
		{name: "a recipient the server refuses (550) is a permanent refusal with its code",
			relay: &relay{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}}, permanent: "550", connected: true},
		{name: "a temporary refusal (451) is temporary",
			relay: &relay{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}}, connected: true},
		{name: "a server without STARTTLS gets nothing in clear",
			relay: &relay{}, clear: true, connected: true},
		{name: "a server slower than the time-out is temporary",
			relay: &relay{stall: make(chan struct{})}, edit: func(c *Config, _ *notices.Message) { c.Timeout = 300 * time.Millisecond }, connected: true},
		{name: "an address that is not an email address is refused before connecting",
			relay: &relay{}, edit: func(_ *Config, m *notices.Message) { m.To.Email = "jeanne at example.org" }, permanent: "address"},
		{name: "a server that is down is temporary",
			relay: &relay{}, edit: func(c *Config, _ *notices.Message) { c.Port = closedPort(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := start(t, tt.relay, tt.clear)
			m := notice()
			if tt.edit != nil {
				tt.edit(&cfg, &m)
			}
			began := time.Now()
			err := newSender(t, cfg).Send(t.Context(), m)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Logf("Send: %v", err)
			var pe *notices.PermanentError
			switch {
			case tt.permanent != "":
				if !errors.As(err, &pe) || pe.Code != tt.permanent || pe.Channel != notices.Email {
					t.Errorf("Send = %v, want a permanent refusal %s", err, tt.permanent)
				}
			case notices.IsPermanent(err):
				t.Errorf("Send = %v, a permanent refusal; want a temporary failure", err)
			}
			var ae *AuthError
			if got := errors.As(err, &ae); got != (tt.auth != 0) || got && (ae.Code != tt.auth || !errors.Is(err, ErrAuthentication)) {
				t.Errorf("Send = %v; want an *AuthError %d: %v", err, tt.auth, got)
			}
			if time.Since(began) > 10*time.Second {
				t.Errorf("Send took %v", time.Since(began))
			}
			tt.relay.mu.Lock()
			defer tt.relay.mu.Unlock()
			if len(tt.relay.delivered) != 0 {
				t.Errorf("%d messages delivered", len(tt.relay.delivered))
			}
			if (tt.relay.sessions > 0) != tt.connected {
				t.Errorf("%d sessions; want connected=%v", tt.relay.sessions, tt.connected)
			}
			for _, c := range tt.relay.commands {
				if strings.HasSuffix(c, " clear") {
					t.Errorf("%s was sent in clear", c)
				}
			}
			if tt.clear && len(tt.relay.commands) != 0 {
				t.Errorf("a server without STARTTLS received %q", tt.relay.commands)
			}
		})
	}
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	good := Config{Host: "smtp.example.fr", Username: "u", Password: "p", From: "Relais <courrier@example.fr>"}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"no host", func(c *Config) { c.Host = "" }},
		{"no credentials: Relais always authenticates", func(c *Config) { c.Password = "" }},
		{"a From that is not an address", func(c *Config) { c.From = "courrier" }},
		{"a port out of range", func(c *Config) { c.Port = 70000 }},
		{"a negative time-out", func(c *Config) { c.Timeout = -time.Second }},
	}
	if _, err := New(good); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
}
