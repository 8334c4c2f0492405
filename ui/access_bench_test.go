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
)

// TestAccessEvaluationThroughput runs evaluations through the whole
// handler (client authentication, subjects, policy) on SQLite for a few
// seconds at concurrency 32, in process, for profiling: a curator's
// delegate asking to manage for the person her service follows. It runs
// only when RELAIS_BENCH is set:
//
//	RELAIS_BENCH=1 go test ./ui -run AccessEvaluationThroughput -v -cpuprofile /tmp/eval.prof
func TestAccessEvaluationThroughput(t *testing.T) {
	if os.Getenv("RELAIS_BENCH") == "" {
		t.Skip("set RELAIS_BENCH=1 to measure")
	}
	w := newAccessWorld(t)
	body, _ := json.Marshal(w.question(w.lucie, w.paul, "manage", "argent"))
	var n atomic.Int64
	cpu0 := cpuTime(t)
	deadline := time.Now().Add(5 * time.Second)
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
				if rec.Code != http.StatusOK {
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
	t.Logf("%d evaluations in 5 s: %.0f/s, %.0f µs of CPU each", n.Load(), float64(n.Load())/5,
		float64(cpu.Microseconds())/float64(max(n.Load(), 1)))
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
