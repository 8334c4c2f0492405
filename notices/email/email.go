package email

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/relais-fr/relais/notices"
)

// Config is the deployment's SMTP relay.
type Config struct {
	Host     string // the relay's name; the TLS certificate must be valid for it
	Port     int    // 587 (submission with STARTTLS) when 0
	Username string // SMTP AUTH; required: Relais never sends without authenticating
	Password string
	// From is the sender as people see it, e.g.
	// "France Services Nantes <courrier@relais.example.fr>"; its domain
	// also names the Message-IDs.
	From string
	// Timeout bounds each network step (connect, each command, the
	// message's data); 30 s when 0.
	Timeout time.Duration
	// TLS, when set, replaces the system's roots (a private relay's CA, a
	// test's certificate). STARTTLS is required whatever it holds.
	TLS *tls.Config
	// HELO is the name Relais gives in EHLO; the machine's name when empty.
	HELO string
}

// ErrConfig matches a configuration that cannot work, found at start.
var ErrConfig = errors.New("email: configuration")

// ErrAuthentication matches an *AuthError.
var ErrAuthentication = errors.New("email: the SMTP server refused the credentials")

// AuthError is the relay refusing Relais's credentials (RFC 4954 reply
// codes 454, 534, 535, 538). It is temporary for the outbox: the message
// is fine and goes once an operator fixes the password, so it must not
// turn into a paper letter at once; it keeps failing until then, and the
// outbox's fallback to paper applies.
type AuthError struct {
	Code int
	Err  error
}

func (e *AuthError) Error() string {
	return "email: the SMTP server refused the credentials (" + strconv.Itoa(e.Code) + "): " + e.Err.Error()
}
func (e *AuthError) Unwrap() error        { return e.Err }
func (e *AuthError) Is(target error) bool { return target == ErrAuthentication }

// Sender sends notices by email. It keeps no connection between messages.
type Sender struct {
	cfg    Config
	from   *mail.Address
	domain string
	html   *template.Template
}

var _ notices.Sender = (*Sender)(nil)

// New checks cfg once, at start.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" {
		return nil, fmt.Errorf("%w: the SMTP host is missing", ErrConfig)
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, fmt.Errorf("%w: SMTP AUTH needs a username and a password", ErrConfig)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrConfig, cfg.Port)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: a negative time-out", ErrConfig)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("%w: the From address: %w", ErrConfig, err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	html, err := template.New("email").Parse(htmlSource)
	if err != nil {
		return nil, fmt.Errorf("email: the HTML part's template: %w", err)
	}
	return &Sender{cfg: cfg, from: from, domain: domain, html: html}, nil
}

// MessageID is the Message-ID of the notice id: the same for every try,
// so a retry after a crash between sending and recording is the same
// email, which mail systems recognise.
func (s *Sender) MessageID(id string) string {
	local := id
	if !dotAtom(id) {
		sum := sha256.Sum256([]byte(id))
		local = hex.EncodeToString(sum[:16])
	}
	return "<notice." + local + "@" + s.domain + ">"
}

// Send sends m to m.To.Email. A permanent refusal (an address the server
// refuses, a 5xx reply) is a *notices.PermanentError with the SMTP reply
// code; an address that is not an email address is one with code
// "address", before any connection. Anything else is temporary: 4xx
// replies, refused credentials (*AuthError), a server without STARTTLS
// (nothing is sent in clear), network errors and time-outs.
func (s *Sender) Send(ctx context.Context, m notices.Message) error {
	to, err := mail.ParseAddress(m.To.Email)
	if err != nil || m.To.Email != to.Address {
		return &notices.PermanentError{Channel: notices.Email, Code: "address", Err: fmt.Errorf("email: %q is not one email address", m.To.Email)}
	}
	msg, err := s.message(m, to.Address)
	if err != nil {
		return &notices.PermanentError{Channel: notices.Email, Code: "message", Err: err}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTLSPolicy(gomail.TLSMandatory),
		gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
		gomail.WithUsername(s.cfg.Username),
		gomail.WithPassword(s.cfg.Password),
		gomail.WithTimeout(s.cfg.Timeout),
	}
	if s.cfg.TLS != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLS))
	}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*s.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify sorts a failure by the SMTP reply code that go-mail reports in
// its typed errors (SendError.ErrorCode) or that the SMTP client returned
// (*textproto.Error), never by an error's text.
func classify(err error) error {
	code := replyCode(err)
	switch {
	case code == 454 || code == 534 || code == 535 || code == 538:
		return &AuthError{Code: code, Err: err}
	case code >= 500 && code < 600:
		return &notices.PermanentError{Channel: notices.Email, Code: strconv.Itoa(code), Err: err}
	}
	return fmt.Errorf("email: temporary failure: %w", err)
}
