// Package email owns the email channel: a notices.Sender that sends a
// Message over SMTP with STARTTLS required and SMTP AUTH, as one email with
// a plain-text part and a simple accessible HTML part built from the same
// lines, and a Message-ID derived from the notice so that a retry after a
// crash is the same email. It sorts the server's answers into permanent
// refusals (5xx replies, as notices.PermanentError with the reply code) and
// temporary failures (4xx, network errors, time-outs).
//
// It imports notices and nothing of ui, authz, authn, mandates' stores or
// the other channels. github.com/wneessen/go-mail stays inside it: the
// outbox sees a notices.Sender only.
package email
