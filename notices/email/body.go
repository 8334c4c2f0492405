package email

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/relais-fr/relais/notices"
)

// message builds the email: headers, then a text part and an HTML part
// made from the same lines, with the reference in both.
func (s *Sender) message(m notices.Message, to string) (*gomail.Msg, error) {
	if strings.TrimSpace(m.Subject) == "" {
		return nil, errors.New("email: the message has no subject")
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return nil, fmt.Errorf("email: From: %w", err)
	}
	if err := msg.AddToFormat(m.To.Name, to); err != nil {
		return nil, fmt.Errorf("email: To: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(strings.Trim(s.MessageID(m.ID), "<>"))
	if !m.Date.IsZero() {
		msg.SetDateWithValue(m.Date)
	}
	lang := "fr"
	if m.Lang == "en" {
		lang = "en"
	}
	msg.SetGenHeader(gomail.HeaderContentLang, lang)
	b := body{Lang: lang, Subject: m.Subject, Reference: referenceLabel(lang) + m.Reference}
	for _, l := range m.Lines {
		if l = strings.TrimSpace(l); l != "" {
			b.Lines = append(b.Lines, l)
		}
	}
	var html bytes.Buffer
	if err := s.html.Execute(&html, b); err != nil {
		return nil, fmt.Errorf("email: HTML part: %w", err)
	}
	msg.SetBodyString(gomail.TypeTextPlain, b.text())
	msg.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return msg, nil
}

type body struct {
	Lang, Subject, Reference string
	Lines                    []string
}

// text is the plain part: the subject, one line per idea with a blank
// line between, then the reference.
func (b body) text() string {
	var t strings.Builder
	t.WriteString(b.Subject + "\n\n")
	for _, l := range b.Lines {
		t.WriteString(l + "\n\n")
	}
	t.WriteString(b.Reference + "\n")
	return t.String()
}

func referenceLabel(lang string) string {
	if lang == "en" {
		return "Reference: "
	}
	return "Référence : "
}

// htmlSource is the HTML part: the language declared, a title, one
// heading and one paragraph per idea; no images, no tables for layout, no
// styles a reader must see, so screen readers and text-only clients read
// it as written.
const htmlSource = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Subject}}</title>
</head>
<body>
<h1>{{.Subject}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}<p>{{.Reference}}</p>
</body>
</html>
`

// replyCode is the SMTP reply code behind err, or 0 when err is not a
// server's reply (a network error, a time-out).
func replyCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// dotAtom says whether id can stand as it is on the left of a Message-ID's
// @ (RFC 5322 §3.2.3, restricted to letters, digits, '-', '_' and '.').
func dotAtom(id string) bool {
	if id == "" || len(id) > 64 || strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}
