package ui

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// Co-signature pages (issue 6, point 7): the requests waiting for the
// signed-in person's agreement, and one request shown in plain words with
// "J’accepte" and "Je refuse". Only the party who must agree sees a
// request; anyone else gets 404. Pages a protected adult reads: plain
// words, one idea a sentence (PLAIN-LANGUAGE.md).
const cosignListPath = "/espace/accords"

// cosignPages are the requests for a person's or a representative's
// agreement to one act.
type cosignPages struct{ *Server }

func (s *cosignPages) mountCosign(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc(cosignListPath, s.page(s.cosignList)).Methods(get...)
	pages.HandleFunc(cosignListPath+"/{id}", s.page(s.cosignPage)).Methods(get...)
	pages.HandleFunc(cosignListPath+"/{id}", s.page(s.cosignAnswer)).Methods(http.MethodPost)
}

// cosignView is one request with every word in the page's language.
type cosignView struct {
	ID          string
	Actor       string // who will do the act
	Person      string // whose account it is
	Site        string
	Description string
	Action      string
	Area        string
	Kind        string // the measure or representation, in a sentence
	KindCode    mandates.Kind
	Minutes     int    // how long an approval lasts (mandates.CosignatureTTL)
	AsPerson    bool   // the reader is the represented person (a representative acts)
	Asked       string // date of the request
	Until       string // date and time the request, or the approval, ends
	Status      mandates.CosignatureStatus
	DecidedByMe bool
}

func (s *cosignPages) cosignView(r *http.Request, viewer string, c mandates.Cosignature) (cosignView, error) {
	ctx := r.Context()
	lang := requestLang(r)
	svc := s.mandates.Service
	name := func(id string) (string, error) {
		p, err := svc.Person(ctx, id)
		if err != nil {
			return "", err
		}
		return mandates.DisplayName(p), nil
	}
	v := cosignView{ID: c.ID, Description: c.Description, Action: locales.Action(c.Action).In(lang), Status: c.EffectiveStatus(s.clock()),
		AsPerson: c.Party == mandates.PartyPerson, DecidedByMe: c.DecidedBy == viewer,
		Asked: locales.FormatDate(c.CreatedAt, lang),
		Until: translateData(s.localizer(r), "cosign.when", map[string]any{"Date": locales.FormatDate(c.ExpiresAt, lang),
			"Time": locales.FormatTime(c.ExpiresAt, lang)}),
		Minutes: int(mandates.CosignatureTTL / time.Minute)}
	if c.Area.Valid() {
		v.Area = locales.Area(c.Area).In(lang)
	}
	var err error
	if v.Actor, err = name(c.ActorID); err != nil {
		return v, err
	}
	if v.Person, err = name(c.PersonID); err != nil {
		return v, err
	}
	v.Site = nameOfSite(ctx, s.oidc, c.ClientID)
	if rep, err := svc.Representation(ctx, viewer, c.RepresentationID); err == nil {
		v.Kind, v.KindCode = locales.KindThe(rep.Kind).In(lang), rep.Kind
	}
	return v, nil
}

func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

type cosignListData struct {
	Requests []cosignView
	// NeedCode: a login with the second factor would show the requests of
	// an organisation's measures; where to log in.
	NeedCode string
}

// cosignList is "Demandes d’accord": what waits for my answer.
func (s *cosignPages) cosignList(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	list, err := s.mandates.Service.CosignaturesAwaiting(r.Context(), actor(sess))
	if err != nil {
		return err
	}
	held, err := s.mandates.Service.For(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	d := cosignListData{NeedCode: givingNeedCode(sess, held, "/espace/accords")}
	for _, c := range list {
		v, err := s.cosignView(r, sess.PersonID, c)
		if err != nil {
			return err
		}
		d.Requests = append(d.Requests, v)
	}
	s.render(w, r, http.StatusOK, "cosign_list", "cosign.list.title", d)
	return nil
}

type cosignPageData struct {
	Request cosignView
	// Again: the reader answered a request that already had an answer.
	Again bool
}

// cosignPage shows one request: the act in plain words and the two
// answers, or, once answered, what happened.
func (s *cosignPages) cosignPage(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	return s.showCosign(w, r, sess, http.StatusOK, false)
}

func (s *cosignPages) showCosign(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, status int, again bool) error {
	viewer := sess.PersonID
	c, err := s.mandates.Service.CosignatureToAgree(r.Context(), actor(sess), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	v, err := s.cosignView(r, viewer, c)
	if err != nil {
		return err
	}
	s.render(w, r, status, "cosign_request", "cosign.request.title", cosignPageData{Request: v, Again: again})
	return nil
}

// cosignAnswer records "J’accepte" or "Je refuse", then shows what
// happened (post, redirect, get).
func (s *cosignPages) cosignAnswer(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return statusError(http.StatusBadRequest)
	}
	var approve bool
	switch r.PostForm.Get("answer") {
	case "accept":
		approve = true
	case "refuse":
	default:
		return statusError(http.StatusBadRequest)
	}
	id := mux.Vars(r)["id"]
	_, err = s.mandates.Service.AnswerCosignature(r.Context(), actor(sess), id, approve)
	switch {
	case errors.Is(err, mandates.ErrCosignDecided):
		return s.showCosign(w, r, sess, http.StatusConflict, true)
	case err != nil:
		return err
	}
	http.Redirect(w, r, cosignListPath+"/"+id, http.StatusSeeOther)
	return nil
}
