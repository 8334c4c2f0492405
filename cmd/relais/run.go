package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

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
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if cmd == root && !isUsageError(err) {
		// The root command runs nothing itself: an error that stops there
		// is cobra's, finding no command of that name.
		err = &usageError{err}
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

// usageError is a command line cobra or pflag could not parse: an unknown
// command or flag, a flag without its value or with a bad one, a wrong
// number of arguments. run says so and points to --help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func isUsageError(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

// markUsageErrors makes cobra's and pflag's parsing errors under root
// *usageError where they arise: a flag's through cobra's flag error
// function, which every command inherits, and the arguments' through each
// command's validator.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if valid := c.Args; valid != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := valid(cmd, args); err != nil {
					return &usageError{err}
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func newRoot(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:           "relais",
		Short:         "Relais: an OpenID Connect provider for acting online for another person",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newServe(stdout, stderr, getenv), newMigrate(stdout, getenv), newClients(stdout, getenv), newKeys(stdout, getenv), newJournal(stdout, getenv), newNotices(stdout, stderr, getenv), newMeasures(stdout, stderr, getenv), newPersons(stdout, getenv), newPolicy(stdout), newBackup(stdout, getenv), newRestore(stdout, getenv), newVersion(stdout))
	markUsageErrors(root)
	return root
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
