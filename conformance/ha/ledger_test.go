package main

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestCompare(t *testing.T) {
	phases := []phase{{Name: "before", Start: at(0)}, {Name: "fault", Start: at(1000)}}
	tests := []struct {
		name        string
		ws          []write
		fill        func(f found)
		want        []tally // Examples not compared
		unexplained int
	}{
		{
			name: "an acknowledged registration found once is neither lost nor doubled",
			ws:   []write{{Kind: kindRegistration, Key: "RG 1", Start: at(10), Done: at(20), Result: acked}},
			fill: func(f found) { f.keyed[kindRegistration]["RG 1"] = 1 },
			want: []tally{{Acked: 1}, {}},
		},
		{
			name: "an acknowledged registration missing is lost",
			ws:   []write{{Kind: kindRegistration, Key: "RG 1", Start: at(1010), Done: at(1020), Result: acked}},
			fill: func(found) {},
			want: []tally{{}, {Acked: 1, Lost: 1}},
		},
		{
			name: "a failed write missing is not lost",
			ws:   []write{{Kind: kindEnd, Key: "rep", Start: at(1010), Done: at(1020), Result: failed}},
			fill: func(found) {},
			want: []tally{{}, {Failed: 1}},
		},
		{
			name: "a failed write found once was applied, which a failure allows",
			ws:   []write{{Kind: kindEnd, Key: "rep", Start: at(1010), Done: at(1020), Result: failed}},
			fill: func(f found) { f.keyed[kindEnd]["rep"] = 1 },
			want: []tally{{}, {Failed: 1}},
		},
		{
			name: "a failed write found twice is doubled",
			ws:   []write{{Kind: kindRegistration, Key: "RG 2", Start: at(1010), Done: at(1020), Result: failed}},
			fill: func(f found) { f.keyed[kindRegistration]["RG 2"] = 2 },
			want: []tally{{}, {Failed: 1, Doubled: 1}},
		},
		{
			name: "a token is found by its worker's row within its request",
			ws: []write{
				{Kind: kindToken, Worker: 0, Start: at(100), Done: at(200), Result: acked},
				{Kind: kindToken, Worker: 1, Start: at(100), Done: at(200), Result: acked},
			},
			fill: func(f found) { f.at[kindToken][0] = []time.Time{at(150)} },
			want: []tally{{Acked: 2, Lost: 1}, {}},
		},
		{
			name: "a journal entry truncated to the millisecond still falls within its request",
			ws:   []write{{Kind: kindEvaluation, Worker: 0, Start: at(100).Add(700 * time.Microsecond), Done: at(200), Result: acked}},
			fill: func(f found) { f.at[kindEvaluation][0] = []time.Time{at(100)} },
			want: []tally{{Acked: 1}, {}},
		},
		{
			name: "two rows within one evaluation are a doubled write",
			ws:   []write{{Kind: kindEvaluation, Worker: 0, Start: at(1100), Done: at(1900), Result: acked}},
			fill: func(f found) { f.at[kindEvaluation][0] = []time.Time{at(1200), at(1800)} },
			want: []tally{{}, {Acked: 1, Doubled: 1}},
		},
		{
			name: "a row outside every request of its worker is unexplained",
			ws:   []write{{Kind: kindEvaluation, Worker: 0, Start: at(1100), Done: at(1200), Result: acked}},
			fill: func(f found) { f.at[kindEvaluation][0] = []time.Time{at(1150), at(1500)} },
			want: []tally{{}, {Acked: 1}},
			// at(1500) is no request's
			unexplained: 1,
		},
		{
			name: "rows from before the load (the set-up's code flows) are not unexplained",
			ws:   []write{{Kind: kindToken, Worker: 0, Start: at(100), Done: at(200), Result: acked}},
			fill: func(f found) { f.at[kindToken][0] = []time.Time{at(-5000), at(150)} },
			want: []tally{{Acked: 1}, {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFound()
			tt.fill(f)
			got, unexplained := compare(tt.ws, f, phases)
			type counts struct{ acked, failed, lost, doubled int }
			var gotCounts, wantCounts []counts
			for i := range got {
				if len(got[i].Examples) != got[i].Lost+got[i].Doubled {
					t.Errorf("phase %d: %d examples for %d lost and %d doubled", i, len(got[i].Examples), got[i].Lost, got[i].Doubled)
				}
				gotCounts = append(gotCounts, counts{got[i].Acked, got[i].Failed, got[i].Lost, got[i].Doubled})
			}
			for _, w := range tt.want {
				wantCounts = append(wantCounts, counts{w.Acked, w.Failed, w.Lost, w.Doubled})
			}
			if !slices.Equal(gotCounts, wantCounts) {
				t.Errorf("tallies %+v, want %+v", gotCounts, wantCounts)
			}
			if len(unexplained) != tt.unexplained {
				t.Errorf("unexplained %q, want %d", unexplained, tt.unexplained)
			}
		})
	}
}

func TestOutages(t *testing.T) {
	phases := []phase{{Name: "before", Start: at(0)}, {Name: "kill", Start: at(1000)}, {Name: "switchover", Start: at(9000)},
		{Name: "node lost", Start: at(20000)}}
	ws := []write{
		{Kind: kindToken, Start: at(800), Done: at(900), Result: acked},    // before the fault
		{Kind: kindToken, Start: at(1100), Done: at(1200), Result: failed}, // failed: not service
		{Kind: kindToken, Start: at(1300), Done: at(6500), Result: acked},  // waited across the failover
		{Kind: kindToken, Start: at(6000), Done: at(6600), Result: acked},
		// The switchover: still served a moment after the request, then
		// 3 s without service.
		{Kind: kindToken, Start: at(9000), Done: at(9100), Result: acked},
		{Kind: kindToken, Start: at(9100), Done: at(9200), Result: acked},
		{Kind: kindToken, Start: at(9300), Done: at(12200), Result: acked},
		{Kind: kindToken, Start: at(12200), Done: at(12300), Result: acked},
		// The node lost: nothing acknowledged after it.
		{Kind: kindToken, Start: at(20100), Done: at(20200), Result: failed},
	}
	got := outages(ws, phases)
	if got[0].Served {
		t.Errorf("the phase before the faults has an outage: %+v", got[0])
	}
	if !got[1].Served || got[1].Outage != 5500*time.Millisecond {
		t.Errorf("kill: %+v, want served after 5.5 s (from the kill to the first acknowledged write's end)", got[1])
	}
	if !got[2].Served || got[2].Outage != 3000*time.Millisecond {
		t.Errorf("switchover: %+v, want 3 s (the longest gap, after the writes acknowledged just after the request)", got[2])
	}
	if got[3].Served {
		t.Errorf("node lost: %+v, want not served (no write acknowledged after it)", got[3])
	}
}

func TestOccurrencesOf(t *testing.T) {
	tests := []struct {
		name string
		r    rowsOfRep
		want int
	}{
		{"a representation with its history row, journal entry and notice is one write", rowsOfRep{1, 1, 1, 1}, 1},
		{"a representation without its journal entry is lost", rowsOfRep{1, 1, 0, 1}, 0},
		{"a representation without its notices is lost", rowsOfRep{1, 1, 1, 0}, 0},
		{"nothing is lost", rowsOfRep{}, 0},
		{"two journal entries are a doubled write", rowsOfRep{1, 1, 2, 1}, 2},
		{"two notices where one is queued are a doubled write", rowsOfRep{1, 1, 1, 2}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := occurrencesOf(tt.r, 1); got != tt.want {
				t.Errorf("occurrencesOf(%+v) = %d, want %d", tt.r, got, tt.want)
			}
		})
	}
	if got := mode([]int{1, 2, 1, 3}); got != 1 {
		t.Errorf("mode = %d, want 1", got)
	}
}

