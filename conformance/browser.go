package conformance

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// Account is a person who can log in at the issuer.
type Account struct {
	Email, Password string
	// TOTPSecret (base32), when set, answers the second-factor code page.
	TOTPSecret string
	// ForWhom answers the "for whom?" page Relais shows to someone who
	// represents others: Self, or words of the represented person's name.
	ForWhom string
}

// Self is the "for whom?" answer of a person acting for themselves.
const Self = "self"

// Decisions a person can give on the consent page.
const (
	Accept = "accept"
	Refuse = "refuse"
)

// Browser is one person's web browser: it keeps cookies, follows nothing
// by itself, and fills the login and consent forms it is shown, as a person
// would. It knows Relais's pages only by their form fields: a login form
// posting to /login with email, password and hidden fields, and a consent
// form posting to /consent with hidden fields and a decision button.
type Browser struct {
	client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar. transport may be
// nil (http.DefaultTransport).
func NewBrowser(transport http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Browser{client: &http.Client{
		Transport: transport,
		Jar:       jar,
		Timeout:   30 * time.Second,
		// A browser follows redirects, but the suite must see each one: the
		// last is to the site, which does not exist.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// HTTPClient is the browser's client, cookies included, for requests the
// browser makes outside a flow.
func (b *Browser) HTTPClient() *http.Client { return b.client }

// Visit is what one trip through the authorization endpoint looked like.
type Visit struct {
	// Callback is where the issuer sent the browser back to the site: the
	// redirect URI with code, state and iss, or error.
	Callback *url.URL
	// LoginShown, ConsentShown, ForWhomShown and CodeShown say which pages
	// the person saw.
	LoginShown, ConsentShown, ForWhomShown, CodeShown bool
	// Requests counts the HTTP requests the trip took.
	Requests int
}

// PageError is a page the browser could not go on from: an error page, or
// a page that is neither the login form nor the consent page.
type PageError struct {
	Method string
	URL    string
	Status int
	Body   string // the start of the page's text
}

func (e *PageError) Error() string {
	return fmt.Sprintf("%s %s answered %d, which is neither a redirect nor a login or consent form: %.300s", e.Method, e.URL, e.Status, e.Body)
}

// maxSteps bounds a trip: Relais needs at most authorize, login page,
// login post, code page, code post, authorize, for-whom post, authorize,
// consent post (9), or, when a password-only login chooses an
// organisation's representation, authorize, login page, login post,
// authorize, for-whom post, authorize, code page, code post, authorize,
// consent post (10).
const maxSteps = 16

// Authorize opens authURL and goes on through redirects, the login form
// (as acc) and the consent page (answering decision), until the issuer
// sends the browser to redirectURI. It never follows that last redirect.
func (b *Browser) Authorize(ctx context.Context, authURL, redirectURI string, acc Account, decision string) (Visit, error) {
	var v Visit
	target, err := url.Parse(redirectURI)
	if err != nil {
		return v, fmt.Errorf("redirect URI %q: %w", redirectURI, err)
	}
	method, next, form := http.MethodGet, authURL, url.Values(nil)
	codeTries := 0
	for range maxSteps {
		res, body, err := b.do(ctx, method, next, form)
		v.Requests++
		if err != nil {
			return v, err
		}
		here := res.Request.URL
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			loc, err := here.Parse(res.Header.Get("Location"))
			if err != nil || res.Header.Get("Location") == "" {
				return v, fmt.Errorf("%s %s: %d with Location %q", method, next, res.StatusCode, res.Header.Get("Location"))
			}
			if sameEndpoint(loc, target) {
				v.Callback = loc
				return v, nil
			}
			method, next, form = http.MethodGet, loc.String(), nil
			continue
		}
		f, ok := findForm(here, body, "/login", "/consent", "/pour-qui", "/login/code")
		if !ok || (res.StatusCode != http.StatusOK && !codeRefusedOnce(f, res, codeTries)) {
			return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: pageText(body)}
		}
		switch f.path {
		case "/login":
			if v.LoginShown {
				// The form came back: the credentials were refused.
				return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "the login form was shown again: " + pageText(body)}
			}
			v.LoginShown = true
			f.fields.Set("email", acc.Email)
			f.fields.Set("password", acc.Password)
		case "/pour-qui":
			if v.ForWhomShown || acc.ForWhom == "" {
				return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "the for-whom page, with no answer to give: " + pageText(body)}
			}
			v.ForWhomShown = true
			choice, found := radioFor(body, "for", acc.ForWhom)
			if !found {
				return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "no choice for " + acc.ForWhom + " on: " + pageText(body)}
			}
			f.fields.Set("for", choice)
		case "/login/code":
			if (v.CodeShown && !codeRefusedOnce(f, res, codeTries)) || acc.TOTPSecret == "" {
				return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "the second-factor page, with no code to give: " + pageText(body)}
			}
			v.CodeShown = true
			code, err := stepCode(acc.TOTPSecret, codeTries)
			if err != nil {
				return v, err
			}
			codeTries++
			f.fields.Set("code", code)
		case "/consent":
			if v.ConsentShown {
				return v, &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "the consent page was shown again: " + pageText(body)}
			}
			v.ConsentShown = true
			f.fields.Set("decision", decision)
		}
		method, next, form = http.MethodPost, f.action.String(), f.fields
	}
	return v, fmt.Errorf("no redirect to %s after %d requests from %s", redirectURI, maxSteps, authURL)
}

