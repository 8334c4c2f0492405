package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// The defaults of the settings rotation reads; relais serve should use the
// same flag names, variables and values.
const (
	defaultPublishLead = time.Hour
	// jwksCacheAge is the max-age /jwks sends (authz/endpoints.go).
	jwksCacheAge            = time.Minute
	defaultMaxTokenLifetime = 24 * time.Hour
)

func newKeys(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	var secret, alg string
	var lead, lifetime time.Duration
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List or rotate the keys that sign tokens (list, rotate)",
	}
	bindStoreFlags(cmd.PersistentFlags(), &c)
	// prepare reads the variables, runs check on the settings, and only
	// then opens the store.
	prepare := func(cmd *cobra.Command, check func() error) (store, error) {
		if err := applyEnv(cmd.Flags(), getenv); err != nil {
			return nil, err
		}
		if c.BusyTimeout <= 0 {
			return nil, settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
		}
		if err := check(); err != nil {
			return nil, err
		}
		st, _, err := openStore(cmd.Context(), &c)
		return st, err
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys and what each does now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := prepare(cmd, func() error { return nil })
			if err != nil {
				return err
			}
			defer st.Close()
			// Listing reads public data only: no secret key needed.
			keys := keyring.NewKeys(st, nil, time.Now, 0, 0)
			status, err := keys.Status(cmd.Context())
			if err != nil {
				return fmt.Errorf("list signing keys: %w", err)
			}
			if len(status) == 0 {
				fmt.Fprintln(stdout, "no signing keys yet: relais serve creates them at start")
				return nil
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tALG\tGEN\tSTATE\tSIGNS FROM\tRETIRED AT\tPUBLISHED UNTIL")
			for _, k := range status {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", k.ID, k.Alg, k.Generation, k.State,
					stamp(k.SignFrom), stamp(k.RetiredAt), stamp(k.PublishUntil))
			}
			return tw.Flush()
		},
	}

	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Add the next signing key: published now, signing after --publish-lead",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var key []byte
			st, err := prepare(cmd, func() error {
				switch {
				case alg != keyring.ES256 && alg != keyring.RS256:
					return settingErr("--alg %q is unknown; use ES256 or RS256.", alg)
				case lead < 0:
					return settingErr("--publish-lead (RELAIS_PUBLISH_LEAD) must not be negative, for example 1h.")
				case lifetime <= 0:
					return settingErr("--max-token-lifetime (RELAIS_MAX_TOKEN_LIFETIME) must be positive, for example 24h.")
				}
				var err error
				key, err = parseSecretKey(secret)
				return err
			})
			if err != nil {
				return err
			}
			defer st.Close()
			box, err := keyring.NewSecretBox(key)
			if err != nil {
				return err
			}
			keys := keyring.NewKeys(st, box, time.Now, lead, lifetime)
			var next keyring.SigningKey
			err = st.InTx(cmd.Context(), func(ctx context.Context) error {
				var err error
				if next, err = keys.Rotate(ctx, alg); err != nil {
					return err
				}
				return adminEvent(ctx, st, mandates.EventKeyRotated, "", map[string]string{"kid": next.ID, "alg": next.Alg})
			})
			switch {
			case errors.Is(err, mandates.ErrConflict):
				return fmt.Errorf("another rotation of %s was written at the same moment; run relais keys list to see it", alg)
			case err != nil:
				return secretKeyMismatch(err)
			}
			fmt.Fprintf(stdout, "added %s key %s: published now, signs from %s; the key it replaces stays published until %s\n",
				next.Alg, next.ID, stamp(next.SignFrom), stamp(next.SignFrom.Add(lifetime)))
			if lead < jwksCacheAge {
				fmt.Fprintf(stdout, "warning: --publish-lead %s is shorter than the %s sites may cache the JWKS: a site may meet the new key before it has fetched it\n",
					lead, jwksCacheAge)
			}
			return nil
		},
	}
	rotate.Flags().StringVar(&alg, "alg", keyring.ES256, "algorithm of the key to rotate: ES256 or RS256")
	rotate.Flags().DurationVar(&lead, "publish-lead", defaultPublishLead, "how long the new key is published before it signs")
	rotate.Flags().DurationVar(&lifetime, "max-token-lifetime", defaultMaxTokenLifetime, "longest lifetime of a signed token: how long the old key stays published once retired")
	rotate.Flags().StringVar(&secret, "secret-key", "", "base64 of the 32-byte key that encrypts signing keys at rest (prefer RELAIS_SECRET_KEY: a flag shows in the process list)")

	cmd.AddCommand(list, rotate)
	return cmd
}

// stamp writes a time for operators, or "-" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}
