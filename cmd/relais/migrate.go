package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newMigrate(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or show the database migrations (up, status)",
	}
	bindStoreFlags(cmd.PersistentFlags(), &c)
	prepare := func(cmd *cobra.Command) (store, error) {
		if err := applyEnv(cmd.Flags(), getenv); err != nil {
			return nil, err
		}
		if c.BusyTimeout <= 0 {
			return nil, settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
		}
		st, _, err := openDB(cmd.Context(), &c)
		return st, err
	}
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := prepare(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := migrateUp(cmd.Context(), st)
			for _, r := range res {
				fmt.Fprintf(stdout, "applied %05d %s (%s)\n", r.Source.Version, r.Source.Path, r.Duration.Round(1e6))
			}
			if err != nil {
				return err
			}
			if len(res) == 0 {
				fmt.Fprintln(stdout, "the schema is up to date")
			}
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "List the migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := prepare(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := st.Migrations()
			if err != nil {
				return err
			}
			defer p.Close()
			list, err := p.Status(cmd.Context())
			if err != nil {
				return fmt.Errorf("migration status: %w", err)
			}
			for _, m := range list {
				when := "pending"
				if !m.AppliedAt.IsZero() {
					when = "applied " + m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
				}
				fmt.Fprintf(stdout, "%05d %-30s %s\n", m.Source.Version, m.Source.Path, when)
			}
			return nil
		},
	}
	cmd.AddCommand(up, status)
	return cmd
}