// do makes one request and reads the whole answer.
func (b *Browser) do(ctx context.Context, method, target string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// What a browser sends with a form it posts to the page's own site
		// (Fetch Metadata), which cross-origin protection lets through.
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	req.Header.Set("Accept", "text/html")
	res, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b2, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading the answer: %w", method, target, err)
	}
	return res, b2, nil
}

// sameEndpoint compares scheme, host and path: the site's callback, whatever
// its query.
func sameEndpoint(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.Path == b.Path
}

type form struct {
	path   string
	action *url.URL
	fields url.Values // the hidden fields
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRe  = regexp.MustCompile(`(?s)([a-zA-Z_:-]+)\s*=\s*"([^"]*)"`)
	tagRe   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe = regexp.MustCompile(`\s+`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// findForm returns the first form of the page that posts to one of paths.
func findForm(page *url.URL, body []byte, paths ...string) (form, bool) {
	for _, m := range formRe.FindAllStringSubmatch(string(body), -1) {
		a := attrs(m[1])
		action, err := page.Parse(a["action"])
		if err != nil || !strings.EqualFold(a["method"], "post") {
			continue
		}
		for _, p := range paths {
			if action.Path != p {
				continue
			}
			f := form{path: p, action: action, fields: url.Values{}}
			for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
				ia := attrs(in[1])
				if strings.EqualFold(ia["type"], "hidden") && ia["name"] != "" {
					f.fields.Add(ia["name"], ia["value"])
				}
			}
			return f, true
		}
	}
	return form{}, false
}

var (
	radioRe = regexp.MustCompile(`(?is)<input\b([^>]*type="radio"[^>]*)>`)
	labelRe = regexp.MustCompile(`(?is)<label\b([^>]*)>(.*?)</label>`)
)

// radioFor finds the value of the radio button named name whose label
// contains words (case-insensitive), or whose value is words.
func radioFor(body []byte, name, words string) (string, bool) {
	labels := map[string]string{}
	for _, m := range labelRe.FindAllStringSubmatch(string(body), -1) {
		labels[attrs(m[1])["for"]] = strings.ToLower(html.UnescapeString(tagRe.ReplaceAllString(m[2], " ")))
	}
	for _, m := range radioRe.FindAllStringSubmatch(string(body), -1) {
		a := attrs(m[1])
		if a["name"] != name {
			continue
		}
		if a["value"] == words || strings.Contains(labels[a["id"]], strings.ToLower(words)) {
			return a["value"], true
		}
	}
	return "", false
}

// pageText is the visible text of a page, briefly, for error messages.
func pageText(body []byte) string {
	s := string(body)
	if i := strings.Index(strings.ToLower(s), "<main"); i >= 0 {
		s = s[i:]
	}
	s = strings.TrimSpace(spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(s, " ")), " "))
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}

