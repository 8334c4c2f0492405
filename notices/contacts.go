package notices

import (
	"context"
	"time"
)

// Contact is where a person confirmed they receive their notices: the
// email address and the mobile number (E.164) they confirmed with a code,
// each empty when none; Since is when they were confirmed (zero when not
// known): an email or SMS notice written before it was meant for another
// address, and goes on paper instead (notices/words).
type Contact struct {
	Email string
	Phone string
	Since time.Time
}

// Contacts finds a recipient's confirmed email address and mobile number,
// for the Writer to address an email or an SMS (the preferences, package
// notices/prefs, implement it). A person who confirmed nothing has an
// empty Contact and no error.
type Contacts interface {
	Contact(ctx context.Context, personID string) (Contact, error)
}
