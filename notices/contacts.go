package notices

import "context"

// Contact is where a person confirmed they receive their notices: the
// email address and the mobile number (E.164) they confirmed with a code,
// each empty when none.
type Contact struct {
	Email string
	Phone string
}

// Contacts finds a recipient's confirmed email address and mobile number,
// for the Writer to address an email or an SMS (the preferences, package
// notices/prefs, implement it). A person who confirmed nothing has an
// empty Contact and no error.
type Contacts interface {
	Contact(ctx context.Context, personID string) (Contact, error)
}
