package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// The act report (issue 17): a site tells Relais it completed an act for
// the person, with the actor's access token, as userinfo takes it (Bearer
// or DPoP). The domain asks its policy again, as for an evaluation, and
// journals the act in the person's journal, where it is the entry people
// read; a refusal is journaled as an evaluation and stores no act.

const (
	actsPath = "/access/v1/acts"
	// maxActBody bounds a report: its words are bounded far below.
	maxActBody = 8 << 10
)

// actReport is the body of a report.
type actReport struct {
	Action        string `json:"action"`
	ProcedureArea string `json:"procedure_area"`
	Label         string `json:"label"`
	Reference     string `json:"reference"`
	CosignatureID string `json:"cosignature_id"`
}

func actBadRequest(desc string) *bearerError {
	return &bearerError{http.StatusBadRequest, nil, "invalid_request", desc}
}

// reportAct is POST /access/v1/acts: 201 with the act journaled, 403 with
// the policy's reason when the actor may not do it now.
func (p *Provider) reportAct(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ev := p.evaluator()
	if ev == nil {
		return &bearerError{http.StatusNotFound, nil, "not_found", "Access evaluation is not enabled on this server."}
	}
	scheme, ar, sess, err := p.resourceToken(w, r, "The actor's access token is required.")
	if err != nil {
		return err
	}
	fc, _ := ar.GetClient().(*fositeClient)
	if sess.PersonID == "" || fc == nil {
		return &bearerError{http.StatusForbidden, []string{scheme + ` error="insufficient_scope"`}, "insufficient_scope",
			"This token is not a person's: an act is reported with the token of whoever did it."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxActBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &bearerError{http.StatusRequestEntityTooLarge, nil, "invalid_request", "The request body is too large."}
		}
		return actBadRequest("The request body could not be read.")
	}
	if !utf8.Valid(body) {
		// encoding/json would put U+FFFD in the site's words.
		return actBadRequest("The request body is not valid UTF-8.")
	}
	var in actReport
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil || dec.More() {
		return actBadRequest("The request body must be a JSON object: action, procedure_area, label, and optionally reference and cosignature_id.")
	}
	c := fc.c
	if len(c.ProcedureAreas) > 0 && mandates.Area(in.ProcedureArea).Valid() && !slices.Contains(c.ProcedureAreas, in.ProcedureArea) {
		return actBadRequest("procedure_area is not one of this client's registered procedure areas.")
	}
	// The grant as the representation allows it now (an ended one: 401,
	// as at userinfo), and an act within what the token was granted: a
	// token of RFC 9396 authorization details reports only their acts.
	if _, err := p.grantNow(ctx, sess, ar.GetGrantedScopes()); err != nil {
		if grantEnded(err) {
			return &bearerError{http.StatusUnauthorized, []string{scheme + ` error="invalid_token"`}, "invalid_token", endedHint(err)}
		}
		return err
	}
	if !detailsCover(sess.AuthorizationDetails, in.Action, in.ProcedureArea) {
		return &bearerError{http.StatusForbidden, []string{scheme + ` error="insufficient_scope"`}, "insufficient_scope",
			"This token was not granted this act in this procedure area."}
	}
	actor := sess.ActorID
	if actor == "" {
		actor = sess.PersonID // the person acted for themselves
	}
	q := mandates.Question{ActorID: actor, PersonID: sess.PersonID, Action: mandates.Action(in.Action), Area: mandates.Area(in.ProcedureArea),
		RepresentationID: sess.RepresentationID}
	ans, err := ev.ReportAct(ctx, mandates.ActReport{Question: q, ClientID: c.ID, Label: in.Label, Reference: in.Reference,
		CosignatureID: in.CosignatureID})
	var inv *mandates.InvalidError
	switch {
	case errors.As(err, &inv):
		return actBadRequest("The report is invalid: " + inv.Message() + ".")
	case errors.Is(err, mandates.ErrInvalid):
		return actBadRequest("The report is invalid.")
	case errors.Is(err, mandates.ErrNotFound):
		// The token's person or actor is gone.
		return &bearerError{http.StatusUnauthorized, []string{scheme + ` error="invalid_token"`}, "invalid_token", "The access token is not valid."}
	case err != nil:
		return err
	}
	if ans.Decision != mandates.Allowed {
		// The answer an evaluation would have given, with its reason, in
		// RFC 6749 §5.2's shape.
		out := p.answerJSON(ans, q)
		reason := locales.Reason(ans.Reason)
		out["error"], out["error_description"] = "access_denied", "The actor may not do this act for this person now: "+reason.EN
		writeJSON(w, http.StatusForbidden, out)
		return nil
	}
	writeJSON(w, http.StatusCreated, map[string]any{"reported": true, "action": in.Action, "procedure_area": in.ProcedureArea,
		"at": p.cfg.Now().UTC().Format(time.RFC3339)})
	return nil
}

// detailsCover says whether a token's authorization details (RFC 9396)
// grant action in area; a token without details is bounded by its
// representation alone.
func detailsCover(details []AuthorizationDetail, action, area string) bool {
	if len(details) == 0 {
		return true
	}
	return slices.ContainsFunc(details, func(d AuthorizationDetail) bool {
		return slices.Contains(d.Actions, action) && (len(d.ProcedureAreas) == 0 || slices.Contains(d.ProcedureAreas, area))
	})
}
