package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// letterNotices are the notices of kind typ about personID in the outbox.
func letterNotices(t *testing.T, app *oidcApp, personID string, typ mandates.EventType) []notices.Notice {
	t.Helper()
	all, err := app.store.NoticesOf(t.Context(), personID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []notices.Notice
	for _, n := range all {
		if n.Kind == typ {
			out = append(out, n)
		}
	}
	return out
}

// TestLettersAPersonChoosesSMSThenGoesBackToPaper is the whole change on
// Jeanne's own page: a landline refused next to the field, the code sent
// to her mobile, a wrong code counted, the right one confirming SMS with
// a letter on paper saying so, a date in the past refused, then paper for
// good. Each step is in her journal.
func TestLettersAPersonChoosesSMSThenGoesBackToPaper(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	jeanne := signedIn(t, app, c.jeanne)

	home := getPage(t, app, jeanne, "/espace")
	if !home.has(`href="/espace/courriers"`) || !home.has("Comment je reçois mes courriers") {
		t.Fatalf("the space home has no link to the letters' page:\n%.3000s", home.body)
	}
	page := getPage(t, app, jeanne, "/espace/courriers")
	if page.status != http.StatusOK || !page.has("Vous recevez vos courriers de Relais sur papier, par la poste.") ||
		!page.has(`href="/espace/courriers/sms"`) || !page.has(`href="/espace/courriers/email"`) || page.has(`action="/espace/courriers/papier"`) {
		t.Fatalf("the letters' page: %d\n%.3000s", page.status, page.body)
	}

	form := getPage(t, app, jeanne, "/espace/courriers/sms")
	if form.status != http.StatusOK || !form.has(`type="tel"`) || !form.has(`aria-describedby="sms-hint"`) {
		t.Fatalf("the number's form: %d\n%.3000s", form.status, form.body)
	}
	landline := postForm(t, app, jeanne, "/espace/courriers/sms", url.Values{"sms": {"01 23 45 67 89"}})
	if landline.status != http.StatusBadRequest || !landline.has("Ce numéro ne peut pas recevoir de SMS.") ||
		!landline.has(`aria-describedby="sms-hint sms-error"`) || !landline.has(`aria-invalid="true"`) || !landline.has(`href="#sms"`) ||
		!landline.has(`value="01 23 45 67 89"`) {
		t.Fatalf("a landline: %d\n%.3000s", landline.status, landline.body)
	}
	if app.sent.count() != 0 {
		t.Fatal("a code was sent to a landline")
	}

	sent := postForm(t, app, jeanne, "/espace/courriers/sms", url.Values{"sms": {"06 12 34 56 78"}})
	if sent.status != http.StatusSeeOther || sent.location != "/espace/courriers/code" {
		t.Fatalf("a mobile number: %d to %q\n%.2000s", sent.status, sent.location, sent.body)
	}
	to, code := app.sent.code(t)
	if to != "+33612345678" || code == "" {
		t.Fatalf("the code went to %q: %q", to, code)
	}
	codePage := getPage(t, app, jeanne, "/espace/courriers/code")
	if !codePage.has("Relais a envoyé un code à 06 12 34 56 78.") || !codePage.has(`autocomplete="one-time-code"`) {
		t.Fatalf("the code's page:\n%.3000s", codePage.body)
	}
	if still := getPage(t, app, jeanne, "/espace/courriers"); !still.has("sur papier, par la poste") || !still.has("Un code a été envoyé à 06 12 34 56 78.") {
		t.Errorf("before the code, the page says:\n%.3000s", still.body)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	bad := postForm(t, app, jeanne, "/espace/courriers/code", url.Values{"code": {wrong}})
	if bad.status != http.StatusBadRequest || !bad.has("Ce code n’est pas le bon.") || !bad.has("Essais restants : 4.") ||
		!bad.has(`aria-describedby="code-hint code-error"`) {
		t.Fatalf("a wrong code: %d\n%.3000s", bad.status, bad.body)
	}
	good := postForm(t, app, jeanne, "/espace/courriers/code", url.Values{"code": {code}})
	if good.status != http.StatusSeeOther || good.location != "/espace/courriers?fait=confirme" {
		t.Fatalf("the right code: %d to %q\n%.2000s", good.status, good.location, good.body)
	}
	done := getPage(t, app, jeanne, good.location)
	if !done.has("Vous recevez vos courriers de Relais par SMS, au 06 12 34 56 78.") || !done.has("C’est fait") ||
		!done.has("Relais envoie aussi une lettre par la poste") || !done.has(`action="/espace/courriers/papier"`) {
		t.Fatalf("after the code:\n%.3000s", done.body)
	}
	letters := letterNotices(t, app, c.jeanne.ID, mandates.EventNoticeChannelConfirmed)
	if len(letters) != 1 || letters[0].Channel != notices.Paper || letters[0].RecipientID != c.jeanne.ID || letters[0].Data["channel"] != "sms" {
		t.Fatalf("the notices of the new channel: %+v, want one letter to Jeanne", letters)
	}

	past := postForm(t, app, jeanne, "/espace/courriers/papier", url.Values{"quand": {"date"}, "date": {"01/01/2020"}})
	if past.status != http.StatusBadRequest || !past.has("Choisissez une date après aujourd’hui.") || !past.has(`aria-describedby="date-hint date-error"`) {
		t.Fatalf("a date in the past: %d\n%.3000s", past.status, past.body)
	}
	noWhen := postForm(t, app, jeanne, "/espace/courriers/papier", url.Values{})
	if noWhen.status != http.StatusBadRequest || !noWhen.has("Choisissez « Pour toujours » ou « Jusqu’à une date ».") {
		t.Fatalf("no answer: %d\n%.3000s", noWhen.status, noWhen.body)
	}
	paper := postForm(t, app, jeanne, "/espace/courriers/papier", url.Values{"quand": {"toujours"}})
	if paper.status != http.StatusSeeOther || paper.location != "/espace/courriers?fait=papier" {
		t.Fatalf("back to paper: %d to %q", paper.status, paper.location)
	}
	if back := getPage(t, app, jeanne, paper.location); !back.has("Vous recevez vos courriers de Relais sur papier, par la poste.") ||
		!back.has("les courriers arrivent de nouveau sur papier") {
		t.Fatalf("after going back to paper:\n%.3000s", back.body)
	}
	chain := chainOf(t, app, c.jeanne.ID)
	for _, typ := range []mandates.EventType{mandates.EventNoticeChannelRequested, mandates.EventNoticeChannelConfirmed, mandates.EventNoticePaperChosen} {
		es := ofType(chain, typ)
		if len(es) != 1 || es[0].ActorID != c.jeanne.ID || es[0].PersonID != c.jeanne.ID {
			t.Errorf("%s in Jeanne's journal: %+v", typ, es)
		}
	}
	journalPage := getPage(t, app, jeanne, "/espace/journal")
	for _, want := range []string{"vous avez demandé à recevoir les courriers de Relais par SMS.", "vous avez tapé le bon code. Les courriers de Relais arrivent maintenant par SMS.",
		"vous avez choisi les courriers sur papier."} {
		if !strings.Contains(strings.ToLower(journalPage.body), strings.ToLower(want)) {
			t.Errorf("Jeanne's journal does not say %q", want)
		}
	}
}

// TestLettersUntilADate: paper until a date keeps the address, says when
// email counts again, and journals the date.
func TestLettersUntilADate(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed := signedIn(t, app, c.ahmed)
	if a := postForm(t, app, ahmed, "/espace/courriers/email", url.Values{"email": {"ahmed.benali@example.fr"}}); a.status != http.StatusSeeOther {
		t.Fatalf("the address: %d\n%.2000s", a.status, a.body)
	}
	_, code := app.sent.code(t)
	if a := postForm(t, app, ahmed, "/espace/courriers/code", url.Values{"code": {code}}); a.status != http.StatusSeeOther {
		t.Fatalf("the code: %d\n%.2000s", a.status, a.body)
	}
	day := time.Now().UTC().AddDate(0, 1, 0)
	a := postForm(t, app, ahmed, "/espace/courriers/papier", url.Values{"quand": {"date"}, "date": {day.Format("02/01/2006")}})
	if a.status != http.StatusSeeOther || a.location != "/espace/courriers?fait=papier-date" {
		t.Fatalf("paper until a date: %d to %q\n%.2000s", a.status, a.location, a.body)
	}
	page := getPage(t, app, ahmed, a.location)
	if !page.has("sur papier, par la poste") || !page.has("Ensuite, ils arriveront de nouveau par e-mail.") || !page.has("Garder le papier pour toujours") {
		t.Fatalf("the page:\n%.3000s", page.body)
	}
	es := ofType(chainOf(t, app, c.ahmed.ID), mandates.EventNoticePaperChosen)
	if len(es) != 1 || es[0].Detail == nil || es[0].Detail.Fields["until"] != day.Format(time.DateOnly) {
		t.Fatalf("the entry: %+v", es)
	}
}

// TestLettersATutorChoosesForThePerson: Marie, Jeanne's tutor, chooses
// email for her from her own space; the entries name Marie and the
// tutelle; Jeanne gets the letter on paper.
func TestLettersATutorChoosesForThePerson(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	marie := signedIn(t, app, c.marie)
	base := "/espace/pour/" + c.jeanne.ID + "/courriers"
	if home := getPage(t, app, marie, "/espace"); !home.has(`href="`+base+`"`) || !home.has("Comment Jeanne Petit reçoit ses courriers") {
		t.Fatalf("Marie's space has no link to Jeanne's letters:\n%.3000s", home.body)
	}
	page := getPage(t, app, marie, base)
	if page.status != http.StatusOK || !page.has("Jeanne Petit reçoit ses courriers de Relais sur papier") {
		t.Fatalf("Jeanne's letters for Marie: %d\n%.3000s", page.status, page.body)
	}
	if a := postForm(t, app, marie, base+"/email", url.Values{"email": {"jeanne.petit@example.fr"}}); a.status != http.StatusSeeOther || a.location != base+"/code" {
		t.Fatalf("the address: %d to %q\n%.2000s", a.status, a.location, a.body)
	}
	_, code := app.sent.code(t)
	if a := postForm(t, app, marie, base+"/code", url.Values{"code": {code}}); a.status != http.StatusSeeOther {
		t.Fatalf("the code: %d\n%.2000s", a.status, a.body)
	}
	if p := getPage(t, app, signedIn(t, app, c.jeanne), "/espace/courriers"); !p.has("par e-mail, à l’adresse jeanne.petit@example.fr") {
		t.Errorf("Jeanne's own page:\n%.3000s", p.body)
	}
	tutelle := tutelleOf(t, app, c)
	for _, e := range ofType(chainOf(t, app, c.jeanne.ID), mandates.EventNoticeChannelConfirmed) {
		if e.ActorID != c.marie.ID || e.RepresentationID != tutelle.ID {
			t.Errorf("entry: %+v", e)
		}
	}
	if ls := letterNotices(t, app, c.jeanne.ID, mandates.EventNoticeChannelConfirmed); len(ls) != 1 || ls[0].Channel != notices.Paper ||
		ls[0].RecipientID != c.jeanne.ID {
		t.Fatalf("notices: %+v", ls)
	}
}

// TestLettersRefusals: who may not choose learns nothing (404), what
// cannot be an address or a number is refused next to the field, a code
// that failed to go says so and changes nothing, an old code and too many
// wrong codes are refused.
func TestLettersRefusals(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	jeannes := "/espace/pour/" + c.jeanne.ID + "/courriers"
	activeMandate(t, app, c, c.ahmed, "papiers", "social")
	t.Run("nobody but the person and the holder of their measure of representation", func(t *testing.T) {
		for _, who := range []struct {
			name string
			cl   *http.Client
			path string
		}{
			{"Karim, a stranger to Jeanne", signedIn(t, app, c.karim), jeannes},
			{"the operator", signedIn(t, app, c.operator), jeannes},
			{"the aidant of Ahmed's mandate", signedIn(t, app, c.aidant, "pwd", "otp"), "/espace/pour/" + c.ahmed.ID + "/courriers"},
			{"Jeanne through the path for someone else", signedIn(t, app, c.jeanne), jeannes},
			{"an id that is not one", signedIn(t, app, c.marie), "/espace/pour/nope/courriers"},
		} {
			for _, step := range []struct {
				method, path string
				form         url.Values
			}{
				{http.MethodGet, who.path, nil},
				{http.MethodGet, who.path + "/email", nil},
				{http.MethodPost, who.path + "/email", url.Values{"email": {"x@example.fr"}}},
				{http.MethodGet, who.path + "/code", nil},
				{http.MethodPost, who.path + "/code", url.Values{"code": {"123456"}}},
				{http.MethodPost, who.path + "/papier", url.Values{"quand": {"toujours"}}},
			} {
				if a := spaceDo(t, app, who.cl, step.method, step.path, step.form); a.status != http.StatusNotFound {
					t.Errorf("%s, %s %s: %d, want 404", who.name, step.method, step.path, a.status)
				}
			}
		}
		if app.sent.count() != 0 {
			t.Error("a code was sent")
		}
		if es := ofType(chainOf(t, app, c.jeanne.ID), mandates.EventNoticePaperChosen); len(es) != 0 {
			t.Errorf("entries: %+v", es)
		}
	})
	t.Run("not signed in: to the login page", func(t *testing.T) {
		a := getPage(t, app, browserClient(t), "/espace/courriers")
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login?") {
			t.Errorf("%d to %q", a.status, a.location)
		}
	})
	t.Run("a form from another site", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/espace/courriers/papier", strings.NewReader("quand=toujours"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := signedIn(t, app, c.jeanne).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%d, want 403", res.StatusCode)
		}
	})
	jeanne := signedIn(t, app, c.jeanne)
	t.Run("an address that cannot be one", func(t *testing.T) {
		for typed, want := range map[string]string{
			"jeanne@":                    "Cette adresse e-mail n’est pas complète.",
			"":                           "Tapez l’adresse e-mail.",
			"Jeanne <jeanne@exemple.fr>": "Cette adresse e-mail n’est pas complète.",
		} {
			a := postForm(t, app, jeanne, "/espace/courriers/email", url.Values{"email": {typed}})
			if a.status != http.StatusBadRequest || !a.has(want) || !a.has(`aria-describedby="email-hint email-error"`) || !a.has(`<p class="error-text" id="email-error">`) {
				t.Errorf("%q: %d\n%.3000s", typed, a.status, a.body)
			}
		}
		for typed, want := range map[string]string{"06 12": "Ce numéro n’est pas complet.", "+44 7700 900123": "Ce numéro ne peut pas recevoir de SMS."} {
			if a := postForm(t, app, jeanne, "/espace/courriers/sms", url.Values{"sms": {typed}}); a.status != http.StatusBadRequest || !a.has(want) {
				t.Errorf("%q: %d\n%.3000s", typed, a.status, a.body)
			}
		}
		if app.sent.count() != 0 {
			t.Error("a code was sent")
		}
	})
	t.Run("a code that could not be sent", func(t *testing.T) {
		app.sent.setFail(true)
		defer app.sent.setFail(false)
		a := postForm(t, app, jeanne, "/espace/courriers/email", url.Values{"email": {"jeanne@exemple.fr"}})
		if a.status != http.StatusServiceUnavailable || !a.has("Relais n’a pas pu envoyer le code à cette adresse.") || !a.has("Rien n’a changé.") {
			t.Fatalf("%d\n%.3000s", a.status, a.body)
		}
		if code := getPage(t, app, jeanne, "/espace/courriers/code"); code.status != http.StatusSeeOther {
			t.Errorf("a code waits after a failed send: %d", code.status)
		}
		if es := ofType(chainOf(t, app, c.jeanne.ID), mandates.EventNoticeChannelRequested); len(es) != 0 {
			t.Errorf("a failed send was journaled: %+v", es)
		}
	})
	t.Run("a code too old", func(t *testing.T) {
		if a := postForm(t, app, jeanne, "/espace/courriers/email", url.Values{"email": {"jeanne@exemple.fr"}}); a.status != http.StatusSeeOther {
			t.Fatalf("%d\n%.2000s", a.status, a.body)
		}
		_, code := app.sent.code(t)
		app.sent.later.Store(int64(16 * time.Minute))
		defer app.sent.later.Store(0)
		a := postForm(t, app, jeanne, "/espace/courriers/code", url.Values{"code": {code}})
		if a.status != http.StatusBadRequest || !a.has("Ce code ne marche plus. Demandez un nouveau code.") {
			t.Fatalf("%d\n%.3000s", a.status, a.body)
		}
	})
	t.Run("too many wrong codes", func(t *testing.T) {
		if a := postForm(t, app, jeanne, "/espace/courriers/sms", url.Values{"sms": {"07 12 34 56 78"}}); a.status != http.StatusSeeOther {
			t.Fatalf("%d\n%.2000s", a.status, a.body)
		}
		_, code := app.sent.code(t)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		var last answer
		for range 5 {
			last = postForm(t, app, jeanne, "/espace/courriers/code", url.Values{"code": {wrong}})
		}
		if last.status != http.StatusTooManyRequests || !last.has("Le code était faux 5 fois.") {
			t.Fatalf("the fifth wrong code: %d\n%.3000s", last.status, last.body)
		}
		if a := postForm(t, app, jeanne, "/espace/courriers/code", url.Values{"code": {code}}); a.status != http.StatusBadRequest || !a.has("Ce code ne marche plus.") {
			t.Fatalf("the right code after: %d\n%.3000s", a.status, a.body)
		}
		if p := getPage(t, app, jeanne, "/espace/courriers"); !p.has("sur papier, par la poste") {
			t.Errorf("the channel changed:\n%.2000s", p.body)
		}
	})

}

