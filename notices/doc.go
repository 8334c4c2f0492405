// Package notices owns what Relais tells people outside its pages: the
// notices about a person's rights (a measure registered or ended, a proxy
// given or stopped, an agreement asked…), the outbox that keeps them until
// they are sent once, the dispatcher that sends them, and the channels
// that carry them (paper letters by default; email and SMS only when the
// person chose them, issue 15).
//
// It imports mandates (persons, addresses, events) and nothing of ui,
// authz, authn or the stores: the stores implement its Store, and cmd
// wires it. Its sub-packages are the channels (letter, email, sms); each
// imports this package for Message and Sender, never the other way round,
// so a channel's library (PDF, SMTP) stays behind one small interface.
package notices
