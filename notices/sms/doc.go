// Package sms owns the SMS channel: a notices.Sender that checks the
// number (French mobile numbers, written as E.164) and the short text,
// and hands them to a Gateway; and the one generic Gateway, an HTTP API
// configured by the deployment (URL, credentials, the JSON body's field
// names), with an Idempotency-Key derived from the notice so that a retry
// after a crash is not sent twice by a gateway that honours the key.
//
// It imports notices and nothing of ui, authz, authn, the stores or the
// other channels. A deployment with another kind of gateway implements
// Gateway; the outbox sees a notices.Sender only.
package sms
