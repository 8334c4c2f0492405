package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// seedJournal appends total entries to the chains of persons, as evenly as
// it can, each chain continuing from its head (the measures' registration
// wrote some), dated from t0 plus two days up to an hour before c.Now. The
// entries are built and hashed by mandates/journal (journal.Next), as the
// journal's own append path builds them, and written in bulk.
func seedJournal(ctx context.Context, st store, c config, persons []string, t0 time.Time, total int, out io.Writer) (int, error) {
	pr := newProgress(out, "journal", total)
	if total == 0 || len(persons) == 0 {
		return pr.done(), nil
	}
	per, extra := total/len(persons), total%len(persons)
	from, until := t0.Add(48*time.Hour), c.Now.Add(-time.Hour)
	type batch struct {
		entries []journal.Entry
		details []journal.Detail
		chains  []string
	}
	batches := make(chan batch, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Building and hashing the entries runs beside the writes.
	go func() {
		defer close(batches)
		var b batch
		for i, p := range persons {
			n := per
			if i < extra {
				n++
			}
			if n == 0 {
				continue
			}
			step := until.Sub(from) / time.Duration(n+1)
			var head *journal.Entry
			for k := range n {
				ev := bulkEvent(i+k, p, from.Add(step*time.Duration(k+1)))
				d := journal.NewDetail(ev.Detail)
				e := journal.Next(head, p, ev, journal.DetailHash(d.Salt, d.Fields))
				b.entries, b.details = append(b.entries, e), append(b.details, d)
				head = &e
			}
			b.chains = append(b.chains, p)
			if len(b.entries) >= c.Batch || i == len(persons)-1 {
				select {
				case batches <- b:
				case <-ctx.Done():
					return
				}
				b = batch{}
			}
		}
	}()
	for b := range batches {
		if err := writeJournal(ctx, st, b.entries, b.details, b.chains); err != nil {
			cancel()
			for range batches {
			}
			return pr.n, err
		}
		pr.add(len(b.entries))
	}
	return pr.done(), nil
}

// writeJournal links each chain's new entries after its head (they were
// built as chains of their own, from seq 1) and writes them.
func writeJournal(ctx context.Context, st store, entries []journal.Entry, details []journal.Detail, chains []string) error {
	if len(chains) == 0 {
		return nil
	}
	heads, err := journal.Heads(ctx, st, chains)
	if err != nil {
		return err
	}
	for i := range entries {
		if e := &entries[i]; e.Seq == 1 {
			if h, ok := heads[e.Chain]; ok {
				relink(entries[i:], h)
			}
		}
	}
	return st.LoadJournal(ctx, entries, details)
}

// relink renumbers and rehashes the run of entries of one chain starting
// at es[0] so that it follows head.
func relink(es []journal.Entry, head journal.Entry) {
	chain := es[0].Chain
	prev := head
	for i := range es {
		e := &es[i]
		if e.Chain != chain {
			return
		}
		e.Seq, e.Prev = prev.Seq+1, prev.Hash
		e.Hash = e.ComputeHash()
		prev = *e
	}
}

// bulkEvent is the k-th kind of everyday act in a person's chain: a
// login, a token issued to the seed site, an evaluation by that site.
func bulkEvent(k int, personID string, at time.Time) mandates.Event {
	e := mandates.Event{At: at, ActorID: personID, PersonID: personID}
	switch k % 3 {
	case 0:
		e.Type, e.Detail = "login.succeeded", map[string]string{"method": "password"}
	case 1:
		e.Type, e.ClientID = "token.issued", SeedClientID
		e.Detail = map[string]string{"grant_type": "authorization_code", "scope": "openid offline_access"}
	default:
		e.Type, e.ClientID, e.Areas = "access.evaluated", SeedClientID, []mandates.Area{"social"}
		e.Detail = map[string]string{"action": "consult", "decision": "allowed"}
	}
	return e
}

// progress reports one part's rows and rate every few seconds, and at its
// end.
type progress struct {
	out         io.Writer
	name        string
	total, n    int
	start, last time.Time
}

func newProgress(out io.Writer, name string, total int) *progress {
	now := time.Now()
	return &progress{out: out, name: name, total: total, start: now, last: now}
}

func (p *progress) add(n int) {
	p.n += n
	if now := time.Now(); now.Sub(p.last) >= 5*time.Second {
		p.last = now
		fmt.Fprintf(p.out, "%s: %d/%d rows, %.0f rows/s\n", p.name, p.n, p.total, float64(p.n)/now.Sub(p.start).Seconds())
	}
}

func (p *progress) done() int {
	d := time.Since(p.start)
	fmt.Fprintf(p.out, "%s: %d rows in %.1f s, %.0f rows/s\n", p.name, p.n, d.Seconds(), float64(p.n)/max(d.Seconds(), 1e-9))
	return p.n
}
