package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// run is main without the process: tests call it with their own arguments,
// output and environment. It returns the exit status: 0, 1 for a failure
// at run time, 2 for a setting the operator must fix.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRoot(stdout, stderr, getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ce *configError
	if errors.As(err, &ce) {
		fmt.Fprintln(stderr, "relais: "+ce.msg)
		return 2
	}
	if isUsageError(err) {
		fmt.Fprintf(stderr, "relais: %v; see relais --help.\n", err)
		return 2
	}
	fmt.Fprintln(stderr, "relais: "+err.Error())
	return 1
}

// isUsageError recognises cobra's and pflag's own parsing errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "accepts ", "requires "} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func newRoot(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "relais",
		Short:         "Relais: an OpenID Connect provider for acting online for another person",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newServe(stdout, stderr, getenv), newMigrate(stdout, getenv), newClients(stdout, getenv), newKeys(stdout, getenv), newJournal(stdout, getenv), newPolicy(stdout), newVersion(stdout))
	return root
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
