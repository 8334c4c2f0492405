package ui

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// Notices is what the operators' view of a person's notices needs (issue
// 15; docs/notices.md, « The operators' view »): the desk that lists and
// resends them (it asks mandates.Service.NoticesAccess), and the check of
// the letters waiting to be printed.
type Notices struct {
	Desk *notices.Desk
	// Letters says why a pending letter cannot be printed: "" (it can),
	// "address" (the postal address is missing or incomplete) or
	// "unwritable"; cmd/relais wires notices/printing's Checker. When nil,
	// no letter is shown as one that cannot be sent.
	Letters func(ctx context.Context, n notices.Notice) (problem string, err error)
}

// noticePages are the operators' pages and API about a person's notices.
type noticePages struct{ *Server }

func (s *noticePages) mountNotices(pages *mux.Router) {
	pages.HandleFunc("/operateur/personnes/{id}/courriers", s.page(s.noticesPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/operateur/personnes/{id}/courriers/{notice}/renvoyer", s.page(s.resendNotice)).Methods(http.MethodPost)
	pages.HandleFunc("/api/v1/persons/{id}/notices", s.api(s.apiNotices)).Methods(http.MethodGet)
	pages.HandleFunc("/api/v1/persons/{id}/notices/{notice}/resend", s.api(s.apiResend)).Methods(http.MethodPost)
}

// noticeRow is one notice as the page shows it.
type noticeRow struct {
	ID, Reference string
	At            time.Time
	Kind          string // in words
	Recipient     string // a name
	Role          string // why they get it, in words
	Channel       string // in words
	Status        notices.Status
	StatusText    string
	LastError     string // in words; "" when none
	Problem       string // why the letter cannot be sent, in words; "" when it can
	ResentOf      string // the reference of the notice this one repeats
	CanResend     bool
}

type noticesData struct {
	PersonID, PersonName string
	Rows                 []noticeRow
	Unsendable           int // letters that cannot be sent
	Done                 bool
	// SecondFactorReset: the page that removes a lost second factor is
	// mounted (operator_second_factor.go), and linked from here.
	SecondFactorReset bool
	ProblemTitle      string
	Problems          []problem
}

func (s *noticePages) noticesData(r *http.Request, sess mandates.Actor, personID string) (noticesData, error) {
	ctx := r.Context()
	desk := s.mandates.Notices.Desk
	list, err := desk.NoticesOf(ctx, sess, personID)
	if err != nil {
		return noticesData{}, err
	}
	p, err := s.mandates.Service.Person(ctx, personID)
	if err != nil {
		return noticesData{}, err
	}
	l := s.localizer(r)
	lang := requestLang(r)
	d := noticesData{PersonID: personID, PersonName: mandates.DisplayName(p), SecondFactorReset: s.mandates.SecondFactors != nil}
	names := map[string]string{}
	for _, n := range list {
		name, ok := names[n.RecipientID]
		if !ok {
			if name, err = s.recipientName(ctx, sess, n); err != nil {
				return d, err
			}
			names[n.RecipientID] = name
		}
		row := noticeRow{ID: n.ID, Reference: words.Reference(n.ID), At: n.CreatedAt, Recipient: name, Status: n.Status,
			Kind:      noticeWords(l, "notices.op.kind.", string(n.Kind), "notices.op.kind.other"),
			Role:      noticeWords(l, "notices.op.role.", n.Data["recipient_role"], "notices.op.role.other"),
			Channel:   noticeWords(l, "notices.op.channel.", string(n.Channel), "notices.op.channel.other"),
			CanResend: n.Status != notices.Pending}
		row.StatusText = s.statusText(l, lang, n)
		if n.LastError != "" {
			row.LastError = errorWords(l, n.LastError)
		}
		if id := n.Data["resent_of"]; mandates.IsID(id) {
			row.ResentOf = words.Reference(id)
		}
		if s.mandates.Notices.Letters != nil && n.Channel == notices.Paper && n.Status == notices.Pending {
			problem, err := s.mandates.Notices.Letters(ctx, n)
			if err != nil {
				return d, err
			}
			if problem != "" {
				row.Problem = noticeWords(l, "notices.op.problem.", problem, "notices.op.problem.unwritable")
				d.Unsendable++
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// recipientName is a person's name or an organisation's; one that no
// longer exists is said so, not an error.
func (s *noticePages) recipientName(ctx context.Context, a mandates.Actor, n notices.Notice) (string, error) {
	var name string
	var err error
	if n.RecipientKind == notices.ToOrganisation {
		var o mandates.Organisation
		o, err = s.mandates.Service.Organisation(ctx, a.PersonID, n.RecipientID)
		name = o.Name
	} else {
		var p mandates.Person
		p, err = s.mandates.Service.Person(ctx, n.RecipientID)
		name = mandates.DisplayName(p)
	}
	if errors.Is(err, mandates.ErrNotFound) {
		return "", nil
	}
	return name, err
}

func (s *noticePages) statusText(l *i18n.Localizer, lang string, n notices.Notice) string {
	switch {
	case n.Status == notices.Sent:
		return translateData(l, "notices.op.status.sent", map[string]any{"Date": locales.FormatDate(n.SentAt, lang)})
	case n.Status == notices.HandedOver:
		return translateData(l, "notices.op.status.handed_over", map[string]any{"Date": locales.FormatDate(n.HandedOverAt, lang)})
	case n.Status == notices.Failed:
		return translate(l, "notices.op.status.failed")
	case n.Channel == notices.Paper:
		return translate(l, "notices.op.status.to_print")
	}
	return translate(l, "notices.op.status.sending")
}

// noticeWords are the words of prefix+code, or of fallback when the
// catalogue has none (a kind added since).
func noticeWords(l *i18n.Localizer, prefix, code, fallback string) string {
	if code != "" {
		if w := translate(l, prefix+code); w != prefix+code {
			return w
		}
	}
	return translate(l, fallback)
}

// errorWords put a notice's LastError in words: the dispatcher's codes,
// and a channel's refusal ("refused_" and the channel's code).
func errorWords(l *i18n.Localizer, code string) string {
	if rest, ok := strings.CutPrefix(code, "refused_"); ok {
		if w := translate(l, "notices.op.error.refused_"+rest); w != "notices.op.error.refused_"+rest {
			return w
		}
		return translateData(l, "notices.op.error.refused", map[string]any{"Code": rest})
	}
	return noticeWords(l, "notices.op.error.", code, "notices.op.error.other")
}

func (s *noticePages) noticesPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	d, err := s.noticesData(r, actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("fait") == "renvoye"
	s.render(w, r, http.StatusOK, "operator_notices", "notices.op.title", d)
	return nil
}

func (s *noticePages) resendNotice(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.operatorOnly(r)
	if err != nil {
		return err
	}
	personID, id := mux.Vars(r)["id"], mux.Vars(r)["notice"]
	_, err = s.mandates.Notices.Desk.Resend(r.Context(), actor(sess), personID, id)
	if errors.Is(err, notices.ErrStillPending) {
		d, derr := s.noticesData(r, actor(sess), personID)
		if derr != nil {
			return derr
		}
		l := s.localizer(r)
		d.ProblemTitle = translate(l, "notices.op.pending_title")
		d.Problems = []problem{{ID: "courrier-" + id, Text: translate(l, "notices.op.pending")}}
		s.render(w, r, http.StatusConflict, "operator_notices", "notices.op.title", d)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/operateur/personnes/"+personID+"/courriers?fait=renvoye", http.StatusSeeOther)
	return nil
}

// noticeJSON is a notice as the API gives it: codes, not words.
type noticeJSON struct {
	ID            string `json:"id"`
	Reference     string `json:"reference"`
	Kind          string `json:"kind"`
	RecipientID   string `json:"recipient_id"`
	RecipientKind string `json:"recipient_kind"`
	RecipientRole string `json:"recipient_role,omitempty"`
	Channel       string `json:"channel"`
	Status        string `json:"status"`
	LastError     string `json:"last_error,omitempty"`
	// Problem says why a letter waiting to be printed cannot be sent:
	// "address" (postal address missing or incomplete) or "unwritable".
	Problem      string `json:"problem,omitempty"`
	ResentOf     string `json:"resent_of,omitempty"`
	FallbackOf   string `json:"fallback_of,omitempty"`
	CreatedAt    string `json:"created_at"`
	SentAt       string `json:"sent_at,omitempty"`
	HandedOverAt string `json:"handed_over_at,omitempty"`
}

func (s *noticePages) toJSON(ctx context.Context, n notices.Notice) (noticeJSON, error) {
	instant := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	out := noticeJSON{ID: n.ID, Reference: words.Reference(n.ID), Kind: string(n.Kind), RecipientID: n.RecipientID, RecipientKind: string(n.RecipientKind),
		RecipientRole: n.Data["recipient_role"], Channel: string(n.Channel), Status: string(n.Status), LastError: n.LastError,
		ResentOf: n.Data["resent_of"], FallbackOf: n.FallbackOf, CreatedAt: instant(n.CreatedAt), SentAt: instant(n.SentAt),
		HandedOverAt: instant(n.HandedOverAt)}
	if s.mandates.Notices.Letters != nil && n.Channel == notices.Paper && n.Status == notices.Pending {
		p, err := s.mandates.Notices.Letters(ctx, n)
		if err != nil {
			return out, err
		}
		out.Problem = p
	}
	return out, nil
}

func (s *noticePages) apiNotices(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	list, err := s.mandates.Notices.Desk.NoticesOf(r.Context(), actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	out := make([]noticeJSON, 0, len(list))
	for _, n := range list {
		j, err := s.toJSON(r.Context(), n)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": out})
	return nil
}

func (s *noticePages) apiResend(w http.ResponseWriter, r *http.Request) error {
	sess, err := (&apiPages{s.Server}).apiOperator(r)
	if err != nil {
		return err
	}
	n, err := s.mandates.Notices.Desk.Resend(r.Context(), actor(sess), mux.Vars(r)["id"], mux.Vars(r)["notice"])
	if errors.Is(err, notices.ErrStillPending) {
		return &jsonProblem{http.StatusConflict, "still_pending", "This notice is still waiting to be sent: there is nothing to resend yet."}
	}
	if err != nil {
		return err
	}
	j, err := s.toJSON(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, j)
	return nil
}
