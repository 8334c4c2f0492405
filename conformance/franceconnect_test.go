package conformance

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The FranceConnect login (issue 16, point 1), against a real upstream
// provider: a second relais serve --demo plays FranceConnect (Relais gives
// FranceConnect's pivot claims under FranceConnect's scope names). The
// downstream Relais is configured with a client registered on it by
// relais clients create, and the test drives both over HTTP as a browser.
//
// The upstream is reached through the test's own reverse proxy (its
// issuer is the proxy's address), which can alter the signature of the ID
// token in the token endpoint's answer: a forged token. The upstream is
// named "localhost" and the downstream "127.0.0.1", so that one cookie jar
// keeps both sites' sessions apart, as a browser does.
//
// Both start with --demo; --demo-persons adds the persons the cases need:
// Nina Nouvelle only on the upstream (self sign-up opens her account), and
// Marc Double, once on the upstream and twice on the downstream (two
// homonyms, one identité pivot: refused as ambiguous).

// demoPersonsFile writes persons as --demo-persons reads them.
func demoPersonsFile(t *testing.T, persons []map[string]string) string {
	t.Helper()
	b, err := json.Marshal(persons)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "persons.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func marcDouble(email string) map[string]string {
	return map[string]string{"given_names": "Marc", "family_name": "Double", "birth_date": "1970-01-01", "birth_place": "75056",
		"birth_country": "99100", "gender": "male", "email": email, "password": "marc-demo-2026"}
}

var ninaNouvelle = map[string]string{"given_names": "Nina", "family_name": "Nouvelle", "birth_date": "1995-05-05", "birth_place": "13055",
	"birth_country": "99100", "gender": "female", "email": "nina.nouvelle@demo.example", "password": "nina-demo-2026"}

// franceConnectWorld is the upstream, its proxy and the downstream.
type franceConnectWorld struct {
	upstream, downstream string // issuers
	forge                *atomic.Bool
	transport            http.RoundTripper
}

func startFranceConnectWorld(t *testing.T) *franceConnectWorld {
	t.Helper()
	w := &franceConnectWorld{forge: &atomic.Bool{}, transport: newTransport()}
	env := relaisEnv(t)

	upPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	upAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(upPort))
	real, _ := url.Parse("http://" + upAddr)
	proxy := httputil.NewSingleHostReverseProxy(real)
	proxy.ModifyResponse = func(res *http.Response) error {
		if !w.forge.Load() || res.Request.URL.Path != "/token" || res.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err == nil {
			if raw, ok := m["id_token"].(string); ok {
				m["id_token"] = alterSignature(raw)
				body, _ = json.Marshal(m)
			}
		}
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	w.upstream = "http://localhost:" + front.URL[strings.LastIndex(front.URL, ":")+1:]

	downPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	downAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(downPort))
	w.downstream = "http://" + downAddr

	// The downstream's client at the upstream, registered before it
	// serves, as a deployment's is at FranceConnect.
	upDB := "sqlite:" + filepath.Join(t.TempDir(), "upstream.db")
	relaisRun(t, env, "migrate", "up", "--db", upDB)
	out := relaisRun(t, env, "clients", "create", "--db", upDB, "--id", "relais-downstream", "--name", "Relais (conformance)",
		"--redirect-uri", w.downstream+"/connexion/franceconnect/retour",
		"--post-logout-redirect-uri", w.downstream+"/connexion/franceconnect/deconnexion",
		"--scope", "openid given_name family_name birthdate gender birthplace birthcountry email")
	secret := field(out, "client_secret:")
	if secret == "" {
		t.Fatalf("relais clients create printed no client_secret:\n%s", out)
	}
	upPersons := demoPersonsFile(t, []map[string]string{ninaNouvelle, marcDouble("marc.double@demo.example")})
	if _, err := tryServeOn(t, env, upDB, upAddr, w.upstream, "--demo-persons", upPersons); err != nil {
		t.Fatal(err)
	}

	downPersons := demoPersonsFile(t, []map[string]string{marcDouble("marc.double@demo.example"), marcDouble("m.double@demo.example")})
	downEnv := append(env, "RELAIS_FRANCECONNECT_CLIENT_SECRET="+secret)
	downDB := "sqlite:" + filepath.Join(t.TempDir(), "downstream.db")
	if _, err := tryServeOn(t, downEnv, downDB, downAddr, w.downstream, "--demo-persons", downPersons,
		"--franceconnect-issuer", w.upstream, "--franceconnect-client-id", "relais-downstream", "--self-signup"); err != nil {
		t.Fatal(err)
	}
	return w
}

// alterSignature changes one byte of a JWT's signature.
func alterSignature(raw string) string {
	i := strings.LastIndex(raw, ".")
	if i < 0 || i+2 >= len(raw) {
		return raw + "x"
	}
	b := []byte(raw)
	if b[i+2] == 'A' {
		b[i+2] = 'B'
	} else {
		b[i+2] = 'A'
	}
	return string(b)
}

