package mandates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A site reports an act it completed for a person (issue 17): the entry
// the person reads in their journal, « Marie Martin a envoyé la
// déclaration », rather than the checks that came before it. The policy
// is asked again, as for an evaluation: a site cannot journal an act the
// actor may not do.

const (
	// MaxActLabel bounds the site's words for an act, in bytes: one short
	// sentence.
	MaxActLabel = 200
	// MaxActReference bounds the site's reference for an act, in bytes.
	MaxActReference = 100
)

// ActReport is an act a site completed: the question it answers (who did
// what for whom, in which area), the site, its words and its reference,
// and the co-signature that allowed it when one did.
type ActReport struct {
	Question
	ClientID      string
	Label         string
	Reference     string
	CosignatureID string
}

// Check reports the first field of the site's words that breaks a rule:
// plain text of one line, bounded.
func (a ActReport) Check() error {
	switch {
	case !a.Action.Valid():
		return invalid("action", RuleUnknown)
	case !a.Area.Valid():
		return invalid("procedure_area", RuleUnknown)
	}
	for _, f := range []struct {
		name, value string
		limit       int
		required    bool
	}{{"label", a.Label, MaxActLabel, true}, {"reference", a.Reference, MaxActReference, false}} {
		switch {
		case strings.TrimSpace(f.value) == "" && f.required:
			return invalid(f.name, RuleRequired)
		case len(f.value) > f.limit:
			return invalidLimit(f.name, RuleTooLong, f.limit)
		case !utf8.ValidString(f.value) || strings.ContainsFunc(f.value, hiddenOrQuoting):
			return invalid(f.name, RuleFormat)
		}
	}
	if a.CosignatureID != "" && !IsID(a.CosignatureID) {
		return invalid("cosignature_id", RuleFormat)
	}
	return nil
}

// hiddenOrQuoting is a character a site's words may not hold: a control,
// a format character (bidi overrides and isolates, zero-width marks, which
// can reorder or hide what the person reads), a line or paragraph
// separator, or a quotation mark, since the journal quotes the site's
// words inside Relais's own sentence and a quote could close it.
func hiddenOrQuoting(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || strings.ContainsRune("«»\"“”„‹›", r)
}

// ReportAct journals a's act in the person's journal when the policy
// allows the actor to do it now, and answers the decision. An act the
// policy answers cosign for is allowed when a.CosignatureID names an
// agreement to exactly this act that the site used in the last
// CosignatureTTL and that backs no other act (reportWithAgreement). A refusal is journaled as an evaluation (detail report:
// act) and stores no act.
func (s *Service) ReportAct(ctx context.Context, a ActReport) (Answer, error) {
	if err := a.Check(); err != nil {
		return Answer{}, err
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	ans, err := s.Decide(ctx, a.Question)
	if err != nil {
		return Answer{}, err
	}
	if ans.Decision == Cosign && a.CosignatureID != "" {
		allowed, why, err := s.reportWithAgreement(ctx, a, ans)
		switch {
		case err != nil:
			return Answer{}, err
		case allowed.Decision == Allowed:
			return allowed, nil
		case why != (Reason{}):
			ans.Reason = why
		}
	}
	if ans.Decision != Allowed {
		e := evaluationEvent(a.Question, a.ClientID, ans, "")
		e.Detail["report"] = "act"
		if err := s.record(ctx, e); err != nil {
			return Answer{}, err
		}
		return ans, nil
	}
	if err := s.record(ctx, actEvent(a, ans)); err != nil {
		return Answer{}, err
	}
	return ans, nil
}

// reportWithAgreement journals a's act when a.CosignatureID names the
// agreement to exactly this act that the site used in the last
// CosignatureTTL and that backs no act yet, and marks it as backing this
// one, in one transaction: an agreement backs one act, and of concurrent
// reports exactly one is allowed. Otherwise it answers why the agreement
// cannot serve and journals nothing; an id no longer stored, unknown or
// another site's is answered as an expired request, as Evaluate does.
func (s *Service) reportWithAgreement(ctx context.Context, a ActReport, ans Answer) (Answer, Reason, error) {
	var why Reason
	var allowed Answer
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		why = Reason{}
		c, err := s.store.UpdateCosignature(ctx, a.CosignatureID, func(c *Cosignature) error {
			switch {
			case c.ClientID != a.ClientID:
				why = Reason{Code: ReasonCosignExpired}
			case !c.Matches(a.Question, a.ClientID):
				why = Reason{Code: ReasonCosignOtherAct}
			case c.Status != CosignUsed || a.At.Sub(c.UsedAt) > CosignatureTTL:
				why = Reason{Code: cosignReasons[c.EffectiveStatus(a.At)]}
				if c.Status == CosignUsed {
					why = Reason{Code: ReasonCosignExpired}
				}
			case !c.ActReportedAt.IsZero():
				why = Reason{Code: ReasonCosignUsed}
			default:
				c.ActReportedAt = a.At
				return nil
			}
			return errUnusable
		})
		if err != nil {
			return err
		}
		allowed = ans
		allowed.Decision, allowed.Reason = Allowed, Reason{Code: ReasonCosignGiven, Party: c.Party}
		return s.emit(ctx, actEvent(a, allowed))
	})
	switch {
	case errors.Is(err, ErrNotFound):
		// As Evaluate answers it: deleted after it expired unanswered,
		// or never this site's.
		return Answer{}, Reason{Code: ReasonCosignExpired}, nil
	case errors.Is(err, errUnusable):
		return Answer{}, why, nil
	case errors.Is(err, ErrConflict):
		// A concurrent report used it first.
		return Answer{}, Reason{Code: ReasonCosignUsed}, nil
	case err != nil:
		return Answer{}, Reason{}, fmt.Errorf("report an act with an agreement: %w", err)
	}
	return allowed, Reason{}, nil
}

// actEvent is the journal's entry for a reported act: the evaluation's
// entry with the act's words in place of the decision.
func actEvent(a ActReport, ans Answer) Event {
	e := evaluationEvent(a.Question, a.ClientID, ans, a.CosignatureID)
	e.Type = EventActReported
	delete(e.Detail, "decision")
	e.Detail["label"] = strings.TrimSpace(a.Label)
	if ref := strings.TrimSpace(a.Reference); ref != "" {
		e.Detail["reference"] = ref
	}
	return e
}
