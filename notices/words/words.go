package words

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Reader is what the Writer reads from the store: the recipient, the
// names it gives, the representation and the agreement request a notice
// is about. The sqlite and
// postgres stores implement it.
type Reader interface {
	Person(ctx context.Context, id string) (mandates.Person, error)
	Organisation(ctx context.Context, id string) (mandates.Organisation, error)
	Representation(ctx context.Context, id string) (mandates.Representation, error)
	// Cosignature gives an agreement request: who must agree, by when,
	// and the act as the site describes it.
	Cosignature(ctx context.Context, id string) (mandates.Cosignature, error)
}

// PersonContacts is the notices.Contacts of a deployment without
// preferences: a person's Email and Phone as their account holds them.
// serve passes the preferences' lookup (notices/prefs.Lookup) instead,
// so an email or SMS goes only to an address the person confirmed.
type PersonContacts struct{ Reader Reader }

// Contact implements notices.Contacts.
func (c PersonContacts) Contact(ctx context.Context, personID string) (notices.Contact, error) {
	p, err := c.Reader.Person(ctx, personID)
	if err != nil {
		return notices.Contact{}, err
	}
	return notices.Contact{Email: p.Email, Phone: p.Phone}, nil
}

// Options is what the deployment configures.
type Options struct {
	// Sender is the name people know the notices come from, e.g. « France
	// Services Nantes »; it signs emails and SMS. Required.
	Sender string
	// Contact is how to reach a person who answers: a phone number, or a
	// desk's address, e.g. « 02 40 41 42 43 ». Required: every notice
	// says who to call.
	Contact string
	// Contacts gives the confirmed email and phone; default
	// PersonContacts over the Reader.
	Contacts notices.Contacts
	// Now dates the messages; default time.Now.
	Now func() time.Time
	// Site is Relais's public address (the issuer, e.g.
	// « https://relais.example.fr »): a code notice says which page to
	// type the code on. Optional: without it, the page is named.
	Site string
	// Codes opens the code a notice carries (notices.CodeNotices: an
	// activation or reset code, sealed in the outbox). Without it, such a
	// notice cannot be written and fails for good.
	Codes notices.Sealer
}

// Writer is the notices.Writer of Relais: it reads the notice's
// recipient and representation and puts the event in words from the
// catalogue.
type Writer struct {
	r   Reader
	o   Options
	cat map[string]*catalogue
}

var _ notices.Writer = (*Writer)(nil)

// ErrOptions: a part of Options is missing.
var ErrOptions = errors.New("words: the sender's name and a contact are required")

