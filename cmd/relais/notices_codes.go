package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// consentTexts sends the remote-consent codes by SMS, in the person's
// language, saying who asks what (words.Writer.ConsentCode): the SMS
// gateway when one is configured, the terminal in the demo. The code is
// sent at once and never written to the outbox.
type consentTexts struct {
	words *words.Writer
	sms   notices.Sender
}

var _ mandates.RequestCodeSender = consentTexts{}

// errNoRequest: the service gives every code with its request
// (SendRequestCode); a code alone would not say what it agrees to.
var errNoRequest = errors.New("consent code: sent without the request it answers")

// SendConsentCode implements mandates.CodeSender; the service calls
// SendRequestCode instead.
func (c consentTexts) SendConsentCode(context.Context, mandates.Person, string) error {
	return errNoRequest
}

// SendRequestCode texts the code for request r to the person. A number
// that cannot receive a text is mandates.ErrNoSender, which the aidant's
// page explains.
func (c consentTexts) SendRequestCode(ctx context.Context, to mandates.Person, r mandates.Representation, code string) error {
	m, err := c.words.ConsentCode(ctx, to, r, code)
	if err != nil {
		return err
	}
	err = c.sms.Send(ctx, m)
	var p *notices.PermanentError
	if errors.As(err, &p) && p.Code == "phone" {
		return fmt.Errorf("%w: %w", mandates.ErrNoSender, err)
	}
	return err
}

// consentCodes is serve's sender of consent codes: by the configured SMS
// gateway, or printed in the demo; nil (remote consent unavailable)
// otherwise.
func consentCodes(c *Config, w notices.Writer, demo notices.Sender) mandates.CodeSender {
	ww, ok := w.(*words.Writer)
	if !ok {
		return nil
	}
	if s := c.Notices.senders[notices.SMS]; s != nil {
		return consentTexts{words: ww, sms: s}
	}
	if c.Demo && demo != nil {
		return consentTexts{words: ww, sms: demo}
	}
	return nil
}
