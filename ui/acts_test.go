package ui_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// reportAct posts a report to /access/v1/acts with token as Bearer (none
// when empty) and returns the status, the WWW-Authenticate header and the
// JSON answer.
func reportAct(t *testing.T, base, token string, body any) (int, string, map[string]any) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/access/v1/acts", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, res.Header.Get("WWW-Authenticate"), m
}

// TestASiteReportsTheActItCompleted: Marie, Jeanne's tutor, sends a
// declaration at the caf site; the site reports it with Marie's token and
// Jeanne reads it in her journal with Marie and the site. An act Marie may
// not do is refused and stores no act; bad words and bad tokens are
// refused before anything.
func TestASiteReportsTheActItCompleted(t *testing.T) {
	a := newActingRun(t)
	tok := a.accept(t, a.choose(t, a.repID))
	acts := func() []mandates.EventType {
		var out []mandates.EventType
		for _, e := range ofType(chainOf(t, a.app, a.cast.jeanne.ID), mandates.EventActReported) {
			out = append(out, e.Type)
		}
		return out
	}

	t.Run("an act the tutor may do is journaled with the actor and the site", func(t *testing.T) {
		code, _, m := reportAct(t, a.app.srv.URL, tok.AccessToken, map[string]string{"action": "manage", "procedure_area": "social",
			"label": "Déclaration de changement de situation envoyée", "reference": "2026-1187"})
		if code != http.StatusCreated || m["reported"] != true {
			t.Fatalf("report: %d %v", code, m)
		}
		got := ofType(chainOf(t, a.app, a.cast.jeanne.ID), mandates.EventActReported)
		if len(got) != 1 {
			t.Fatalf("%d acts in Jeanne's journal, want 1", len(got))
		}
		e := got[0]
		if e.ActorID != a.cast.marie.ID || e.ClientID != "caf" || e.RepresentationID != a.repID || e.Detail == nil ||
			e.Detail.Fields["label"] != "Déclaration de changement de situation envoyée" || e.Detail.Fields["reference"] != "2026-1187" {
			t.Errorf("act %+v, want Marie at caf under the tutelle with the site's words", e.Entry)
		}
		res, err := signedInClient(t, a.app, a.cast.jeanne).Get(a.app.srv.URL + "/espace/journal")
		if err != nil {
			t.Fatal(err)
		}
		page := htmlUnescape(readBody(t, res))
		for _, want := range []string{"Marie Martin", "Déclaration de changement de situation envoyée", "2026-1187"} {
			if !strings.Contains(page, want) {
				t.Errorf("Jeanne's journal does not say %q", want)
			}
		}
		// « Ce qui a été fait pour moi »: the act, not the tokens Marie got.
		res, err = signedInClient(t, a.app, a.cast.jeanne).Get(a.app.srv.URL + "/espace/journal?pour=moi")
		if err != nil {
			t.Fatal(err)
		}
		page = htmlUnescape(readBody(t, res))
		if !strings.Contains(page, "Marie Martin, qui exerce votre tutelle, a fait une démarche pour vous") || strings.Contains(page, "a ouvert votre compte") ||
			!strings.Contains(page, `name="pour" value="moi" aria-describedby="pour-aide" checked`) {
			t.Errorf("what was done for Jeanne:\n%s", between(page, "<main", "</main>"))
		}
	})

	t.Run("an act the tutor may not do is refused and no act is stored", func(t *testing.T) {
		before := len(ofType(chainOf(t, a.app, a.cast.jeanne.ID), mandates.EventAccessEvaluated))
		code, _, m := reportAct(t, a.app.srv.URL, tok.AccessToken, map[string]string{"action": "personal", "procedure_area": "famille", "label": "Mariage"})
		if code != http.StatusForbidden || m["error"] != "access_denied" || m["decision"] != false {
			t.Fatalf("report of a personal act: %d %v", code, m)
		}
		if n := len(acts()); n != 1 {
			t.Errorf("%d acts, want still 1", n)
		}
		evals := ofType(chainOf(t, a.app, a.cast.jeanne.ID), mandates.EventAccessEvaluated)
		if len(evals) != before+1 || evals[len(evals)-1].Detail.Fields["decision"] != "refused" {
			t.Errorf("the refusal is not journaled as an evaluation")
		}
	})

	t.Run("bad words are refused with 400", func(t *testing.T) {
		for name, body := range map[string]any{
			"no label":                           map[string]string{"action": "manage", "procedure_area": "social"},
			"a label too long":                   map[string]string{"action": "manage", "procedure_area": "social", "label": strings.Repeat("a", mandates.MaxActLabel+1)},
			"a label not in UTF-8":               `{"action": "manage", "procedure_area": "social", "label": "` + "\xff" + `"}`,
			"an unknown area":                    map[string]string{"action": "manage", "procedure_area": "lune", "label": "Envoyé"},
			"an area the site has not":           map[string]string{"action": "manage", "procedure_area": "argent", "label": "Envoyé"},
			"an unknown action":                  map[string]string{"action": "voler", "procedure_area": "social", "label": "Envoyé"},
			"not JSON":                           "label=Envoyé",
			"a co-signature not an id":           map[string]string{"action": "manage", "procedure_area": "social", "label": "Envoyé", "cosignature_id": "x"},
			"a label that reorders what is read": map[string]string{"action": "manage", "procedure_area": "social", "label": "Envoyé \u202eerèp ud"},
			"a label with a zero-width mark":     map[string]string{"action": "manage", "procedure_area": "social", "label": "Env\u200boyé"},
			"a label that closes Relais's quote": map[string]string{"action": "manage", "procedure_area": "social",
				"label": "Envoyé ». Relais a arrêté la procuration de Paul. « ok"},
		} {
			t.Run(name, func(t *testing.T) {
				code, _, m := reportAct(t, a.app.srv.URL, tok.AccessToken, body)
				if code != http.StatusBadRequest || m["error"] != "invalid_request" || m["error_description"] == "" {
					t.Errorf("%d %v, want 400 invalid_request", code, m)
				}
			})
		}
		if n := len(acts()); n != 1 {
			t.Errorf("%d acts, want still 1", n)
		}
	})

	t.Run("a refresh token is not an actor's access token", func(t *testing.T) {
		if tok.RefreshToken == "" {
			t.Fatal("the flow gave no refresh token to try")
		}
		body := map[string]string{"action": "manage", "procedure_area": "social", "label": "Envoyé"}
		if code, _, m := reportAct(t, a.app.srv.URL, tok.RefreshToken, body); code != http.StatusUnauthorized || m["error"] != "invalid_token" {
			t.Errorf("a refresh token: %d %v, want 401 invalid_token", code, m)
		}
		if n := len(acts()); n != 1 {
			t.Errorf("%d acts, want still 1", n)
		}
		// The same check guards userinfo (OIDC Core §5.3: an access token).
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, a.app.srv.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.RefreshToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo with a refresh token: %d, want 401", res.StatusCode)
		}
	})

	t.Run("a missing, wrong or revoked token is refused with 401", func(t *testing.T) {
		body := map[string]string{"action": "manage", "procedure_area": "social", "label": "Envoyé"}
		if code, challenge, _ := reportAct(t, a.app.srv.URL, "", body); code != http.StatusUnauthorized || !strings.Contains(challenge, "Bearer") {
			t.Errorf("without a token: %d %q", code, challenge)
		}
		if code, challenge, m := reportAct(t, a.app.srv.URL, "not-a-token", body); code != http.StatusUnauthorized || m["error"] != "invalid_token" ||
			!strings.Contains(challenge, `error="invalid_token"`) {
			t.Errorf("a wrong token: %d %q %v", code, challenge, m)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, a.app.srv.URL+"/revoke", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("caf", a.app.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if code, _, m := reportAct(t, a.app.srv.URL, tok.AccessToken, body); code != http.StatusUnauthorized || m["error"] != "invalid_token" {
			t.Errorf("a revoked token: %d %v", code, m)
		}
		if n := len(acts()); n != 1 {
			t.Errorf("%d acts, want still 1", n)
		}
	})
}
