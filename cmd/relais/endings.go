package main

import "context"

// recordEndings announces, once per end date, the representations in
// force whose end is within 30 days (mandates.Service.RecordEndingsSoon):
// each announcement is journaled with the letters it causes, to the person
// and the representative. It runs with the expiries, under the journal's
// lease; instances racing here still announce each end once.
func (jj *journalJobs) recordEndings(ctx context.Context) error {
	if jj.expiries == nil {
		return nil
	}
	total := 0
	for {
		n, err := jj.expiries.RecordEndingsSoon(ctx, expiryBatch)
		total += n
		if err != nil || n < expiryBatch {
			if total > 0 {
				jj.log.InfoContext(ctx, "representation endings announced", "representations", total)
			}
			return err
		}
	}
}
