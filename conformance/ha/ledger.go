package main

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// kind is a kind of write the load makes through Relais's HTTP API.
type kind string

const (
	// kindToken: a client-credentials access token, a row of oauth_tokens
	// for the worker's own client, created during the request.
	kindToken kind = "token"
	// kindEvaluation: an AuthZEN access evaluation, an access.evaluated
	// journal entry for the worker's own client, dated during the request.
	kindEvaluation kind = "evaluation"
	// kindRegistration: a court measure registered by the operator, under
	// a decision reference the load chose: one representation, its
	// representation.created history row and journal entry, its notices.
	kindRegistration kind = "registration"
	// kindEnd: that representation ended: one representation.revoked
	// history row and journal entry, its notices.
	kindEnd kind = "end"
)

var kinds = []kind{kindToken, kindEvaluation, kindRegistration, kindEnd}

// timed says whether a write of k is found by its worker and its time
// (tokens and evaluations carry no key the client chooses) rather than by
// its key.
func (k kind) timed() bool { return k == kindToken || k == kindEvaluation }

// outcome is what the client was told.
type outcome int

const (
	acked  outcome = iota // a success: the write must be there, once
	failed                // an error or no answer: it may or may not be there, at most once
)

// write is one write the load attempted.
type write struct {
	Kind   kind
	Key    string // registration: the decision reference; end: the representation's id
	Worker int    // the worker, whose client made the timed kinds
	Start  time.Time
	Done   time.Time
	Result outcome
	Detail string // for a failure: the status or the error
	Status int    // the HTTP status of the answer; 0 when none came
}

// ledger is every write attempted, safe for concurrent workers.
type ledger struct {
	mu     sync.Mutex
	writes []write
}

func (l *ledger) add(w write) {
	l.mu.Lock()
	l.writes = append(l.writes, w)
	l.mu.Unlock()
}

func (l *ledger) all() []write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes)
}

// firstAckAfter is the end of the first acknowledged write started at or
// after t, and whether there is one.
func (l *ledger) firstAckAfter(t time.Time) (time.Time, bool) {
	return firstAck(l.all(), t)
}

func firstAck(ws []write, t time.Time) (time.Time, bool) {
	var first time.Time
	for _, w := range ws {
		if w.Result == acked && !w.Start.Before(t) && (first.IsZero() || w.Done.Before(first)) {
			first = w.Done
		}
	}
	return first, !first.IsZero()
}

// found is what the database holds of the load's writes.
type found struct {
	// keyed counts, per kind, the rows of each key.
	keyed map[kind]map[string]int
	// at lists, per timed kind and worker, the times of its rows.
	at map[kind]map[int][]time.Time
}

func newFound() found {
	f := found{keyed: map[kind]map[string]int{}, at: map[kind]map[int][]time.Time{}}
	for _, k := range kinds {
		f.keyed[k] = map[string]int{}
		f.at[k] = map[int][]time.Time{}
	}
	return f
}

// slack widens a write's interval: the database keeps microseconds and
// the journal milliseconds (truncated), on the same clock as ours.
const slack = 2 * time.Millisecond

// occurrences is how many times w is in f.
func occurrences(w write, f found) int {
	if !w.Kind.timed() {
		return f.keyed[w.Kind][w.Key]
	}
	n := 0
	for _, t := range f.at[w.Kind][w.Worker] {
		if !t.Before(w.Start.Add(-slack)) && !t.After(w.Done.Add(slack)) {
			n++
		}
	}
	return n
}

// phase is a stretch of the run: before the first fault, then from each
// fault to the next.
type phase struct {
	Name string
	// Start: the fault. A write belongs to the phase it ended in: one under
	// way when the fault came is counted with the fault.
	Start time.Time
	// Outage: the longest time in the phase without an acknowledged
	// write, counted from the fault (outages says why); Served false
	// when no write was acknowledged after the fault.
	Outage time.Duration
	Served bool
	Limit  time.Duration // the most Outage may be; 0: no limit
}