// New checks o and loads the catalogues.
func New(r Reader, o Options) (*Writer, error) {
	if r == nil || strings.TrimSpace(o.Sender) == "" || strings.TrimSpace(o.Contact) == "" {
		return nil, ErrOptions
	}
	if o.Contacts == nil {
		o.Contacts = PersonContacts{Reader: r}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cat, err := catalogues()
	if err != nil {
		return nil, err
	}
	return &Writer{r: r, o: o, cat: cat}, nil
}

// Reference is the reference printed on a notice and quoted in its email:
// « N- » and the last twelve characters of the notice's id in capitals,
// in groups of four, short enough to read out on the phone; an operator
// finds the notice by it.
func Reference(id string) string {
	s := strings.ToUpper(strings.ReplaceAll(id, "-", ""))
	if len(s) > 12 {
		s = s[len(s)-12:]
	}
	var b strings.Builder
	b.WriteString("N-")
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Write implements notices.Writer. A recipient or representation that no
// longer exists is a *notices.PermanentError (code "recipient",
// "representation"); so is an email notice to a recipient without an
// email address ("address") and an SMS notice without a phone ("phone"),
// and an email or SMS notice written before its recipient confirmed the
// address or number it would go to (CodeContactChanged): it was meant for
// another, and goes on paper.
// A letter to someone without a postal address is written: the letter
// channel refuses it, and operators see why.
func (w *Writer) Write(ctx context.Context, n notices.Notice) (notices.Message, error) {
	lang := "fr"
	if n.Lang == "en" {
		lang = "en"
	}
	cat := w.cat[lang]
	f, to, err := w.facts(ctx, n, lang)
	if err != nil {
		return notices.Message{}, err
	}
	role := notices.Role(n.Data["recipient_role"])
	if role == "" {
		role = notices.RolePerson
	}
	f.LetterFollows = n.Channel == notices.SMS && notices.LetterToo(n.Kind, mandates.Kind(f.kind))
	e, err := cat.entry(string(n.Kind), string(role), f.kind, f.class)
	if err != nil {
		return notices.Message{}, &notices.PermanentError{Channel: n.Channel, Code: "kind", Err: err}
	}
	m := notices.Message{ID: n.ID, Reference: Reference(n.ID), Lang: lang, Date: w.o.Now(), To: to}
	if m.Subject, m.Lines, m.Short, err = cat.write(e, f); err != nil {
		return notices.Message{}, &notices.PermanentError{Channel: n.Channel, Code: "words", Err: err}
	}
	switch {
	case n.Channel == notices.Email && strings.TrimSpace(to.Email) == "":
		return m, &notices.PermanentError{Channel: n.Channel, Code: "address", Err: errors.New("words: the recipient has no email address")}
	case n.Channel == notices.SMS && strings.TrimSpace(to.Phone) == "":
		return m, &notices.PermanentError{Channel: n.Channel, Code: "phone", Err: errors.New("words: the recipient has no phone number")}
	case (n.Channel == notices.Email || n.Channel == notices.SMS) && n.CreatedAt.Before(f.since):
		return m, &notices.PermanentError{Channel: n.Channel, Code: CodeContactChanged,
			Err: errors.New("words: the notice was written before the recipient confirmed this address or number")}
	}
	return m, nil
}

// CodePages are the pages where the code of each kind of code notice is
// typed; ui serves them.
var CodePages = map[mandates.EventType]string{
	mandates.EventActivationSent:         "/activer",
	mandates.EventPasswordResetRequested: "/nouveau-mot-de-passe",
}

// codeUntil says until when a code works: its day, and its hour in France
// when it lasts less than two days (a reset code sent by SMS).
func codeUntil(until, from time.Time, lang string) string {
	day := locales.FormatDate(until, lang)
	if until.Sub(from) >= 48*time.Hour {
		return day
	}
	at := locales.InFrance(until)
	if lang == "en" {
		return day + ", " + at.Format("15:04")
	}
	return day + ", " + at.Format("15 h 04")
}

// CodeContactChanged: an email or SMS notice written before its recipient
// confirmed the address or number it would now go to.
const CodeContactChanged = "contact_changed"

// CodeLimit is the longest consent-code text: one SMS.
const CodeLimit = 160

// ConsentCode is the text that sends a consent code to the person a
// mandate is asked for, in their language: who asks what, for how long,
// the code, and that it is given only to agree (« France Services Nantes
// demande un mandat pour vos démarches : papiers, 12 mois. Code :
// 123456. … »). Its Short is the SMS, at most CodeLimit characters (the
// areas are left out when they would not fit). The code is a secret: the
// message goes to the channel and is never stored.
func (w *Writer) ConsentCode(ctx context.Context, to mandates.Person, r mandates.Representation, code string) (notices.Message, error) {
	lang := "fr"
	if to.Language == "en" {
		lang = "en"
	}
	cat := w.cat[lang]
	f := facts{Sender: w.o.Sender, Contact: w.o.Contact, Person: mandates.DisplayName(to), Recipient: mandates.DisplayName(to), Code: code, Asked: true}
	if err := w.representation(ctx, &f, r, lang); err != nil {
		return notices.Message{}, err
	}
	now := w.o.Now()
	m := notices.Message{ID: mandates.NewID(now), Lang: lang, Date: now,
		To: notices.Recipient{Name: f.Recipient, Address: to.Address, Email: to.Email, Phone: to.Phone}}
	m.Reference = Reference(m.ID)
	for _, key := range []string{"consent_code", "consent_code/brief"} {
		e, ok := cat.notices[key]
		if !ok {
			return notices.Message{}, fmt.Errorf("words: no %s words for %s", lang, key)
		}
		var err error
		if m.Subject, m.Lines, m.Short, err = cat.write(e, f); err != nil {
			return notices.Message{}, err
		}
		if utf8.RuneCountInString(m.Short) <= CodeLimit {
			break
		}
	}
	return m, nil
}

// facts are what the templates read.
type facts struct {
	// class picks the words beside the event and the role: "measure" or
	// "consent" for a representation; for an agreement request, who must
	// agree: "party_person" or "party_representative"; "" otherwise.
	class string
	kind  string // the representation's kind, for words of one kind only

	actorID, orgID string
	since          time.Time // when the recipient's contact was confirmed

	Person    string // the represented person's name
	Recipient string // the recipient's name
	Holder    string // who holds the representation: a person's or an organisation's name
	By        string // who acted: the organisation they acted for, or their name
	Actor     string // who acted, by their own name
	KindYou   string // the kind, explained, said to the person
	KindOf    string // the kind, explained, about the person
	A         string // « un mandat », « une procuration », « une mesure de protection »
	The       string // the same with its definite article
	To        string // the same after « à »: « au mandat »
	Court     string // the court of the decision
	Decided   string // the decision's date
	Decision  string // the decision's number
	Until     string // its last day; empty when it has none
	Length    string // a mandate's or proxy's length: « 12 mois »
	Areas     string // the areas it covers, as a list; empty: all
	AreasFew  string // the same in one word each, for an SMS
	Area      string // the area an agreement is for, or the area withdrawn
	Act       string // the act an agreement is for, as the site describes it
	Acting    string // who will do the act an agreement is for
	ActingYou bool   // the person will do it themselves
	ActingMe  bool   // the recipient will do it
	AnswerBy  string // the day an agreement request expires
	EndsOn    string // ending_soon: the last day
	Site      string // site.first_act: the site's name
	Channel   string // notice.channel_confirmed: « par e-mail », « par SMS »
	Asked     bool   // the representation waits for an answer (pending consent)
	// MeasureHolder is who holds the measure a mandate or a proxy is
	// asked under; MeasureGives: they give it for the person (tutelle);
	// MeasureAgrees: they agree after the person (curatelle renforcée).
	MeasureHolder string
	MeasureGives  bool
	MeasureAgrees bool
	Active        bool   // the representation is in force after the event
	ByYou         bool   // the person did it themselves
	ByHolder      bool   // the representative (or their organisation) did it
	Paper         bool   // a letter: it already says who to call
	Code          string // a consent code, in its SMS only; or the sealed code of a code notice, opened to write it
	CodeUntil     string // until when that code works: a day, with the hour for a code of less than two days
	Link          string // the page to type that code on (Options.Site and CodePages)
	LoginName     string // account.activation_sent: the identifiant to log in with, when the account has one
	Sender        string // Options.Sender
	Contact       string // Options.Contact

	// LetterFollows: an SMS that comes with a letter saying how to
	// contest a court measure (notices.LetterToo).
	LetterFollows bool
	// Destination: notice.channel_confirmed: where the letters now go,
	// masked (Mask).
	Destination string
}

func (w *Writer) facts(ctx context.Context, n notices.Notice, lang string) (facts, notices.Recipient, error) {
	f := facts{Sender: w.o.Sender, Contact: w.o.Contact, Paper: n.Channel == notices.Paper,
		Asked:  n.Data["status"] == string(mandates.StatusPendingConsent),
		Active: n.Data["status"] == string(mandates.StatusActive), ByYou: n.Data["actor_id"] == n.PersonID,
		actorID: n.Data["actor_id"], orgID: n.Data["organisation_id"]}
	var to notices.Recipient
	gone := func(code string, err error) error {
		if errors.Is(err, mandates.ErrNotFound) {
			return &notices.PermanentError{Channel: n.Channel, Code: code, Err: err}
		}
		return fmt.Errorf("words: %s of notice %s: %w", code, n.ID, err)
	}
	switch n.RecipientKind {
	case notices.ToOrganisation:
		o, err := w.r.Organisation(ctx, n.RecipientID)
		if err != nil {
			return f, to, gone("recipient", err)
		}
		to.Name, to.Address = o.Name, o.Address
	default:
		p, err := w.r.Person(ctx, n.RecipientID)
		if err != nil {
			return f, to, gone("recipient", err)
		}
		to.Name, to.Address = mandates.DisplayName(p), p.Address
	}
	if n.RecipientKind == notices.ToPerson && (n.Channel == notices.Email || n.Channel == notices.SMS) {
		c, err := w.o.Contacts.Contact(ctx, n.RecipientID)
		if err != nil {
			return f, to, gone("recipient", err)
		}
		to.Email, to.Phone, f.since = c.Email, c.Phone, c.Since
	}
	f.Recipient = to.Name
	if n.PersonID == n.RecipientID {
		f.Person = to.Name
	} else {
		p, err := w.r.Person(ctx, n.PersonID)
		if err != nil {
			return f, to, gone("person", err)
		}
		f.Person = mandates.DisplayName(p)
	}
	var err error
	if f.Actor, err = w.personName(ctx, n.Data["actor_id"]); err != nil {
		return f, to, gone("actor", err)
	}
	f.By = f.Actor
	if id := n.Data["organisation_id"]; mandates.IsID(id) {
		o, err := w.r.Organisation(ctx, id)
		if err != nil {
			return f, to, gone("organisation", err)
		}
		f.By = o.Name
	}
	if id := n.Data["representation_id"]; mandates.IsID(id) {
		r, err := w.r.Representation(ctx, id)
		if err != nil {
			return f, to, gone("representation", err)
		}
		if err := w.representation(ctx, &f, r, lang); err != nil {
			return f, to, gone("representative", err)
		}
	}
	if id := n.Data["cosignature_id"]; mandates.IsID(id) {
		if err := w.cosignature(ctx, &f, id, n.PersonID, n.RecipientID, lang); err != nil {
			return f, to, gone("agreement", err)
		}
	}
	w.details(&f, n, lang)
	if _, ok := n.Data[notices.DataSealedCode]; ok {
		code, until, err := notices.OpenCode(w.o.Codes, n)
		if err != nil {
			return f, to, &notices.PermanentError{Channel: n.Channel, Code: "code", Err: err}
		}
		f.Code, f.CodeUntil = code, codeUntil(until, n.CreatedAt, lang)
		if page := CodePages[n.Kind]; page != "" && w.o.Site != "" {
			f.Link = strings.TrimRight(w.o.Site, "/") + page
		}
		if f.LoginName, err = w.loginName(ctx, n); err != nil {
			return f, to, gone("recipient", err)
		}
	}
	if f.Destination, err = w.destination(ctx, n); err != nil {
		return f, to, gone("recipient", err)
	}
	return f, to, nil
}

func (w *Writer) personName(ctx context.Context, id string) (string, error) {
	if !mandates.IsID(id) {
		return "", nil
	}
	p, err := w.r.Person(ctx, id)
	if err != nil {
		return "", err
	}
	return mandates.DisplayName(p), nil
}

// holderName is a representative's name: the organisation's, or the
// person's.
func (w *Writer) holderName(ctx context.Context, h mandates.Representative) (string, error) {
	if h.IsOrganisation() {
		o, err := w.r.Organisation(ctx, h.OrganisationID)
		return o.Name, err
	}
	return w.personName(ctx, h.PersonID)
}

// representation fills in the facts of the notice's representation.
func (w *Writer) representation(ctx context.Context, f *facts, r mandates.Representation, lang string) error {
	k := w.cat[lang].kinds[string(r.Kind)]
	f.kind, f.class = string(r.Kind), "consent"
	if r.Kind.IsMeasure() {
		f.class = "measure"
	}
	f.ByHolder = f.actorID != "" && (f.actorID == r.Representative.PersonID ||
		r.Representative.IsOrganisation() && f.orgID == r.Representative.OrganisationID)
	f.A, f.The, f.To = k.A, k.The, k.To
	f.KindYou, f.KindOf = k.You, strings.ReplaceAll(k.About, "{{.Person}}", f.Person)
	var err error
	if f.Holder, err = w.holderName(ctx, r.Representative); err != nil {
		return err
	}
	if u := r.Source.Measure; u != nil && mandates.IsID(u.MeasureID) {
		m, err := w.r.Representation(ctx, u.MeasureID)
		switch {
		case err == nil:
			if f.MeasureHolder, err = w.holderName(ctx, m.Representative); err != nil {
				return err
			}
			f.MeasureGives, f.MeasureAgrees = u.Giver == mandates.GivenByRepresentative, u.Giver == mandates.GivenWithAgreement
		case !errors.Is(err, mandates.ErrNotFound):
			return err
		}
	}
	if d := r.Source.Decision; d != nil {
		f.Court, f.Decision = d.Jurisdiction, d.Reference
		if !d.Date.IsZero() {
			f.Decided = locales.FormatDate(d.Date, lang)
		}
	}
	if !r.ValidUntil.IsZero() {
		f.Until = locales.FormatDate(r.ValidUntil, lang)
		for _, d := range mandates.Durations {
			if !r.Kind.IsMeasure() && d.End(r.ValidFrom).Equal(r.ValidUntil) {
				f.Length = locales.Duration(d).In(lang)
			}
		}
	}
	var long, few []string
	for _, a := range mandates.SortAreas(r.Areas) {
		label := locales.Area(a).In(lang)
		long = append(long, lowerFirst(label))
		word, _, _ := strings.Cut(label, ",")
		few = append(few, lowerFirst(word))
	}
	f.Areas, f.AreasFew = strings.Join(long, " ; "), strings.Join(few, ", ")
	return nil
}

// cosignature fills in the facts of an agreement request.
func (w *Writer) cosignature(ctx context.Context, f *facts, id, personID, recipientID, lang string) error {
	c, err := w.r.Cosignature(ctx, id)
	if err != nil {
		return err
	}
	f.class = "party_" + string(c.Party)
	f.Act = strings.Join(strings.Fields(c.Description), " ")
	f.ActingYou, f.ActingMe = c.ActorID == personID, c.ActorID == recipientID
	if f.Acting, err = w.personName(ctx, c.ActorID); err != nil {
		return err
	}
	if !c.ExpiresAt.IsZero() {
		f.AnswerBy = locales.FormatDate(c.ExpiresAt, lang)
	}
	return nil
}

// details reads the notice's codes that need no store.
func (w *Writer) details(f *facts, n notices.Notice, lang string) {
	c := w.cat[lang]
	if a := n.Data["area"]; a != "" {
		f.Area = lowerFirst(locales.Area(mandates.Area(a)).In(lang))
	}
	f.EndsOn = f.Until
	if d, err := time.Parse(time.DateOnly, n.Data["ends_on"]); err == nil {
		f.EndsOn = locales.FormatDate(d, lang)
	}
	f.Site = n.Data["site_name"]
	f.Channel = c.channels[n.Data["channel"]]
}

func lowerFirst(s string) string {
	for i, r := range s {
		if i == 0 {
			return strings.ToLower(string(r)) + s[len(string(r)):]
		}
	}
	return s
}