// franceConnectLogin presses the FranceConnect button of the downstream in
// b, logs in at the upstream as acc (password, consent), and comes back:
// the downstream's answer to the return.
func (w *franceConnectWorld) franceConnectLogin(t *testing.T, b *Browser, acc Account) (*http.Response, string) {
	t.Helper()
	ctx := t.Context()
	res, _, err := b.do(ctx, http.MethodGet, w.downstream+"/connexion/franceconnect?return=%2Fespace", nil)
	if err != nil {
		t.Fatal(err)
	}
	to := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to, w.upstream+"/authorize?") {
		t.Fatalf("the FranceConnect button answered %d to %q, want the upstream's authorization endpoint", res.StatusCode, to)
	}
	q, _ := url.Parse(to)
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if q.Query().Get(p) == "" {
			t.Errorf("the authorization request has no %s: %s", p, to)
		}
	}
	if q.Query().Get("code_challenge_method") != "S256" || q.Query().Get("acr_values") != "eidas1" {
		t.Errorf("the authorization request asks code_challenge_method %q, acr_values %q; want S256, eidas1",
			q.Query().Get("code_challenge_method"), q.Query().Get("acr_values"))
	}
	v, err := b.Authorize(ctx, to, w.downstream+"/connexion/franceconnect/retour", acc, Accept)
	if err != nil {
		t.Fatalf("at the upstream: %v", err)
	}
	if v.Callback.Query().Get("iss") != w.upstream {
		t.Errorf("the upstream's answer carries iss %q, want %q (RFC 9207)", v.Callback.Query().Get("iss"), w.upstream)
	}
	res, body, err := b.do(ctx, http.MethodGet, v.Callback.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// journalOf is the downstream's journal export of the browser's person.
func (w *franceConnectWorld) journalOf(t *testing.T, b *Browser) []map[string]any {
	t.Helper()
	res, body, err := b.do(t.Context(), http.MethodGet, w.downstream+"/espace/journal/export.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("journal export: %d %s", res.StatusCode, pageText(body))
	}
	var exp struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(body, &exp); err != nil {
		t.Fatalf("journal export: %v", err)
	}
	return exp.Entries
}

// count counts the entries of type typ whose detail has every pair of kv.
func count(entries []map[string]any, typ string, kv ...string) int {
	n := 0
	for _, e := range entries {
		if e["type"] != typ {
			continue
		}
		d, _ := e["detail"].(map[string]any)
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			ok = ok && d[kv[i]] == kv[i+1]
		}
		if ok {
			n++
		}
	}
	return n
}