// TestLettersWithoutSenders: a Relais that cannot send email or SMS says
// so and offers paper only; a form sent anyway sends nothing.
func TestLettersWithoutSenders(t *testing.T) {
	app := newOIDCApp(t)
	app.sent.svc.Senders = nil // before the server serves anything
	c := newCast(t, app)
	jeanne := signedIn(t, app, c.jeanne)
	p := getPage(t, app, jeanne, "/espace/courriers")
	if !p.has("Ce Relais ne peut pas envoyer d’e-mail ni de SMS pour l’instant.") || p.has(`href="/espace/courriers/email"`) {
		t.Errorf("the page:\n%.3000s", p.body)
	}
	if a := getPage(t, app, jeanne, "/espace/courriers/sms"); a.status != http.StatusServiceUnavailable || !a.has("Ce Relais ne peut pas envoyer de SMS") {
		t.Errorf("the number's form: %d\n%.2000s", a.status, a.body)
	}
	if a := postForm(t, app, jeanne, "/espace/courriers/sms", url.Values{"sms": {"06 12 34 56 78"}}); a.status != http.StatusServiceUnavailable ||
		!a.has("Les courriers restent sur papier.") {
		t.Errorf("a number sent anyway: %d\n%.2000s", a.status, a.body)
	}
	if app.sent.count() != 0 {
		t.Error("a code was sent")
	}
}

// TestLettersAFailedSendLogsNoAddress: the sender's error names the
// address (as an SMTP server's does); the log says the channel, whose
// page it was and a code, never the address or the number.
func TestLettersAFailedSendLogsNoAddress(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	jeanne := signedIn(t, app, c.jeanne)
	app.sent.setFail(true)
	defer app.sent.setFail(false)
	for _, f := range []struct{ ch, typed, secret string }{
		{"email", "jeanne.secrete@exemple.fr", "jeanne.secrete"},
		{"sms", "06 98 76 54 32", "698765432"},
	} {
		a := postForm(t, app, jeanne, "/espace/courriers/"+f.ch, url.Values{f.ch: {f.typed}})
		if a.status != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d\n%.2000s", f.ch, a.status, a.body)
		}
		logs := app.logs.String()
		if strings.Contains(logs, f.secret) {
			t.Errorf("the log holds the %s: %s", f.ch, logs)
		}
		if !strings.Contains(logs, `"channel":"`+f.ch+`"`) || !strings.Contains(logs, `"person_id":"`+c.jeanne.ID+`"`) ||
			!strings.Contains(logs, `"code":"`) {
			t.Errorf("the log does not say the channel, the person and a code: %s", logs)
		}
	}
}
