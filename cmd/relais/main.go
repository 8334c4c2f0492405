// Command relais is the Relais server and its administration commands:
// relais serve, relais migrate up|status, relais version. It only wires:
// configuration, stores, the HTTP server, start and stop.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
