package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// recorder gathers what the workers measure. One lock is enough: it is
// held for an append, against an HTTP round trip of a hundred times that.
type recorder struct {
	mu        sync.Mutex
	measuring bool
	latencies []time.Duration
	status    map[int]int
	transport map[string]int
	flows     []time.Duration
	flowErrs  map[string]int
}

func (r *recorder) reset(measuring bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.measuring = measuring
	r.latencies = make([]time.Duration, 0, 1<<16)
	r.flows = r.flows[:0]
	r.status = map[int]int{}
	r.transport = map[string]int{}
	r.flowErrs = map[string]int{}
}

// request records one HTTP request: a status, or a transport error.
func (r *recorder) request(start time.Time, status int, err error) {
	d := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.measuring {
		return
	}
	r.latencies = append(r.latencies, d)
	if err != nil {
		r.transport[errorKind(err)]++
		return
	}
	r.status[status]++
}

func (r *recorder) flow(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.measuring {
		r.flows = append(r.flows, d)
	}
}

func (r *recorder) flowError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.measuring {
		msg := err.Error()
		if len(msg) > 120 {
			msg = msg[:120] + "…"
		}
		r.flowErrs[msg]++
	}
}

func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return "transport error"
}

// percentile of sorted d, nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// print writes the measured phase's report and returns it as a result.
func (r *recorder) print(out io.Writer, elapsed time.Duration, perFlow bool) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := elapsed.Seconds()
	n := len(r.latencies)
	slices.Sort(r.latencies)
	errs := 0
	var codes []int
	for code, c := range r.status {
		codes = append(codes, code)
		if code >= 400 {
			errs += c
		}
	}
	sort.Ints(codes)
	var parts []string
	for _, code := range codes {
		parts = append(parts, fmt.Sprintf("%d: %d", code, r.status[code]))
	}
	for kind, c := range r.transport {
		errs += c
		parts = append(parts, fmt.Sprintf("%s: %d", kind, c))
	}
	fmt.Fprintf(out, "requests   %d in %.1f s = %.0f req/s\n", n, secs, float64(n)/secs)
	fmt.Fprintf(out, "statuses   %s\n", strings.Join(parts, ", "))
	fmt.Fprintf(out, "errors     %d (statuses >= 400 and transport errors)\n", errs)
	fmt.Fprintf(out, "latency    p50 %s  p95 %s  p99 %s  max %s\n",
		ms(percentile(r.latencies, .50)), ms(percentile(r.latencies, .95)), ms(percentile(r.latencies, .99)), ms(percentile(r.latencies, 1)))
	if perFlow || len(r.flowErrs) > 0 {
		slices.Sort(r.flows)
		failed := 0
		for _, c := range r.flowErrs {
			failed += c
		}
		label := "steps"
		if perFlow {
			label = "flows"
		}
		fmt.Fprintf(out, "%-10s %d completed = %.1f/s, %d failed\n", label, len(r.flows), float64(len(r.flows))/secs, failed)
		if perFlow && len(r.flows) > 0 {
			fmt.Fprintf(out, "per flow   p50 %s  p95 %s  p99 %s  max %s\n",
				ms(percentile(r.flows, .50)), ms(percentile(r.flows, .95)), ms(percentile(r.flows, .99)), ms(percentile(r.flows, 1)))
		}
		for msg, c := range r.flowErrs {
			fmt.Fprintf(out, "  %d× %s\n", c, msg)
		}
	}
	return result{requests: n, elapsed: elapsed, p50: percentile(r.latencies, .50), p99: percentile(r.latencies, .99),
		errors: errs, perFlow: perFlow, flows: len(r.flows)}
}
