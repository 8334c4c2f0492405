package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/printing"
	noticewords "github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/ui"
)

// noticesOf is the operators' view of notices as relais serve wires it:
// the desk over the store, asking the service's rule, journaling in the
// app's journal, and the print run's check of the letters. The app's
// service and journal are made before its pages.
func noticesOf(t *testing.T, st *sqlite.Store, app *oidcApp) *ui.Notices {
	t.Helper()
	w, err := noticewords.New(st, noticewords.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43"})
	if err != nil {
		t.Fatal(err)
	}
	check := printing.Checker{Writer: w}
	return &ui.Notices{
		Desk: &notices.Desk{Store: st, Access: app.service, Events: app.journal},
		Letters: func(ctx context.Context, n notices.Notice) (string, error) {
			p, err := check.Problem(ctx, n)
			return string(p), err
		},
	}
}

// noticesCast is the cast with four notices about Jeanne: her letter
// about her tutelle waiting to be printed (she has no postal address), an
// email to Marie sent, a letter to Marie printed, and an email to Jeanne
// refused.
type noticesCast struct {
	*cast
	waiting, sent, printed, refused notices.Notice
}

func newNoticesCast(t *testing.T, app *oidcApp) *noticesCast {
	t.Helper()
	c := &noticesCast{cast: newCast(t, app)}
	at := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Millisecond)
	mk := func(to mandates.Person, ch notices.Channel, role string, minutes int) notices.Notice {
		t := at.Add(time.Duration(minutes) * time.Minute)
		return notices.Notice{ID: mandates.NewID(t), PersonID: c.jeanne.ID, RecipientID: to.ID, RecipientKind: notices.ToPerson,
			Kind: mandates.EventSuspended, Channel: ch, Lang: "fr", Data: map[string]string{"recipient_role": role}, Status: notices.Pending,
			NextAttemptAt: t, CreatedAt: t}
	}
	c.sent = mk(c.marie, notices.Email, "representative", 1)
	c.sent.Status, c.sent.SentAt = notices.Sent, at.Add(2*time.Minute)
	c.printed = mk(c.marie, notices.Paper, "representative", 3)
	c.printed.Status, c.printed.HandedOverAt = notices.HandedOver, at.Add(time.Hour)
	c.refused = mk(c.jeanne, notices.Email, "person", 5)
	c.refused.Status, c.refused.LastError = notices.Failed, "refused_550"
	// The letter of the tutelle registered, which the words can write.
	views, err := app.service.SearchMeasures(t.Context(), mandates.Actor{PersonID: c.operator.ID}, "Petit")
	if err != nil || len(views) != 1 {
		t.Fatalf("search: %v, %v", views, err)
	}
	c.waiting = mk(c.jeanne, notices.Paper, "person", 7)
	c.waiting.Kind = mandates.EventCreated
	c.waiting.Data["representation_id"], c.waiting.Data["representation_kind"] = views[0].ID, string(mandates.Tutelle)
	for _, n := range []notices.Notice{c.sent, c.printed, c.refused, c.waiting} {
		if err := storeNotice(t, app, n); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// storeNotice writes n pending, then moves it to its status as the
// dispatcher and the print run would.
func storeNotice(t *testing.T, app *oidcApp, n notices.Notice) error {
	ctx := t.Context()
	want := n
	n.Status, n.SentAt, n.HandedOverAt, n.LastError = notices.Pending, time.Time{}, time.Time{}, ""
	if err := app.store.CreateNotice(ctx, n); err != nil {
		return err
	}
	switch want.Status {
	case notices.HandedOver:
		return app.store.MarkHandedOver(ctx, []string{n.ID}, want.HandedOverAt)
	case notices.Sent, notices.Failed:
		held, err := app.store.Claim(ctx, "test", []notices.Channel{n.Channel}, time.Now(), time.Minute, 10)
		if err != nil || len(held) != 1 {
			t.Fatalf("claim: %v, %v", held, err)
		}
		_, err = app.store.Record(ctx, held[0], func(m *notices.Notice) error {
			m.Status, m.SentAt, m.LastError = want.Status, want.SentAt, want.LastError
			return nil
		})
		return err
	}
	return nil
}

func noticesPath(personID string) string { return "/operateur/personnes/" + personID + "/courriers" }

func TestOperatorSeesAPersonsNotices(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	// A letter to an organisation, printed.
	toOrg := c.printed
	toOrg.ID, toOrg.RecipientID, toOrg.RecipientKind = mandates.NewID(time.Now()), c.org.ID, notices.ToOrganisation
	if err := storeNotice(t, app, toOrg); err != nil {
		t.Fatal(err)
	}
	op := boAs(t, app, &c.operator)
	code, page, _ := op.do(http.MethodGet, noticesPath(c.jeanne.ID), nil)
	if code != http.StatusOK {
		t.Fatalf("page: %d", code)
	}
	for _, want := range []string{
		"Les courriers au sujet de Jeanne Petit",
		"ne peut pas être envoyé : adresse postale manquante ou incomplète",
		"1 courrier(s) attendent une adresse postale complète",
		"Marie Martin (qui la représente)", "Jeanne Petit (la personne elle-même)", "France Services Lyon 8e (qui la représente)",
		"en attente d’impression", "pas envoyé : remplacé par une lettre", "envoyé le ", "imprimé et remis à la poste le ",
		"le service d’envoi a refusé le courrier (code 550)",
		"Une mesure ou un mandat mis en pause",
		noticewords.Reference(c.waiting.ID),
		`action="` + noticesPath(c.jeanne.ID) + "/" + c.sent.ID + `/renvoyer"`,
		`action="` + noticesPath(c.jeanne.ID) + "/" + c.printed.ID + `/renvoyer"`,
		`action="` + noticesPath(c.jeanne.ID) + "/" + c.refused.ID + `/renvoyer"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	if strings.Contains(page, c.waiting.ID+"/renvoyer") {
		t.Error("a letter still waiting can be resent")
	}
	// The measure page links to it.
	views, err := app.service.SearchMeasures(t.Context(), mandates.Actor{PersonID: c.operator.ID}, "Petit")
	if err != nil || len(views) == 0 {
		t.Fatalf("search: %v, %v", views, err)
	}
	if _, measure, _ := op.do(http.MethodGet, "/operateur/mesures/"+views[0].ID, nil); !strings.Contains(measure, `href="`+noticesPath(c.jeanne.ID)+`"`) {
		t.Error("the measure page does not link to the person's notices")
	}
	// In English.
	op.do(http.MethodGet, "/lang/en", nil)
	if _, page, _ = op.do(http.MethodGet, noticesPath(c.jeanne.ID), nil); !strings.Contains(page, "cannot be sent: postal address missing or incomplete") {
		t.Error("the English page does not say the letter cannot be sent")
	}
}

func TestOperatorResendsANotice(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	op := boAs(t, app, &c.operator)
	code, _, h := op.do(http.MethodPost, noticesPath(c.jeanne.ID)+"/"+c.sent.ID+"/renvoyer", url.Values{})
	if code != http.StatusSeeOther || h.Get("Location") != noticesPath(c.jeanne.ID)+"?fait=renvoye" {
		t.Fatalf("resend: %d %s", code, h.Get("Location"))
	}
	list, err := app.store.NoticesOf(t.Context(), c.jeanne.ID, 10)
	if err != nil || len(list) != 5 {
		t.Fatalf("%d notices, %v", len(list), err)
	}
	again := list[0]
	if again.Data["resent_of"] != c.sent.ID || again.RecipientID != c.marie.ID || again.Channel != notices.Paper || again.Status != notices.Pending ||
		again.Kind != c.sent.Kind {
		t.Errorf("the new notice: %+v", again)
	}
	entries := ofType(chainOf(t, app, c.jeanne.ID), mandates.EventNoticeResent)
	if len(entries) != 1 || entries[0].ActorID != c.operator.ID {
		t.Errorf("journal: %+v", entries)
	}
	_, page, _ := op.do(http.MethodGet, noticesPath(c.jeanne.ID)+"?fait=renvoye", nil)
	if !strings.Contains(page, "Le courrier est renvoyé.") || !strings.Contains(page, noticewords.Reference(c.sent.ID)+"</dd>") {
		t.Error("the page does not say the notice was resent, or which one the new one repeats")
	}
}

func TestNoticesRefusals(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	op, marie, anon := boAs(t, app, &c.operator), boAs(t, app, &c.marie), boAs(t, app, nil)
	resend := func(person, id string) string { return noticesPath(person) + "/" + id + "/renvoyer" }
	for _, tc := range []struct {
		name   string
		u      *boUser
		method string
		path   string
		want   int
	}{
		{"the page, to Jeanne's tutor", marie, http.MethodGet, noticesPath(c.jeanne.ID), http.StatusNotFound},
		{"the page, signed out", anon, http.MethodGet, noticesPath(c.jeanne.ID), http.StatusSeeOther},
		{"the page of an unknown person", op, http.MethodGet, noticesPath(mandates.NewID(time.Now())), http.StatusNotFound},
		{"the page of an id that is not one", op, http.MethodGet, noticesPath("x"), http.StatusNotFound},
		{"a resend by Jeanne's tutor", marie, http.MethodPost, resend(c.jeanne.ID, c.sent.ID), http.StatusNotFound},
		{"a resend signed out", anon, http.MethodPost, resend(c.jeanne.ID, c.sent.ID), http.StatusSeeOther},
		{"a resend for an unknown person", op, http.MethodPost, resend(mandates.NewID(time.Now()), c.sent.ID), http.StatusNotFound},
		{"a resend of Jeanne's notice under another person", op, http.MethodPost, resend(c.marie.ID, c.sent.ID), http.StatusNotFound},
		{"a resend of an unknown notice", op, http.MethodPost, resend(c.jeanne.ID, mandates.NewID(time.Now())), http.StatusNotFound},
		{"a resend of a letter still waiting", op, http.MethodPost, resend(c.jeanne.ID, c.waiting.ID), http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.t = t
			var body any
			if tc.method == http.MethodPost {
				body = url.Values{}
			}
			code, page, _ := tc.u.do(tc.method, tc.path, body)
			if code != tc.want {
				t.Errorf("%d, want %d", code, tc.want)
			}
			if tc.want == http.StatusConflict && !strings.Contains(page, "Ce courrier attend encore d’être envoyé : il n’y a rien à renvoyer pour l’instant.") {
				t.Error("the page does not say why")
			}
			if list, _ := app.store.NoticesOf(t.Context(), c.jeanne.ID, 10); len(list) != 4 {
				t.Errorf("%d notices about Jeanne, want the 4 there were", len(list))
			}
		})
	}
	if es := ofType(chainOf(t, app, c.jeanne.ID), mandates.EventNoticeResent); len(es) != 0 {
		t.Errorf("refused resends were journaled: %+v", es)
	}
}

func TestNoticesAPI(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	op, marie, anon := boAs(t, app, &c.operator), boAs(t, app, &c.marie), boAs(t, app, nil)
	path := "/api/v1/persons/" + c.jeanne.ID + "/notices"
	code, out := op.api(http.MethodGet, path, nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d %v", code, out)
	}
	list, _ := out["notices"].([]any)
	if len(list) != 4 {
		t.Fatalf("%d notices", len(list))
	}
	first, _ := list[0].(map[string]any)
	if first["id"] != c.waiting.ID || first["status"] != "pending" || first["channel"] != "paper" || first["problem"] != "address" ||
		first["reference"] != noticewords.Reference(c.waiting.ID) || first["kind"] != "representation.created" {
		t.Errorf("the waiting letter: %v", first)
	}
	for _, tc := range []struct {
		name   string
		u      *boUser
		method string
		path   string
		status int
		code   string
	}{
		{"the list, to Jeanne's tutor", marie, http.MethodGet, path, http.StatusForbidden, "access_denied"},
		{"the list, signed out", anon, http.MethodGet, path, http.StatusUnauthorized, "login_required"},
		{"the list of an unknown person", op, http.MethodGet, "/api/v1/persons/" + mandates.NewID(time.Now()) + "/notices", http.StatusNotFound, "not_found"},
		{"a resend by Jeanne's tutor", marie, http.MethodPost, path + "/" + c.sent.ID + "/resend", http.StatusForbidden, "access_denied"},
		{"a resend of a letter still waiting", op, http.MethodPost, path + "/" + c.waiting.ID + "/resend", http.StatusConflict, "still_pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.t = t
			if code, out := tc.u.api(tc.method, tc.path, nil); code != tc.status || out["error"] != tc.code {
				t.Errorf("%d %v, want %d %s", code, out, tc.status, tc.code)
			}
		})
	}
	op.t = t
	code, out = op.api(http.MethodPost, path+"/"+c.refused.ID+"/resend", nil)
	if code != http.StatusCreated || out["resent_of"] != c.refused.ID || out["status"] != "pending" || out["channel"] != "paper" {
		t.Errorf("resend: %d %v", code, out)
	}
}
