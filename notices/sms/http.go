package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/relais-fr/relais/notices"
)

// HTTPConfig is the deployment's SMS gateway: where to POST, how to
// authenticate, and how its JSON body names the fields.
type HTTPConfig struct {
	URL string // https://…; http:// only to a loopback address (tests, a local relay)
	// Either a bearer token or a basic username and password.
	Token              string
	Username, Password string
	// Fields names the body's fields; "to", "text" and "sender" when empty.
	Fields Fields
	// Sender is the name the text comes from (an alphanumeric sender id
	// the operator registered), left out of the body when empty.
	Sender string
	// Extra fields the gateway wants in every body, as they are
	// (e.g. {"type": "transactional"}).
	Extra map[string]any
	// Timeout bounds one request, answer included; 10 s when 0.
	Timeout time.Duration
}

// Fields are the names of the JSON body's fields.
type Fields struct {
	To, Text, Sender string
}

// ErrStatus matches a *StatusError.
var ErrStatus = errors.New("sms: the gateway answered with an error")

// StatusError is a gateway's answer other than 2xx. Alone it is
// temporary (408, 429, 5xx, a redirection); the refusals a retry would
// meet again (other 4xx) come wrapped in a *notices.PermanentError.
type StatusError struct{ Status int }

func (e *StatusError) Error() string        { return "sms: the gateway answered " + strconv.Itoa(e.Status) }
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// HTTPGateway is the generic Gateway: it POSTs one JSON body per text.
type HTTPGateway struct {
	cfg    HTTPConfig
	client *http.Client
}

var _ Gateway = (*HTTPGateway)(nil)

// ErrConfig matches a configuration that cannot work, found at start.
var ErrConfig = errors.New("sms: configuration")

// NewHTTP checks cfg once, at start.
func NewHTTP(cfg HTTPConfig) (*HTTPGateway, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: the gateway's URL %q", ErrConfig, cfg.URL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%w: the gateway's URL must use https", ErrConfig)
	}
	if (cfg.Token == "") == (cfg.Username == "") {
		return nil, fmt.Errorf("%w: give either a bearer token or a username and password", ErrConfig)
	}
	if cfg.Username != "" && cfg.Password == "" {
		return nil, fmt.Errorf("%w: the gateway's password is missing", ErrConfig)
	}
	if cfg.Fields.To == "" {
		cfg.Fields.To = "to"
	}
	if cfg.Fields.Text == "" {
		cfg.Fields.Text = "text"
	}
	if cfg.Fields.Sender == "" {
		cfg.Fields.Sender = "sender"
	}
	if cfg.Fields.To == cfg.Fields.Text || cfg.Fields.To == cfg.Fields.Sender || cfg.Fields.Text == cfg.Fields.Sender {
		return nil, fmt.Errorf("%w: two body fields share a name", ErrConfig)
	}
	for k := range cfg.Extra {
		if k == cfg.Fields.To || k == cfg.Fields.Text || k == cfg.Fields.Sender {
			return nil, fmt.Errorf("%w: the extra field %q is one of the text's fields", ErrConfig, k)
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: a negative time-out", ErrConfig)
	}
	return &HTTPGateway{cfg: cfg, client: &http.Client{
		Timeout: cfg.Timeout,
		// A redirection would resend the text elsewhere: answer it as an
		// error for the operator instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Send POSTs t. 2xx: sent. 408, 429, 5xx, 3xx: a temporary *StatusError.
// Other 4xx: a *notices.PermanentError with the status as its code.
// Network errors and time-outs: temporary.
func (g *HTTPGateway) Send(ctx context.Context, t Text) error {
	body := make(map[string]any, len(g.cfg.Extra)+3)
	for k, v := range g.cfg.Extra {
		body[k] = v
	}
	body[g.cfg.Fields.To] = t.To
	body[g.cfg.Fields.Text] = t.Body
	if g.cfg.Sender != "" {
		body[g.cfg.Fields.Sender] = g.cfg.Sender
	}
	b, err := json.Marshal(body)
	if err != nil {
		return &notices.PermanentError{Channel: notices.SMS, Code: "body", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.URL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", t.Key)
	if g.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.cfg.Token)
	} else {
		req.SetBasicAuth(g.cfg.Username, g.cfg.Password)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms: temporary failure: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500 || s < 400:
		return &StatusError{Status: s}
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		// The deployment's credentials, not the message: a typo must not
		// send every text to paper at once. The notice waits, and falls
		// back to paper only if the fix never comes (as email's AuthError).
		return &StatusError{Status: s}
	default:
		return &notices.PermanentError{Channel: notices.SMS, Code: strconv.Itoa(s), Err: &StatusError{Status: s}}
	}
}
