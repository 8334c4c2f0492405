package mandates

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestASiteReportsAnActTheActorMayDo(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	stranger := w.person("Odile", "Petit")
	tests := []struct {
		name   string
		report ActReport
		want   Decision
		event  EventType
	}{
		{"the tutor's refund is journaled as an act", ActReport{Question: Question{ActorID: tutor, PersonID: w.jane, Action: Dispose, Area: "argent"},
			ClientID: "caf", Label: " Remboursement demandé ", Reference: "2026-1187"}, Allowed, EventActReported},
		{"someone with no representation is refused and no act is stored", ActReport{Question: Question{ActorID: stranger, PersonID: w.jane, Action: Manage, Area: "social"},
			ClientID: "caf", Label: "Déclaration envoyée"}, No, EventAccessEvaluated},
		{"a personal act is refused to the tutor", ActReport{Question: Question{ActorID: tutor, PersonID: w.jane, Action: Personal, Area: "famille"},
			ClientID: "caf", Label: "Mariage"}, No, EventAccessEvaluated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.st.events)
			ans, err := w.svc.ReportAct(w.ctx, tt.report)
			if err != nil || ans.Decision != tt.want {
				t.Fatalf("ReportAct = %s, %v; want %s", ans.Decision, err, tt.want)
			}
			if len(w.st.events) != before+1 {
				t.Fatalf("%d events journaled, want 1", len(w.st.events)-before)
			}
			e := w.st.events[len(w.st.events)-1]
			if e.Type != tt.event || e.ActorID != tt.report.ActorID || e.PersonID != w.jane || e.ClientID != "caf" {
				t.Fatalf("event %+v, want %s by the actor for Jeanne at the site", e, tt.event)
			}
			if tt.want == Allowed {
				if e.RepresentationID != m.ID || e.Detail["label"] != "Remboursement demandé" || e.Detail["reference"] != "2026-1187" || e.Detail["action"] != "dispose" {
					t.Errorf("act %+v, want the measure, the trimmed label and the reference", e)
				}
			} else if e.Detail["report"] != "act" || e.Detail["decision"] != "refused" {
				t.Errorf("refusal %+v, want an evaluation refused, marked as a report", e)
			}
		})
	}
}

func TestAnActReportWithBadWordsIsRefusedBeforeAnything(t *testing.T) {
	good := ActReport{Question: Question{ActorID: "a", PersonID: "b", Action: Manage, Area: "social"}, ClientID: "caf", Label: "Envoyé"}
	tests := []struct {
		name  string
		edit  func(a *ActReport)
		field string
		rule  Rule
	}{
		{"no label", func(a *ActReport) { a.Label = "  " }, "label", RuleRequired},
		{"a label too long", func(a *ActReport) { a.Label = strings.Repeat("é", MaxActLabel) }, "label", RuleTooLong},
		{"a label that is not UTF-8", func(a *ActReport) { a.Label = "\xff" }, "label", RuleFormat},
		{"a label on two lines", func(a *ActReport) { a.Label = "un\ndeux" }, "label", RuleFormat},
		{"a reference too long", func(a *ActReport) { a.Reference = strings.Repeat("x", MaxActReference+1) }, "reference", RuleTooLong},
		{"an unknown area", func(a *ActReport) { a.Area = "lune" }, "procedure_area", RuleUnknown},
		{"an unknown action", func(a *ActReport) { a.Action = "fly" }, "action", RuleUnknown},
		{"a co-signature that is not an id", func(a *ActReport) { a.CosignatureID = "x" }, "cosignature_id", RuleFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			a := good
			tt.edit(&a)
			before := len(w.st.events)
			_, err := w.svc.ReportAct(w.ctx, a)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != tt.field || inv.Rule != tt.rule {
				t.Fatalf("ReportAct = %v, want %s %s", err, tt.field, tt.rule)
			}
			if len(w.st.events) != before {
				t.Error("a bad report was journaled")
			}
		})
	}
}

