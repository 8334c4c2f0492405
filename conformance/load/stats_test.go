package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// TestErrorKindsAreKnownByTheirErrors: the load report counts transport
// failures by kind, told by the system's error numbers, not by text.
func TestErrorKindsAreKnownByTheirErrors(t *testing.T) {
	// A port just closed on loopback refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://" + addr + "/")
	if refused == nil {
		t.Fatal("a closed port accepted a connection")
	}
	// What net/http returns when the server resets the connection.
	reset := &url.Error{Op: "Post", URL: "http://127.0.0.1/login",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a closed port refuses the connection", refused, "connection refused"},
		{"the server resets the connection", reset, "connection reset"},
		{"the deadline passes", fmt.Errorf("post: %w", context.DeadlineExceeded), "timeout"},
		{"anything else is a transport error", &url.Error{Op: "Get", URL: "http://x/", Err: fmt.Errorf("malformed HTTP response")}, "transport error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorKind(tt.err); got != tt.want {
				t.Errorf("errorKind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
