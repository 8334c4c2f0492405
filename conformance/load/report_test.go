package main

import (
	"slices"
	"testing"
	"time"
)

// TestTableLines: the results of -scenario all become one GitHub table,
// one row per scenario and repetition, with a dash where a measure does
// not apply or was not taken.
func TestTableLines(t *testing.T) {
	rs := []result{
		{scenario: "client_credentials", rep: 1, requests: 20000, elapsed: 10 * time.Second,
			p50: 12300 * time.Microsecond, p99: 45600 * time.Microsecond, errors: 3,
			server:    &serverUse{cpu: 9 * time.Second, peakKB: 51200},
			reference: "ES256 sign 30000/s per core", ratio: "13.5× a signature"},
		{scenario: "code", rep: 1, requests: 1500, elapsed: 10 * time.Second, perFlow: true, flows: 125,
			p50: 2 * time.Millisecond, p99: 250 * time.Millisecond,
			server:    &serverUse{cpu: 15 * time.Second, peakKB: 102912},
			reference: "argon2id ceiling 20.0/s", ratio: "0.63"},
		{scenario: "discovery", rep: 2, requests: 50000, elapsed: 10 * time.Second, p50: 500 * time.Microsecond, p99: time.Millisecond},
		{scenario: "evaluation", rep: 2, setupErr: "HTTP 401: a|b"},
	}
	want := []string{
		"| scenario | rep | req/s | flows/s (code only) | p50 ms | p99 ms | errors | server CPU ms/req | server peak RSS MB | reference | ratio |",
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
		"| client_credentials | 1 | 2000 | – | 12.3 | 45.6 | 3 | 0.45 | 50.0 | ES256 sign 30000/s per core | 13.5× a signature |",
		"| code | 1 | 150 | 12.5 | 2.0 | 250.0 | 0 | 10.00 (120.0/flow) | 100.5 | argon2id ceiling 20.0/s | 0.63 |",
		"| discovery | 2 | 5000 | – | 0.5 | 1.0 | 0 | – | – | – | – |",
		`| evaluation | 2 | – | – | – | – | set-up failed: HTTP 401: a\|b | – | – | – | – |`,
	}
	got := tableLines(rs)
	if !slices.Equal(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("line %d:\n got %s\nwant %s", i, g, w)
			}
		}
	}
}