// TestFranceConnect drives the login through FranceConnect between two
// relais processes. The cases run in order: each starts from a fresh
// browser, and the forged token is the proxy's state while it runs.
func TestFranceConnect(t *testing.T) {
	skipIfExternal(t)
	w := startFranceConnectWorld(t)
	jeanne := Account{Email: "jeanne.lefevre@demo.example", Password: "jeanne-demo-2026"}

	t.Run("the login page shows the FranceConnect button and what FranceConnect is", func(t *testing.T) {
		b := NewBrowser(guard{w.transport, t})
		res, body, err := b.do(t.Context(), http.MethodGet, w.downstream+"/login", nil)
		if err != nil {
			t.Fatal(err)
		}
		page := string(body)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "S’identifier avec FranceConnect") ||
			!strings.Contains(page, "Qu’est-ce que FranceConnect ?") || !strings.Contains(page, `action="/login"`) {
			t.Errorf("login page: %d, want the FranceConnect button, its explanation and the password form: %s", res.StatusCode, pageText(body))
		}
	})

	t.Run("a pivot match links Jeanne's account; her second login uses the link", func(t *testing.T) {
		for i := range 2 {
			b := NewBrowser(guard{w.transport, t})
			res, body := w.franceConnectLogin(t, b, jeanne)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/espace" {
				t.Fatalf("login %d: the return answered %d to %q, want /espace: %s", i+1, res.StatusCode, res.Header.Get("Location"), pageText([]byte(body)))
			}
			entries := w.journalOf(t, b)
			if n := count(entries, "login.upstream_linked", "provider", "franceconnect"); n != 1 {
				t.Errorf("after login %d, Jeanne's journal has %d login.upstream_linked, want 1 (linked once, then the link is used)", i+1, n)
			}
			if n := count(entries, "login.succeeded", "method", "franceconnect"); n != i+1 {
				t.Errorf("after login %d, Jeanne's journal has %d logins through FranceConnect, want %d", i+1, n, i+1)
			}
		}
	})

	t.Run("a person the downstream lacks gets an account, with self sign-up on", func(t *testing.T) {
		b := NewBrowser(guard{w.transport, t})
		res, body := w.franceConnectLogin(t, b, Account{Email: ninaNouvelle["email"], Password: ninaNouvelle["password"]})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the return answered %d: %s", res.StatusCode, pageText([]byte(body)))
		}
		entries := w.journalOf(t, b)
		if count(entries, "account.opened", "by", "franceconnect") != 1 || count(entries, "login.upstream_linked") != 1 {
			t.Errorf("Nina's new journal lacks account.opened by franceconnect or the link: %v", entries)
		}
		_, space, err := b.do(t.Context(), http.MethodGet, w.downstream+"/espace", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(space), "Nina Nouvelle") {
			t.Errorf("Nina's space does not name her: %s", pageText(space))
		}
	})

	t.Run("an ambiguous pivot is refused, and each homonym's journal says so", func(t *testing.T) {
		b := NewBrowser(guard{w.transport, t})
		res, body := w.franceConnectLogin(t, b, Account{Email: "marc.double@demo.example", Password: "marc-demo-2026"})
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "data-refusal") || !strings.Contains(body, `href="/login?return=%2Fespace"`) {
			t.Errorf("the return answered %d, want 409 with the refusal and the password login: %s", res.StatusCode, pageText([]byte(body)))
		}
		if _, _, err := b.do(t.Context(), http.MethodGet, w.downstream+"/espace", nil); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"marc.double@demo.example", "m.double@demo.example"} {
			hb := NewBrowser(guard{w.transport, t})
			if err := hb.Login(t.Context(), w.downstream, Account{Email: email, Password: "marc-demo-2026"}); err != nil {
				t.Fatal(err)
			}
			if n := count(w.journalOf(t, hb), "login.upstream_refused", "reason", "ambiguous"); n != 1 {
				t.Errorf("%s's journal has %d login.upstream_refused for ambiguous, want 1", email, n)
			}
		}
	})

	t.Run("a forged upstream ID token is refused", func(t *testing.T) {
		w.forge.Store(true)
		defer w.forge.Store(false)
		b := NewBrowser(guard{w.transport, t})
		res, body := w.franceConnectLogin(t, b, jeanne)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "data-refusal") {
			t.Errorf("the return with a forged ID token answered %d, want 400 with the refusal: %s", res.StatusCode, pageText([]byte(body)))
		}
		if res, _, _ := b.do(t.Context(), http.MethodGet, w.downstream+"/espace/journal/export.json", nil); res.StatusCode == http.StatusOK {
			t.Error("the browser has a session after a forged ID token")
		}
	})

	t.Run("a return replayed is refused", func(t *testing.T) {
		b := NewBrowser(guard{w.transport, t})
		res, _, err := b.do(t.Context(), http.MethodGet, w.downstream+"/connexion/franceconnect", nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.Authorize(t.Context(), res.Header.Get("Location"), w.downstream+"/connexion/franceconnect/retour", jeanne, Accept)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := b.do(t.Context(), http.MethodGet, v.Callback.String(), nil)
		again, body, _ := b.do(t.Context(), http.MethodGet, v.Callback.String(), nil)
		if first.StatusCode != http.StatusSeeOther || again.StatusCode != http.StatusBadRequest {
			t.Errorf("the return answered %d then %d, want 303 then 400: %s", first.StatusCode, again.StatusCode, pageText(body))
		}
	})

	t.Run("logout reaches the upstream: both sessions end", func(t *testing.T) {
		ctx := t.Context()
		b := NewBrowser(guard{w.transport, t})
		if res, body := w.franceConnectLogin(t, b, jeanne); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d %s", res.StatusCode, pageText([]byte(body)))
		}
		status, to, err := b.Submit(ctx, w.downstream+"/logout", "/logout", nil)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		if status != http.StatusSeeOther || !strings.HasPrefix(to, w.upstream+"/logout?") || u.Query().Get("id_token_hint") == "" ||
			u.Query().Get("state") == "" || u.Query().Get("post_logout_redirect_uri") != w.downstream+"/connexion/franceconnect/deconnexion" {
			t.Fatalf("Relais's logout answered %d to %q, want the upstream's end_session_endpoint with id_token_hint, state and the way back", status, to)
		}
		status, back, err := b.Submit(ctx, to, "/logout", nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusSeeOther || !strings.HasPrefix(back, w.downstream+"/connexion/franceconnect/deconnexion?") {
			t.Fatalf("the upstream's logout answered %d to %q, want the way back to Relais", status, back)
		}
		res, body, err := b.do(ctx, http.MethodGet, back, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Errorf("Relais's page after the upstream's logout: %d %s", res.StatusCode, pageText(body))
		}
		for _, site := range []string{w.upstream, w.downstream} {
			res, _, err := b.do(ctx, http.MethodGet, site+"/espace", nil)
			if err != nil {
				t.Fatal(err)
			}
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("%s/espace after the logout: %d to %q, want the login page (no session)", site, res.StatusCode, loc)
			}
		}
	})
}
