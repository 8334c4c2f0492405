package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/relais-fr/relais/mandates"
)

// newPolicy is relais policy show|check: the default policy file, for a
// deployment to copy and adapt, and the check serve --policy makes.
func newPolicy(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Show or check the policy of who may do what under each representation"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the default policy file",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := stdout.Write(mandates.DefaultPolicyFile())
			return err
		},
	}, &cobra.Command{
		Use:   "check FILE",
		Short: "Check a policy file as relais serve --policy would",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := loadPolicy(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: policy version %s is valid.\n", args[0], p.Version)
			return nil
		},
	})
	return cmd
}
