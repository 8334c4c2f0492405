package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"
)

// validDebugListen accepts an empty address (no profiling listener) or a
// loopback host:port: the profiles show what the server is doing and
// holding, so they are never offered beyond this machine.
func validDebugListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return settingErr("--debug-listen %q (RELAIS_DEBUG_LISTEN) is not host:port; write for example --debug-listen 127.0.0.1:6060.", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return settingErr("--debug-listen %q (RELAIS_DEBUG_LISTEN) is not a loopback address: profiles are only served on this machine; write for example --debug-listen 127.0.0.1:6060.", addr)
	}
	return nil
}

// debugMux serves Go's profiles under /debug/pprof/ and nothing else.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// startDebug opens the profiling listener when --debug-listen is set; the
// function it returns closes it. A CPU profile lasts as long as asked
// (?seconds=N), so the write timeout leaves room for a long one.
func startDebug(addr string, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, settingErr("--debug-listen %s (RELAIS_DEBUG_LISTEN) cannot be opened (%s); choose another port.", addr, shortCause(err))
	}
	srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug listener", "err", err)
		}
	}()
	log.Warn("profiles are served on the debug listener; turn it off when done", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// gcPercent is the garbage collector's target that serve sets when GOGC
// is not in the environment: the heap may grow to three times what is
// live between collections, instead of Go's twice. Relais's live heap is
// small (tens of megabytes, most of it the argon2id pool's), and
// collecting less often was a tenth of an introspection's CPU.
//
// memoryLimit is the soft limit serve sets when GOMEMLIMIT is not in the
// environment: near it, Go collects more often and gives memory back to
// the system, so that 32 logins at once (each password check holds
// 19 MiB while it runs) keep the process under about 250 MB. GOGC and
// GOMEMLIMIT, read by Go's runtime, still set both as an operator wants.
const (
	gcPercent   = 200
	memoryLimit = 192 << 20
)

// tuneGC applies gcPercent and memoryLimit unless getenv gives GOGC or
// GOMEMLIMIT.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