// IsPageError says whether err is a page the browser stopped at, and gives it.
func IsPageError(err error) (*PageError, bool) {
	var pe *PageError
	ok := errors.As(err, &pe)
	return pe, ok
}

// Login signs the browser in at the issuer's login page as acc (with the
// second factor's code when the page asks for it), outside any site's
// request, so the browser can then use the person's own pages.
func (b *Browser) Login(ctx context.Context, issuer string, acc Account) error {
	method, next, form := http.MethodGet, issuer+"/login", url.Values(nil)
	codeTries := 0
	for range maxSteps {
		res, body, err := b.do(ctx, method, next, form)
		if err != nil {
			return err
		}
		here := res.Request.URL
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			loc, err := here.Parse(res.Header.Get("Location"))
			if err != nil {
				return err
			}
			if loc.Path != "/login" && loc.Path != "/login/code" {
				return nil // signed in: sent on to the page after login
			}
			method, next, form = http.MethodGet, loc.String(), nil
			continue
		}
		f, ok := findForm(here, body, "/login", "/login/code")
		if !ok || (res.StatusCode != http.StatusOK && !codeRefusedOnce(f, res, codeTries)) {
			return &PageError{Method: method, URL: next, Status: res.StatusCode, Body: pageText(body)}
		}
		if method == http.MethodPost && f.path == "/login" {
			return &PageError{Method: method, URL: next, Status: res.StatusCode, Body: "the login form was shown again: " + pageText(body)}
		}
		switch f.path {
		case "/login":
			f.fields.Set("email", acc.Email)
			f.fields.Set("password", acc.Password)
		case "/login/code":
			code, err := stepCode(acc.TOTPSecret, codeTries)
			if err != nil {
				return err
			}
			codeTries++
			f.fields.Set("code", code)
		}
		method, next, form = http.MethodPost, f.action.String(), f.fields
	}
	return fmt.Errorf("no login after %d requests", maxSteps)
}

// codeRefusedOnce says whether the page is the second-factor form given
// back once with 401: the issuer refuses a code of a time step already used
// (RFC 6238 §5.2), as when the same account logged in elsewhere at once.
// A person would wait for the next code; the browser gives the next step's
// code, which issuers accept within their clock skew.
func codeRefusedOnce(f form, res *http.Response, tries int) bool {
	return f.path == "/login/code" && res.StatusCode == http.StatusUnauthorized && tries == 1
}

// stepCode is the code of the try-th attempt: now's, then the next step's.
func stepCode(secret string, try int) (string, error) {
	code, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(try)*30*time.Second))
	if err != nil {
		return "", fmt.Errorf("second-factor code: %w", err)
	}
	return code, nil
}

// Submit opens page and posts its form whose action is formPath, with the
// page's hidden fields and fields set, as a person pressing its button;
// it returns the answer's status and where it sent the browser.
func (b *Browser) Submit(ctx context.Context, page, formPath string, fields url.Values) (int, string, error) {
	res, body, err := b.do(ctx, http.MethodGet, page, nil)
	if err != nil {
		return 0, "", err
	}
	f, ok := findForm(res.Request.URL, body, formPath)
	if !ok || res.StatusCode != http.StatusOK {
		return 0, "", &PageError{Method: http.MethodGet, URL: page, Status: res.StatusCode, Body: "no form to " + formPath + ": " + pageText(body)}
	}
	for k, v := range fields {
		f.fields[k] = v
	}
	res, _, err = b.do(ctx, http.MethodPost, f.action.String(), f.fields)
	if err != nil {
		return 0, "", err
	}
	return res.StatusCode, res.Header.Get("Location"), nil
}
