package main

import (
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// The profiling listener serves Go's profiles and nothing else; without
// --debug-listen there is none.
func TestTheDebugListenerServesProfilesOnly(t *testing.T) {
	srv := httptest.NewServer(debugMux())
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d %.80q", code, body)
	}
	if code, body := get("/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.80q", code, body)
	}
	for _, path := range []string{"/", "/.well-known/openid-configuration", "/metrics"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("%s on the debug listener: %d, want 404", path, code)
		}
	}
	stop, err := startDebug("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("no --debug-listen: %v", err)
	}
	stop()
}

// serve with --debug-listen answers profiles on that address only; the
// service's own address has no /debug/pprof.
func TestServeOffersProfilesOnItsDebugAddressOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := ln.Addr().String()
	ln.Close()
	base, _, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + filepath.Join(t.TempDir(), "relais.db"), "--debug-listen", debugAddr})
	if code, _ := get(t, base+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/ on the service's address: %d, want 404", code)
	}
	if code, body := get(t, "http://"+debugAddr+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ on the debug address: %d %.80q", code, body)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if _, err := http.Get("http://" + debugAddr + "/debug/pprof/"); err == nil {
		t.Error("the debug listener still answers after serve stopped")
	}
}

// serve collects garbage less often than Go's default, with a soft memory
// limit, unless GOGC and GOMEMLIMIT say otherwise.
func TestServeTunesTheCollectorUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	tuneGC(envOf("GOGC", "50", "GOMEMLIMIT", "1GiB"))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target became %d; want it left alone", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d; want it left alone", got)
	}
	tuneGC(noEnv)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC, the target is %d, want %d", got, gcPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != memoryLimit {
		t.Errorf("without GOMEMLIMIT, the limit is %d, want %d", got, memoryLimit)
	}
}
