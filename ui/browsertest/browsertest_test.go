package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// The CSP is as strict as Relais's own, so these tests also prove that the
// harness's scripts and axe-core run on such pages.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const css = `
body { margin: 0 1rem; font: 16px/1.5 sans-serif; color: #111; background: #fff; }
a { color: #0645ad; }
:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.skip { position: absolute; left: -10000px; }
.skip:focus { position: static; }
.clipped { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.wide { width: 600px; }
#bare:focus, #bare:focus-visible { outline: none; }
#decorated { box-shadow: 0 2px 4px #555; }
#decorated:focus, #decorated:focus-visible { outline: none; }
#ring:focus, #ring:focus-visible { outline: none; box-shadow: 0 0 0 3px #1a5fb4; }
`

// trapJS is a keyboard trap (WCAG 2.1.2): Tab always returns to #first.
const trapJS = `document.addEventListener('keydown', (e) => {
	if (e.key === 'Tab') { e.preventDefault(); document.getElementById('first').focus(); }
});`

// page wraps body in a document that axe-core finds nothing wrong with.
func page(lang, title, body string) string {
	return fmt.Sprintf(`<!doctype html>
<html lang="%s"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title><link rel="stylesheet" href="/style.css"></head>
<body>%s</body></html>`, lang, title, body)
}

const goodBody = `
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Main"><a href="/other">Other page</a></nav></header>
<main id="main" tabindex="-1">
<h1>Sign in</h1>
<form action="/login" method="post">
<p><label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email"></p>
<fieldset><legend>Remember me</legend>
<input type="radio" id="yes" name="remember" value="yes"><label for="yes">Yes</label>
<input type="radio" id="no" name="remember" value="no"><label for="no">No</label>
</fieldset>
<p><button type="submit">Continue</button></p>
</form>
<p><a id="nottab" href="/help" tabindex="-1">Help, out of the tab order</a></p>
</main>`

func testServer() http.Handler {
	mux := http.NewServeMux()
	html := func(status int, title, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			lang := "en"
			if c, err := r.Cookie(LangCookie); err == nil {
				lang = c.Value
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			fmt.Fprint(w, page(lang, title, body))
		}
	}
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, css)
	})
	mux.HandleFunc("GET /trap.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, trapJS)
	})
	mux.Handle("GET /good", html(200, "Sign in", goodBody))
	mux.Handle("GET /missing", html(404, "Not found", `<main><h1>Not found</h1></main>`))
	mux.Handle("GET /noalt", html(200, "No alt", `<main><h1>Picture</h1><img src="/style.css"></main>`))
	mux.Handle("GET /wide", html(200, "Wide", `<main><h1>Wide</h1><div class="wide">Six hundred pixels</div></main>`))
	mux.Handle("GET /focus", html(200, "Focus", `<main><h1>Focus</h1>
<button id="bare">Bare</button> <button id="decorated">Decorated</button> <button id="ring">Ring</button></main>`))
	mux.Handle("GET /hiddenskip", html(200, "Hidden skip link", `<a class="clipped" id="skip" href="#main">Skip to content</a>
<main id="main"><h1>Hidden skip link</h1></main>`))
	mux.Handle("GET /trap", html(200, "Trap", `<main><h1>Trap</h1>
<p><a id="first" href="/a">First</a> <a id="second" href="/b">Second</a> <a id="nottab" href="/c" tabindex="-1">Third</a></p>
<script src="/trap.js"></script></main>`))
	mux.HandleFunc("GET /english", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, page("en", "English", `<main><h1>English only</h1></main>`))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		mux.ServeHTTP(w, r)
	})
}

func TestCheckPassesAccessiblePages(t *testing.T) {
	h := Start(t, testServer())
	h.Check(t,
		Page{Name: "good", Path: "/good", Lang: "fr"},
		Page{Name: "good", Path: "/good", Lang: "en"},
		Page{Name: "missing", Path: "/missing", Lang: "fr", WantStatus: 404},
	)
}

// TestAuditFinds proves that each check can fail: every bad page must be
// caught, and nothing else on it reported.
func TestAuditFinds(t *testing.T) {
	h := Start(t, testServer())
	audit := func(t *testing.T, path, lang string, width int) Report {
		t.Helper()
		r, err := h.Audit(t.Context(), Page{Name: strings.Trim(path, "/"), Path: path, Lang: lang}, width)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	hasPrefix := func(list []string, prefix string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.HasPrefix(s, prefix) })
	}

	t.Run("nothing on a good page", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/good", "fr", 320)
		if r.Status != 200 || r.Lang != "fr" || len(r.Violations) > 0 || r.Overflow || len(r.Unreached) > 0 || len(r.NoFocusStyle) > 0 {
			t.Errorf("good page: %+v", r)
		}
		png, err := os.ReadFile(r.Screenshot)
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("screenshot %s: not a PNG (%v)", r.Screenshot, err)
		}
		if want := "TestAuditFinds-good-fr-320.png"; !strings.HasSuffix(r.Screenshot, "/test-output/screenshots/"+want) && os.Getenv("RELAIS_TEST_OUTPUT") == "" {
			t.Errorf("screenshot at %s, want it named %s in test-output/screenshots", r.Screenshot, want)
		}
	})
	t.Run("image without alt", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/noalt", "en", 1280)
		i := slices.IndexFunc(r.Violations, func(v Violation) bool { return v.ID == "image-alt" })
		if i < 0 || len(r.Violations) != 1 {
			t.Fatalf("violations %+v, want only image-alt", r.Violations)
		}
		if v := r.Violations[i]; v.Impact == "" || v.Help == "" || !slices.Equal(v.Targets, []string{"img"}) {
			t.Errorf("image-alt violation %+v, want impact, help and target img", v)
		}
	})
	t.Run("overflow at 320 only", func(t *testing.T) {
		t.Parallel()
		if r := audit(t, "/wide", "en", 320); !r.Overflow {
			t.Error("600 px block at 320 px: Overflow false")
		}
		if r := audit(t, "/wide", "en", 1280); r.Overflow {
			t.Error("600 px block at 1280 px: Overflow true")
		}
	})
	t.Run("invisible focus", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/focus", "en", 320)
		if len(r.Unreached) > 0 {
			t.Errorf("unreached %q", r.Unreached)
		}
		if len(r.NoFocusStyle) != 2 || !hasPrefix(r.NoFocusStyle, "button#bare") || !hasPrefix(r.NoFocusStyle, "button#decorated") {
			t.Errorf("no focus style %q, want exactly #bare and #decorated (a resting shadow is no indicator)", r.NoFocusStyle)
		}
	})
	t.Run("skip link hidden when focused", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/hiddenskip", "en", 320)
		if len(r.NoFocusStyle) != 1 || !hasPrefix(r.NoFocusStyle, "a#skip") || !strings.Contains(r.NoFocusStyle[0], "not visible") {
			t.Errorf("no focus style %q, want the clipped skip link as not visible", r.NoFocusStyle)
		}
	})
	t.Run("keyboard trap", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/trap", "en", 1280)
		if len(r.Unreached) != 1 || !hasPrefix(r.Unreached, "a#second") {
			t.Errorf("unreached %q, want only #second (tabindex=-1 is not a control)", r.Unreached)
		}
	})
	t.Run("status and lang", func(t *testing.T) {
		t.Parallel()
		r := audit(t, "/missing", "en", 320)
		if r.Status != 404 {
			t.Errorf("status %d, want 404", r.Status)
		}
		r = audit(t, "/english", "fr", 320)
		if r.Lang != "en" {
			t.Errorf("lang %q, want en", r.Lang)
		}
		if msgs := Problems(Page{Lang: "fr"}, r); len(msgs) != 1 || !strings.Contains(msgs[0], "lang") {
			t.Errorf("Problems = %q, want one about lang", msgs)
		}
	})
}

func TestProblems(t *testing.T) {
	if msgs := Problems(Page{Lang: "fr"}, Report{Status: 200, Lang: "fr"}); len(msgs) != 0 {
		t.Errorf("clean report: %q", msgs)
	}
	if msgs := Problems(Page{WantStatus: 404}, Report{Status: 404}); len(msgs) != 0 {
		t.Errorf("expected 404: %q", msgs)
	}
	r := Report{
		Width:        320,
		Status:       500,
		Lang:         "en",
		Violations:   []Violation{{ID: "image-alt"}, {ID: "label"}},
		Overflow:     true,
		Unreached:    []string{"a#x"},
		NoFocusStyle: []string{"button#y: no outline"},
	}
	msgs := Problems(Page{Lang: "fr"}, r)
	for _, want := range []string{"status 500", "lang", "image-alt", "label", "sideways at 320", "a#x", "button#y"} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("Problems = %q, want one containing %q", msgs, want)
		}
	}
	if len(msgs) != 7 {
		t.Errorf("Problems gave %d messages, want 7: %q", len(msgs), msgs)
	}
}
