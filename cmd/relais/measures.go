package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/importcsv"
	"github.com/relais-fr/relais/mandates/journal"
)

// newMeasures is relais measures import: court measures registered in
// bulk from the CSV file an MJPM service or a court registry exports
// (docs/accounts.md, « Importing measures »), an operator's act.
func newMeasures(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "measures",
		Short: "Register court measures in bulk from a CSV file (import)",
	}
	cmd.AddCommand(newMeasuresImport(stdout, stderr, getenv))
	return cmd
}

func newMeasuresImport(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	var (
		c        Config
		file, op string
		dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   "import --csv FILE --operator ID-or-EMAIL",
		Short: "Register the measures of a CSV file: all its lines, or none when one is wrong",
		Long: "Register the persons and court measures of a CSV file (columns in docs/accounts.md), as the operator --operator.\n" +
			"Persons are found by their identité pivot, or their account is opened; a decision already registered is left as it is.\n" +
			"Every wrong line is reported with its line and column, in French and English; if one line is wrong, nothing is written.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), getenv); err != nil {
				return err
			}
			if c.BusyTimeout <= 0 {
				return settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
			}
			if file == "" {
				return settingErr("--csv names the file to import, for example --csv mesures.csv.")
			}
			if strings.TrimSpace(op) == "" {
				return settingErr("--operator names the operator who registers the measures: their account's id or email address.")
			}
			in, err := os.Open(file)
			if err != nil {
				return settingErr("--csv %s cannot be read (%s); check the path.", file, shortCause(err))
			}
			defer in.Close()
			ctx := cmd.Context()
			st, _, err := openStore(ctx, &c)
			if err != nil {
				return err
			}
			defer st.Close()
			operator, err := st.PersonByEmail(ctx, op)
			if errors.Is(err, mandates.ErrNotFound) && mandates.IsID(op) {
				operator, err = st.Person(ctx, op)
			}
			if errors.Is(err, mandates.ErrNotFound) {
				return settingErr("--operator %s: no account has this id or email address; give an operator's.", op)
			}
			if err != nil {
				return err
			}
			days, err := noticeDays()
			if err != nil {
				return err
			}
			look := noticeLookup(st, nil)
			look.Location = days
			// The same sink as serve's: each act journaled, and the
			// notices it causes written in its transaction.
			svc := mandates.NewService(st, noticeSink(st, journal.New(st, journal.Options{}), look), mandates.ServiceConfig{})
			rep, err := importcsv.Import(ctx, svc, mandates.Actor{PersonID: operator.ID}, in, dryRun)
			if errors.Is(err, mandates.ErrNotPermitted) {
				return settingErr("--operator %s is not an operator: only an operator registers measures.", op)
			}
			if err != nil {
				return err
			}
			return printImport(stdout, stderr, rep)
		},
	}
	fs := cmd.Flags()
	bindStoreFlags(fs, &c)
	fs.StringVar(&file, "csv", "", "the CSV file to import: « ; » or « , » separated, UTF-8 (docs/accounts.md lists its columns)")
	fs.StringVar(&op, "operator", "", "the operator who registers the measures: their account's id or email address")
	fs.BoolVar(&dryRun, "dry-run", false, "say what the import would do, and write nothing")
	return cmd
}

// errImportRefused: the file has wrong lines, and nothing was imported
// (exit 1, after the lines are listed).
var errImportRefused = errors.New("nothing was imported: correct the lines listed, then import the whole file again (rien n’a été importé : corrigez les lignes indiquées, puis importez de nouveau tout le fichier)")

// printImport writes the report: each good line and what became of it on
// stdout, each problem on stderr in French then English, and the counts.
func printImport(stdout, stderr io.Writer, rep mandates.ImportReport) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(rep.Results) > 0 {
		fmt.Fprintln(tw, "LINE\tMEASURE\tPERSON\t")
	}
	for _, r := range rep.Results {
		person := r.PersonID + " (found)"
		if r.PersonCreated {
			person = r.PersonID + " (account opened)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t\n", r.Line, strings.ReplaceAll(string(r.Outcome), "_", " "), person)
	}
	tw.Flush()
	for _, p := range rep.Problems {
		words := locales.ImportProblem(p.Line, importcsv.Column(p), p.Field, p.Rule, p.Limit)
		fmt.Fprintf(stderr, "%s\n  %s\n", words.FR, words.EN)
	}
	if rep.Written {
		fmt.Fprintf(stdout, "%d measures registered, %d accounts opened, %d already registered.\n", rep.MeasuresCreated, rep.PersonsCreated, rep.AlreadyRegistered)
	} else {
		fmt.Fprintf(stdout, "%d measures would be registered, %d accounts would be opened, %d already registered.\n", rep.MeasuresCreated, rep.PersonsCreated, rep.AlreadyRegistered)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stderr, "%d problems in the file (%d erreurs dans le fichier).\n", len(rep.Problems), len(rep.Problems))
		return errImportRefused
	}
	if rep.DryRun {
		fmt.Fprintln(stdout, "Dry run: nothing was written (essai : rien n’a été écrit).")
	}
	return nil
}