// tally is one phase's figures.
type tally struct {
	Acked, Failed int
	Lost          int // acknowledged, not found
	Doubled       int // found more than once
	// Examples of lost or doubled writes, for the report.
	Examples []string
}

// compare counts, per phase, the acknowledged and failed writes and the
// lost and doubled ones among them, and lists the rows of timed kinds
// that no write of their worker explains (a doubled write whose second
// copy fell outside its request). phases are in order of Start; the
// first phase's Start is the start of the load.
func compare(ws []write, f found, phases []phase) (tallies []tally, unexplained []string) {
	tallies = make([]tally, len(phases))
	phaseOf := func(t time.Time) int {
		i := 0
		for j, p := range phases {
			if !t.Before(p.Start) {
				i = j
			}
		}
		return i
	}
	for _, w := range ws {
		t := &tallies[phaseOf(w.Done)]
		n := occurrences(w, f)
		id := w.Key
		if w.Kind.timed() {
			id = fmt.Sprintf("worker %d at %s", w.Worker, w.Start.Format("15:04:05.000"))
		}
		switch {
		case w.Result == acked:
			t.Acked++
		default:
			t.Failed++
		}
		switch {
		case w.Result == acked && n == 0:
			t.Lost++
			t.Examples = append(t.Examples, fmt.Sprintf("lost %s %s", w.Kind, id))
		case n > 1:
			t.Doubled++
			t.Examples = append(t.Examples, fmt.Sprintf("doubled %s %s (%d times; the client was told %s)", w.Kind, id, n, w.outcomeText()))
		}
	}
	if len(phases) == 0 {
		return tallies, nil
	}
	from := phases[0].Start
	for _, k := range kinds {
		if !k.timed() {
			continue
		}
		for worker, times := range f.at[k] {
			for _, t := range times {
				if t.Before(from.Add(-slack)) {
					continue
				}
				explained := false
				for _, w := range ws {
					if w.Kind == k && w.Worker == worker && !t.Before(w.Start.Add(-slack)) && !t.After(w.Done.Add(slack)) {
						explained = true
						break
					}
				}
				if !explained {
					unexplained = append(unexplained, fmt.Sprintf("%s of worker %d at %s", k, worker, t.Format("15:04:05.000000")))
				}
			}
		}
	}
	slices.Sort(unexplained)
	return tallies, unexplained
}

func (w write) outcomeText() string {
	if w.Result == acked {
		return "success"
	}
	return "failure: " + w.Detail
}

// outages measures each fault's phase: the longest time, from the fault
// to the next one, during which no write was acknowledged. From the
// fault, not from the first write that failed: a postmaster killed stops
// service at once, so the first gap starts at the kill. The longest gap,
// not the first: a switchover asked through Patroni stops service only
// when Patroni demotes the primary, a moment after the request. Under
// the steady load (tens of writes a second), the other gaps are tens of
// milliseconds.
func outages(ws []write, phases []phase) []phase {
	out := slices.Clone(phases)
	for i := range out {
		if i == 0 {
			continue // the load before any fault
		}
		end := time.Time{}
		if i+1 < len(out) {
			end = out[i+1].Start
		}
		out[i].Outage, out[i].Served = longestGap(ws, out[i].Start, end)
	}
	return out
}

// longestGap is the longest time between from and an acknowledged
// write's end, or between two, before end (zero: no end); false when no
// write was acknowledged in that time.
func longestGap(ws []write, from, end time.Time) (time.Duration, bool) {
	var dones []time.Time
	for _, w := range ws {
		if w.Result == acked && !w.Done.Before(from) && (end.IsZero() || w.Done.Before(end)) {
			dones = append(dones, w.Done)
		}
	}
	if len(dones) == 0 {
		return 0, false
	}
	slices.SortFunc(dones, time.Time.Compare)
	longest, prev := time.Duration(0), from
	for _, d := range dones {
		longest = max(longest, d.Sub(prev))
		prev = d
	}
	return longest, true
}