func TestAnActAllowedByAnAgreementIsJournaledOnceTheAgreementIsUsed(t *testing.T) {
	w := newCosignWorld(t)
	c := w.request(w.curator.PersonID)
	if _, err := w.svc.AnswerCosignature(w.ctx, Actor{PersonID: w.jane}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	q := Question{ActorID: w.curator.PersonID, PersonID: w.jane, Action: Dispose, Area: "argent"}
	report := ActReport{Question: q, ClientID: "caf", Label: "Voiture vendue", CosignatureID: c.ID}
	if ans, err := w.svc.ReportAct(w.ctx, report); err != nil || ans.Decision != Cosign {
		t.Fatalf("before the evaluation used the agreement: %s, %v; want cosign", ans.Decision, err)
	}
	if ans, err := w.svc.Evaluate(w.ctx, q, "caf", c.ID); err != nil || ans.Decision != Allowed {
		t.Fatalf("Evaluate = %s, %v", ans.Decision, err)
	}
	if ans, err := w.svc.ReportAct(w.ctx, report); err != nil || ans.Decision != Allowed {
		t.Fatalf("after: %s, %v; want allowed", ans.Decision, err)
	}
	if e := w.st.events[len(w.st.events)-1]; e.Type != EventActReported || e.Detail["cosignature_id"] != c.ID {
		t.Errorf("event %+v, want the act with its agreement", e)
	}
	other := report
	other.ClientID = "impots"
	if ans, err := w.svc.ReportAct(w.ctx, other); err != nil || ans.Decision != Cosign {
		t.Errorf("another site's report with this agreement: %s, %v; want cosign", ans.Decision, err)
	}
}

func TestAnAgreementBacksOneReportedActOnly(t *testing.T) {
	w := newCosignWorld(t)
	c := w.request(w.curator.PersonID)
	if _, err := w.svc.AnswerCosignature(w.ctx, Actor{PersonID: w.jane}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	q := Question{ActorID: w.curator.PersonID, PersonID: w.jane, Action: Dispose, Area: "argent"}
	if ans, err := w.svc.Evaluate(w.ctx, q, "caf", c.ID); err != nil || ans.Decision != Allowed {
		t.Fatalf("Evaluate = %s, %v", ans.Decision, err)
	}
	report := ActReport{Question: q, ClientID: "caf", Label: "Voiture vendue", CosignatureID: c.ID}
	if ans, err := w.svc.ReportAct(w.ctx, report); err != nil || ans.Decision != Allowed {
		t.Fatalf("first act: %s, %v; want allowed", ans.Decision, err)
	}
	acts := func() (n int) {
		for _, e := range w.st.events {
			if e.Type == EventActReported {
				n++
			}
		}
		return n
	}
	second := report
	second.Label = "Deuxième voiture vendue"
	ans, err := w.svc.ReportAct(w.ctx, second)
	if err != nil || ans.Decision != Cosign || ans.Reason.Code != ReasonCosignUsed {
		t.Errorf("second act with the same agreement: %s (%s), %v; want cosign, the agreement already used", ans.Decision, ans.Reason.Code, err)
	}
	if n := acts(); n != 1 {
		t.Errorf("%d acts journaled, want 1", n)
	}
	stored, err := w.st.Cosignature(w.ctx, c.ID)
	if err != nil || stored.ActReportedAt.IsZero() {
		t.Errorf("stored agreement %+v, %v: want the time of the act it backed", stored, err)
	}
}

// A report naming an id no longer stored (a request the cleanup deleted a
// month after it expired unanswered), one that never was, or another
// site's request is refused as a report naming the expired request was,
// as Evaluate answers them.
func TestAReportNamingARequestNoLongerStoredIsRefusedAsExpired(t *testing.T) {
	for _, tt := range requestsNoLongerUsable {
		t.Run(tt.name, func(t *testing.T) {
			w := newCosignWorld(t)
			c := w.request(w.jane)
			w.advance(CosignaturePendingTTL + time.Second)
			report := ActReport{Question: Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}, ClientID: tt.client,
				Label: "Voiture vendue", CosignatureID: tt.id(w, c)}
			before := len(w.st.events)
			ans, err := w.svc.ReportAct(w.ctx, report)
			if err != nil || ans.Decision != Cosign || ans.Reason.Code != ReasonCosignExpired {
				t.Fatalf("ReportAct = %s (%s), %v; want cosign, %s", ans.Decision, ans.Reason.Code, err, ReasonCosignExpired)
			}
			if evs := w.st.events[before:]; len(evs) != 1 || evs[0].Type != EventAccessEvaluated || evs[0].Detail["report"] != "act" {
				t.Errorf("journaled %+v, want the refusal as an evaluation", evs)
			}
		})
	}
}