func TestAWriteUnderWayAtTheFaultCountsWithTheFault(t *testing.T) {
	phases := []phase{{Name: "before", Start: at(0)}, {Name: "fault", Start: at(1000)}}
	ws := []write{{Kind: kindToken, Start: at(900), Done: at(1100), Result: failed, Detail: "HTTP 503"}}
	got, _ := compare(ws, newFound(), phases)
	if got[0].Failed != 0 || got[1].Failed != 1 {
		t.Errorf("failed before the fault %d, after %d; want 0 and 1", got[0].Failed, got[1].Failed)
	}
}

// TestUnexpectedFailures: during a fault a write may fail with 503 or
// with no answer; a 500, or any failure before the first fault, is a
// defect the run reports.
func TestUnexpectedFailures(t *testing.T) {
	phases := []phase{{Name: "before", Start: at(0)}, {Name: "fault", Start: at(1000)}}
	ws := []write{
		{Kind: "evaluation", Done: at(1500), Result: failed, Status: 503},
		{Kind: "evaluation", Done: at(1600), Result: failed, Detail: "EOF"},
		{Kind: "evaluation", Done: at(1700), Result: acked, Status: 200},
		{Kind: "evaluation", Done: at(1800), Result: failed, Status: 500},
		{Kind: "evaluation", Done: at(1900), Result: failed, Status: 500},
		{Kind: "token", Done: at(500), Result: failed, Status: 503, Detail: "HTTP 503"},
	}
	got := unexpectedFailures(ws, phases)
	want := []string{"2 × fault, evaluation answered 500, not 503", "1 × before, token failed with no fault (HTTP 503)"}
	if !slices.Equal(got, want) {
		t.Errorf("unexpectedFailures = %q, want %q", got, want)
	}
}
