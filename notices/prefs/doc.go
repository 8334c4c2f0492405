// Package prefs owns how a person receives the notices about their rights
// (issue 15, point 3: « Comment je reçois mes courriers »): paper by
// default; email or SMS once the person, or the representative the rule
// lets choose for them (mandates.Policy.NoticesManagedBy), gave an address
// or a mobile number and typed back the code sent to it; back to paper at
// once, for good or until a date. It keeps the choice (Choice and its
// Store, with the code hashed, its expiry and its attempts), sends the
// code through the channel's notices.Sender, journals each step in the
// transaction that stores it, and answers the Notifier's question
// (Lookup implements notices.Channels and notices.Contacts).
//
// It imports mandates (the rule, the events, the errors), notices (the
// channels, the Sender) and notices/sms (what a mobile number is), and
// nothing of ui, authz, authn or the stores: the stores implement its
// Store, ui and cmd call its Service. It is apart from notices because it
// needs notices/sms, which imports notices.
package prefs
