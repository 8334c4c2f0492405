package main

import (
	"errors"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// TestConsentCodesGoBySMSSayingWhoAsksWhat: with an SMS gateway
// configured, serve's service texts a remote-consent code that says who
// asks for what and for how long; the code texted gives the consent. A
// number that cannot receive a text is refused as « no way to send »,
// which the aidant's page explains.
func TestConsentCodesGoBySMSSayingWhoAsksWhat(t *testing.T) {
	ctx := t.Context()
	gw := &gatewayHits{}
	gateway := httptest.NewServer(gw)
	defer gateway.Close()
	c := serveConfig(t, []string{"--notice-from", "Relais", "--notice-address", "1 rue Kervégan; 44000 Nantes", "--notice-phone", "02 40 00 00 00",
		"--sms-url", gateway.URL}, envOf("RELAIS_SMS_TOKEN", "gw-token"))
	w := newNoticeWorld(t)
	writer, err := noticeWriter(w.st, &c.Notices, noticeLookup(w.st, nil), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	codes := consentCodes(c, writer, nil)
	if codes == nil {
		t.Fatal("no consent codes with an SMS gateway configured")
	}
	svc := mandates.NewService(w.st, noticeSink(w.st, w.j, noticeLookup(w.st, nil)), mandates.ServiceConfig{Codes: codes})
	desk := mandates.Organisation{ID: mandates.NewID(w.now), Name: "France Services Nantes", Kind: mandates.OrgFranceServices, CreatedBy: w.operator}
	if err := w.st.CreateOrganisation(ctx, desk); err != nil {
		t.Fatal(err)
	}
	if err := w.st.SaveMembership(ctx, mandates.Membership{OrganisationID: desk.ID, PersonID: w.marie, Role: mandates.MemberAidant,
		Active: true, HabilitatedBy: w.operator, HabilitatedAt: w.now}); err != nil {
		t.Fatal(err)
	}
	aidant := mandates.Actor{PersonID: w.marie, SecondFactor: true}
	r, err := svc.StartMandate(ctx, aidant, mandates.MandateInput{OrganisationID: desk.ID, PersonID: w.jeanne, Areas: []mandates.Area{"social"}, Duration: mandates.SixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SendConsentCode(ctx, aidant, r.ID); err != nil {
		t.Fatal(err)
	}
	gw.mu.Lock()
	if len(gw.body) != 1 {
		t.Fatalf("the gateway got %d texts, want 1", len(gw.body))
	}
	text, _ := gw.body[0]["text"].(string)
	to := gw.body[0]["to"]
	gw.mu.Unlock()
	m := regexp.MustCompile(`^France Services Nantes demande un mandat pour vos démarches : social, 6 mois\. Code : ([0-9]{6})\. Donnez-le seulement si vous êtes d'accord\.$`).FindStringSubmatch(text)
	if m == nil || to != "+33612345678" {
		t.Fatalf("the text to %v says %q", to, text)
	}
	if got, err := svc.CheckConsentCode(ctx, aidant, r.ID, m[1]); err != nil || got.Status != mandates.StatusActive {
		t.Errorf("the code texted gives %s, %v; want the mandate in force", got.Status, err)
	}

	landline := mandates.Person{ID: mandates.NewID(w.now), GivenNames: "Paul", FamilyName: "Morel", BirthDate: mandates.Date(1950, 1, 2), Phone: "02 40 00 00 01"}
	if err := w.st.CreatePerson(ctx, landline); err != nil {
		t.Fatal(err)
	}
	r, err = svc.StartMandate(ctx, aidant, mandates.MandateInput{OrganisationID: desk.ID, PersonID: landline.ID, Areas: []mandates.Area{"social"}, Duration: mandates.OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SendConsentCode(ctx, aidant, r.ID); !errors.Is(err, mandates.ErrNoSender) {
		t.Errorf("a code to a landline = %v, want ErrNoSender", err)
	}
}
