package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// result is one measured run of one scenario.
type result struct {
	scenario string
	rep      int
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	errors   int  // statuses >= 400 and transport errors
	perFlow  bool // the code flow: flows are counted too
	flows    int
	setupErr string     // set-up failed and nothing was measured
	server   *serverUse // nil without -pid

	reference, ratio string // what the rate is compared with, in the same run
}

func (r result) rate() float64 { return perSecond(r.requests, r.elapsed) }

func (r result) flowRate() float64 { return perSecond(r.flows, r.elapsed) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// cpuPer is the server's CPU time for each of n things done in the phase.
func (r result) cpuPer(n int) (time.Duration, bool) {
	if r.server == nil || n == 0 {
		return 0, false
	}
	return r.server.cpu / time.Duration(n), true
}

const none = "–"

var tableHeader = []string{"scenario", "rep", "req/s", "flows/s (code only)", "p50 ms", "p99 ms", "errors",
	"server CPU ms/req", "server peak RSS MB", "reference", "ratio"}

// tableLines is the results as a GitHub markdown table, one row per
// scenario and repetition, numbers aligned right.
func tableLines(rs []result) []string {
	align := []string{"---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---"}
	lines := []string{row(tableHeader), row(align)}
	for _, r := range rs {
		lines = append(lines, row(r.cells()))
	}
	return lines
}

func printTable(out io.Writer, rs []result) {
	for _, l := range tableLines(rs) {
		fmt.Fprintln(out, l)
	}
}

func row(cells []string) string {
	return "| " + strings.Join(cells, " | ") + " |"
}

func (r result) cells() []string {
	c := []string{r.scenario, fmt.Sprint(r.rep), none, none, none, none, none, none, none, or(r.reference), or(r.ratio)}
	if r.setupErr != "" {
		c[6] = "set-up failed: " + r.setupErr
	} else {
		c[2] = fmt.Sprintf("%.0f", r.rate())
		if r.perFlow {
			c[3] = fmt.Sprintf("%.1f", r.flowRate())
		}
		c[4], c[5] = msCell(r.p50), msCell(r.p99)
		c[6] = fmt.Sprint(r.errors)
	}
	if perReq, ok := r.cpuPer(r.requests); ok {
		c[7] = msCell2(perReq)
		if perFlow, ok := r.cpuPer(r.flows); ok && r.perFlow {
			c[7] += " (" + msCell(perFlow) + "/flow)"
		}
	}
	if r.server != nil {
		c[8] = fmt.Sprintf("%.1f", float64(r.server.peakKB)/1024)
	}
	for i := range c {
		// A pipe in a cell would end it.
		c[i] = strings.ReplaceAll(c[i], "|", `\|`)
	}
	return c
}

func or(s string) string {
	if s == "" {
		return none
	}
	return s
}

func msCell(d time.Duration) string  { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
func msCell2(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Nanoseconds())/1e6) }
