package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// cosignRequests opens, through the service, a request in each state the
// pages show: Paul's own act waiting for his curator's delegate Lucie;
// Lucie's act waiting for Paul; one Lucie approved, one she refused, one
// used.
func cosignRequests(t *testing.T, w *accessWorld) (pendingForLucie, pendingForPaul, approved, refused, used string) {
	t.Helper()
	ctx := t.Context()
	svc := w.app.service
	open := func(actor mandates.Person, what string) string {
		c, err := svc.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.paul.ID, ActorID: actor.ID,
			Action: mandates.Dispose, Area: "argent", Description: what})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	answer := func(id string, approve bool) {
		// Lucie agrees for her service: with her second factor.
		if _, err := svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.lucie.ID, SecondFactor: true}, id, approve); err != nil {
			t.Fatal(err)
		}
	}
	pendingForLucie = open(w.paul, "Vendre la voiture Clio pour 3 000 euros")
	pendingForPaul = open(w.lucie, "Résilier le contrat d’assurance habitation")
	approved = open(w.paul, "Signer un prêt de 2 000 euros")
	answer(approved, true)
	refused = open(w.paul, "Donner 500 euros à un voisin")
	answer(refused, false)
	used = open(w.paul, "Fermer le livret A")
	answer(used, true)
	if _, err := svc.Evaluate(ctx, mandates.Question{ActorID: w.paul.ID, PersonID: w.paul.ID, Action: mandates.Dispose, Area: "argent"},
		"caf", used); err != nil {
		t.Fatal(err)
	}
	return
}

// TestCosignPagesAccessible: every state of the co-signature pages passes
// axe, in French and English, at 320 and 1280 px; someone who is not the
// party who must agree gets the 404 page.
func TestCosignPagesAccessible(t *testing.T) {
	w := newAccessWorld(t)
	pendingForLucie, pendingForPaul, approved, refused, used := cosignRequests(t, w)
	h := browsertest.Start(t, w.app.handler)
	lucie, paul, karim := sessionFor(t, w.app, w.lucie, "pwd", "otp"), sessionFor(t, w.app, w.paul), sessionFor(t, w.app, w.karim)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "cosign-list", Path: "/espace/accords", Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "cosign-list-person", Path: "/espace/accords", Lang: lang, Cookies: paul},
			browsertest.Page{Name: "cosign-list-empty", Path: "/espace/accords", Lang: lang, Cookies: karim},
			browsertest.Page{Name: "cosign-request", Path: "/espace/accords/" + pendingForLucie, Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "cosign-request-person", Path: "/espace/accords/" + pendingForPaul, Lang: lang, Cookies: paul},
			browsertest.Page{Name: "cosign-approved", Path: "/espace/accords/" + approved, Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "cosign-refused", Path: "/espace/accords/" + refused, Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "cosign-used", Path: "/espace/accords/" + used, Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "cosign-not-yours", Path: "/espace/accords/" + pendingForLucie, Lang: lang, Cookies: karim,
				WantStatus: http.StatusNotFound},
		)
	}
	h.Check(t, pages...)
}

// TestCosignApprovedWithKeyboard: Lucie opens her requests, reads the one
// waiting, and agrees, with the keyboard alone, at 320 px.
func TestCosignApprovedWithKeyboard(t *testing.T) {
	w := newAccessWorld(t)
	pending, _, _, _, _ := cosignRequests(t, w)
	h := browsertest.Start(t, w.app.handler)
	tab := h.Tab(t, 320)
	cookies := sessionFor(t, w.app, w.lucie, "pwd", "otp")
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	waitText := func(text string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			if err == nil && strings.Contains(body, text) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page never said %q:\n%.600s", text, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	run(chromedp.Navigate(h.URL("/espace/accords")))
	waitText("Paul Durand demande votre accord")
	tabTo(t, ctx, `a[href="/espace/accords/`+pending+`"]`)
	run(chromedp.KeyEvent(kb.Enter))
	waitText("Vendre la voiture Clio pour 3 000 euros")
	tabTo(t, ctx, `button[value="accept"]`)
	run(chromedp.KeyEvent(kb.Enter))
	waitText("Vous avez accepté")
	c, err := w.app.service.CosignatureOf(t.Context(), "caf", pending)
	if err != nil || c.Status != mandates.CosignApproved || c.DecidedBy != w.lucie.ID {
		t.Fatalf("after the keyboard approval: %+v, %v", c, err)
	}
}
