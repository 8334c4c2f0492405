package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// TestAccessEvaluationThroughput runs evaluations through the whole
// handler (client authentication, subjects, policy, journal) on SQLite at
// concurrency 32, in process: a curator's delegate asking to manage for
// the person her service follows. Every one is answered true and is in
// Paul's journal exactly once. It runs for one second; for a measurement
// and a profile, set RELAIS_BENCH_SECONDS:
//
//	RELAIS_BENCH_SECONDS=5 go test ./ui -run AccessEvaluationThroughput -v -cpuprofile /tmp/eval.prof
func TestAccessEvaluationThroughput(t *testing.T) {
	seconds := 1
	if v := os.Getenv("RELAIS_BENCH_SECONDS"); v != "" {
		fmt.Sscan(v, &seconds)
	}
	w := newAccessWorld(t)
	body, _ := json.Marshal(w.question(w.lucie, w.paul, "manage", "argent"))
	var n atomic.Int64
	cpu0 := cpuTime(t)
	before := len(ofType(chainOf(t, w.app, w.paul.ID), mandates.EventAccessEvaluated))
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	conc := 32
	if v := os.Getenv("RELAIS_BENCH_CONCURRENCY"); v != "" {
		fmt.Sscan(v, &conc)
	}
	for range conc {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				req := httptest.NewRequest(http.MethodPost, "/access/v1/evaluation", bytes.NewReader(body))
				req.SetBasicAuth("caf", url.QueryEscape(w.app.secret))
				rec := httptest.NewRecorder()
				w.app.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"decision":true`)) {
					t.Errorf("%d %s", rec.Code, rec.Body)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	// CPU time per evaluation is the figure to compare between changes on a
	// shared machine: throughput moves with the neighbours' load.
	cpu := cpuTime(t) - cpu0
	t.Logf("%d evaluations in %d s: %.0f/s, %.0f µs of CPU each", n.Load(), seconds, float64(n.Load())/float64(seconds),
		float64(cpu.Microseconds())/float64(max(n.Load(), 1)))
	if got := len(ofType(chainOf(t, w.app, w.paul.ID), mandates.EventAccessEvaluated)) - before; n.Load() == 0 || int64(got) != n.Load() {
		t.Errorf("%d evaluations answered, %d journaled", n.Load(), got)
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
