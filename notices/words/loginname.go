package words

import (
	"context"
	"errors"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// LoginNames is what a Reader also has when persons may log in with a
// login name (an identifiant, for accounts opened at a desk; both of
// Relais's stores have it): the activation letter writes it, so a person
// without an email knows what to type on the login page.
type LoginNames interface {
	// LoginName is mandates.ErrNotFound for a person without one.
	LoginName(ctx context.Context, personID string) (string, error)
}

// loginName is the recipient's login name for an activation notice, ""
// for any other notice or a person without one.
func (w *Writer) loginName(ctx context.Context, n notices.Notice) (string, error) {
	names, ok := w.r.(LoginNames)
	if !ok || n.Kind != mandates.EventActivationSent || n.RecipientKind != notices.ToPerson {
		return "", nil
	}
	name, err := names.LoginName(ctx, n.RecipientID)
	if errors.Is(err, mandates.ErrNotFound) {
		return "", nil
	}
	return name, err
}
