package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/printing"
	"github.com/relais-fr/relais/notices/words"
)

// bindNoticeSenderFlags binds who the letters come from, with the names
// and variables of serve's (bindNoticeFlags): a deployment sets them once.
func bindNoticeSenderFlags(fs *pflag.FlagSet, c *NoticeConfig) {
	fs.StringVar(&c.From, "notice-from", "", "the name letters come from, at their top, e.g. \"France Services Nantes\"")
	fs.StringVar(&c.Address, "notice-address", "", "the postal address people write to, lines separated by ;, e.g. \"4 rue de la Maison Neuve; 44000 Nantes\"")
	fs.StringVar(&c.Phone, "notice-phone", "", "the phone number people call about a letter, e.g. \"02 40 41 42 43\"")
}

// printer checks the letterhead once: a setting to fix (exit 2) when a
// part is missing or too wide for the letter.
func (c *NoticeConfig) printer() (*letter.Printer, error) {
	p, err := letter.NewPrinter(c.letterhead())
	if err != nil {
		return nil, settingErr("--notice-from, --notice-address and --notice-phone (RELAIS_NOTICE_FROM, RELAIS_NOTICE_ADDRESS, RELAIS_NOTICE_PHONE) must all be set, each line at most half a page wide; for example --notice-from \"France Services Nantes\" --notice-address \"4 rue de la Maison Neuve; 44000 Nantes\" --notice-phone \"02 40 41 42 43\".")
	}
	return p, nil
}

// newNotices is relais notices print.
func newNotices(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notices",
		Short: "Print the paper letters waiting to be posted (print)",
	}
	cmd.AddCommand(newNoticesPrint(stdout, stderr, getenv))
	return cmd
}

func newNoticesPrint(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	var (
		c        Config
		sender   NoticeConfig
		out      string
		manifest string
		dryRun   bool
		limit    int
	)
	cmd := &cobra.Command{
		Use:   "print --out batch.pdf",
		Short: "Put the letters not yet handed to the print service into one PDF with a CSV manifest, and mark them handed over",
		Long: `Gathers the paper letters not yet handed over to the print-and-post service into one
PDF (--out) and a CSV manifest (reference, recipient, pages; --manifest, by default beside
--out with .csv). The letters are marked handed over only once both files are complete on
disk: a run stopped halfway marks nothing. A letter whose postal address is missing or
incomplete is left out, named on stderr, and shown to operators; it is printed by a later
run once the address is corrected. --dry-run lists what would be printed and marks nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), getenv); err != nil {
				return err
			}
			if c.BusyTimeout <= 0 {
				return settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
			}
			if out == "" && !dryRun {
				return settingErr("--out names the PDF to write, for example --out batch.pdf.")
			}
			if limit <= 0 {
				return settingErr("--limit must be positive, for example 1000.")
			}
			if manifest == "" && out != "" {
				manifest = strings.TrimSuffix(out, filepath.Ext(out)) + ".csv"
			}
			printer, err := sender.printer()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, kind, err := openDB(ctx, &c)
			if err != nil {
				return err
			}
			defer st.Close()
			if kind == "sqlite" {
				if _, err := migrateUp(ctx, st); err != nil {
					return err
				}
			} else if err := schemaCurrent(ctx, st); err != nil {
				return err
			}
			codes, err := printCodes(c.SecretKey)
			if err != nil {
				return err
			}
			w, err := words.New(st, words.Options{Sender: strings.TrimSpace(sender.From), Contact: sender.contact(), Now: time.Now,
				Site: strings.TrimSpace(c.Issuer), Codes: codes})
			if err != nil {
				return err
			}
			run := &printing.Run{Store: st, Writer: w, Printer: printer, Now: time.Now, Limit: limit}
			var plan printing.Plan
			if dryRun {
				plan, err = run.Plan(ctx)
			} else {
				plan, err = run.Print(ctx, out, manifest)
			}
			reportUnprintable(stderr, plan.Unprintable)
			var ee *printing.ExistsError
			if errors.As(err, &ee) {
				return settingErr("%s already exists, or --out and --manifest name one file; a print run never replaces a file (it may be a batch not yet posted): choose another --out or --manifest.", ee.Path)
			}
			if err != nil {
				return fmt.Errorf("print the letters (nothing was marked handed over): %w", err)
			}
			if dryRun {
				for _, l := range plan.Letters {
					fmt.Fprintf(stdout, "%s\t%s\t%s\n", l.Reference(), l.Message.To.Name, l.Notice.Kind)
				}
				fmt.Fprintf(stdout, "%d letters would be printed; nothing was marked.\n", len(plan.Letters))
				return nil
			}
			if len(plan.Letters) == 0 {
				fmt.Fprintln(stdout, "No letter to print; no file written.")
				return nil
			}
			pages := 0
			for _, l := range plan.Letters {
				pages += l.Pages
			}
			fmt.Fprintf(stdout, "%d letters (%d pages) in %s, listed in %s, marked handed over.\n", len(plan.Letters), pages, out, manifest)
			return nil
		},
	}
	fs := cmd.Flags()
	bindStoreFlags(fs, &c)
	bindNoticeSenderFlags(fs, &sender)
	fs.StringVar(&out, "out", "", "the PDF to write, for example batch.pdf; it must not exist")
	fs.StringVar(&manifest, "manifest", "", "the CSV manifest to write (default: --out with .csv); it must not exist")
	fs.BoolVar(&dryRun, "dry-run", false, "list the letters that would be printed (reference, recipient, kind) and mark nothing")
	fs.IntVar(&limit, "limit", printing.DefaultLimit, "at most this many letters in one batch, oldest first")
	fs.StringVar(&c.SecretKey, "secret-key", "", "serve's key (prefer RELAIS_SECRET_KEY): it opens the codes of activation and reset letters; without it they are left out")
	fs.StringVar(&c.Issuer, "issuer", "", "serve's public URL (RELAIS_ISSUER): a code letter names the page to type its code on")
	return cmd
}

// printCodes opens the codes that activation and reset letters carry
// (notices.CodeNotices), with serve's secret key; nil without a key, and
// such letters are left out (reportUnprintable says why).
func printCodes(secretKey string) (notices.Sealer, error) {
	if strings.TrimSpace(secretKey) == "" {
		return nil, nil
	}
	key, err := parseSecretKey(secretKey)
	if err != nil {
		return nil, err
	}
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		return nil, err
	}
	return box.Derive(noticeCodesKey), nil
}

// reportUnprintable names each letter left out, and why, on stderr.
func reportUnprintable(stderr io.Writer, us []printing.Unprintable) {
	for _, u := range us {
		var ae *letter.AddressError
		var pe *notices.PermanentError
		why := "the letter cannot be laid out"
		switch {
		case errors.As(u.Reason, &ae):
			why = fmt.Sprintf("the postal address is missing or incomplete (%s: %s)", ae.Field, ae.Rule)
		case errors.Is(u.Reason, notices.ErrNoCode):
			why = "it carries an account code, which only serve's key opens: give --secret-key (RELAIS_SECRET_KEY) the key relais serve runs with"
		case errors.As(u.Reason, &pe):
			why = fmt.Sprintf("it cannot be written (%s)", pe.Code)
		}
		fmt.Fprintf(stderr, "relais: letter %s (notice %s, %s) left out: %s; correct it, a later run prints it.\n",
			words.Reference(u.Notice.ID), u.Notice.ID, u.Notice.Kind, why)
	}
}
