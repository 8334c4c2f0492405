package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
)

// newPersons is relais persons create|list|show: accounts opened at a
// desk from the command line (docs/accounts.md), as an operator's act.
func newPersons(stdout io.Writer, getenv func(string) string) *cobra.Command {
	var c Config
	cmd := &cobra.Command{
		Use:   "persons",
		Short: "Open an account at a desk (with its activation letter), list and show persons",
	}
	shared := cmd.PersistentFlags()
	bindStoreFlags(shared, &c)
	var operator string
	shared.StringVar(&operator, "operator", "", "the operator whose act it is: their id or email address (required)")
	open := func(cmd *cobra.Command) (*personsRun, error) {
		// Only the shared flags take RELAIS_* defaults: a person's name
		// left in the environment would open the wrong account.
		if err := applyEnv(shared, getenv); err != nil {
			return nil, err
		}
		if c.BusyTimeout <= 0 {
			return nil, settingErr("--busy-timeout (RELAIS_BUSY_TIMEOUT) must be positive, for example 5s.")
		}
		ctx := cmd.Context()
		st, kind, err := openStore(ctx, &c)
		if err != nil {
			return nil, err
		}
		if kind == "sqlite" {
			_, err = migrateUp(ctx, st)
		} else {
			err = schemaCurrent(ctx, st)
		}
		if err != nil {
			st.Close()
			return nil, err
		}
		sink := noticeSink(st, journal.New(st, journal.Options{}), noticeLookup(st, nil))
		r := &personsRun{st: st, sink: sink, service: mandates.NewService(st, sink, mandates.ServiceConfig{})}
		if r.op, err = r.operator(ctx, operator); err != nil {
			st.Close()
			return nil, err
		}
		return r, nil
	}
	cmd.AddCommand(newPersonsCreate(stdout, getenv, open), newPersonsList(stdout, open), newPersonsShow(stdout, open))
	return cmd
}

// personsRun is what each persons command works with.
type personsRun struct {
	st      store
	sink    mandates.EventSink
	service *mandates.Service
	op      mandates.Actor
}

// operator finds whose act it is, by id or email; the domain then says
// whether they may.
func (r *personsRun) operator(ctx context.Context, who string) (mandates.Actor, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return mandates.Actor{}, settingErr("--operator names the operator whose act it is: their id or email address.")
	}
	if mandates.IsID(who) {
		return mandates.Actor{PersonID: who}, nil
	}
	p, err := r.st.PersonByEmail(ctx, who)
	if errors.Is(err, mandates.ErrNotFound) {
		return mandates.Actor{}, settingErr("--operator %q: no account has this email address.", who)
	}
	return mandates.Actor{PersonID: p.ID}, err
}

// personsFlags are the flags of relais persons create: every field of
// mandates.AccountInput.
type personsFlags struct {
	given, family, preferred, gender, birthDate  string
	birthPlace, birthPlaceCode, birthCountry     string
	street, postalCode, locality, country, email string
	phone, language, secretKey                   string
	identityChecked, homonym                     bool
}

func (f *personsFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.given, "given-names", "", "all given names, in order, as on the identity document (required)")
	fs.StringVar(&f.family, "family-name", "", "the name at birth (required)")
	fs.StringVar(&f.preferred, "preferred-name", "", "the name in use, when it differs")
	fs.StringVar(&f.gender, "gender", "", "female or male, as on the identity document (required)")
	fs.StringVar(&f.birthDate, "birth-date", "", "YYYY-MM-DD (required)")
	fs.StringVar(&f.birthPlace, "birth-place", "", "the town of birth, e.g. Nantes")
	fs.StringVar(&f.birthPlaceCode, "birth-place-code", "", "the INSEE code of the town of birth, e.g. 44109")
	fs.StringVar(&f.birthCountry, "birth-country", "", "the INSEE code of the country of birth, for a birth outside France, e.g. 99134")
	fs.StringVar(&f.street, "street", "", "number and street of the postal address, lines separated by ; (required: the activation letter goes there)")
	fs.StringVar(&f.postalCode, "postal-code", "", "postal code (required)")
	fs.StringVar(&f.locality, "locality", "", "town of the postal address (required)")
	fs.StringVar(&f.country, "country", "", "country of the postal address, empty for France")
	fs.StringVar(&f.email, "email", "", "email address, optional")
	fs.StringVar(&f.phone, "phone", "", "mobile phone number, optional")
	fs.StringVar(&f.language, "language", "fr", "language of the letters: fr or en")
	fs.BoolVar(&f.identityChecked, "identity-checked", false, "you checked an identity document of the person (required)")
	fs.BoolVar(&f.homonym, "homonym", false, "you checked that the person is not the one who already has an account with the same identity")
	fs.StringVar(&f.secretKey, "secret-key", "", "serve's key (prefer RELAIS_SECRET_KEY): it seals the activation code in the letter")
}

func newPersonsCreate(stdout io.Writer, getenv func(string) string, open func(*cobra.Command) (*personsRun, error)) *cobra.Command {
	var f personsFlags
	cmd := &cobra.Command{
		Use:   "create --operator EMAIL --identity-checked --given-names … --family-name … --gender … --birth-date … --street … --postal-code … --locality …",
		Short: "Open an account for a person met at a desk; their activation letter is written in the same step",
		Long: `Opens an account after an identity check at a desk, as the operator --operator names, and
writes the activation letter (a code valid 30 days, through the person's channel: paper by
default) in the same transaction: relais notices print prints it. The same identity twice is
refused, naming the account that has it, unless --homonym says you checked it is someone else.
Prints the new person's id and login name (identifiant).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			if err := applyEnv(flagOnly(fs, "secret-key"), getenv); err != nil {
				return err
			}
			key, err := parseSecretKey(f.secretKey)
			if err != nil {
				return err
			}
			box, err := keyring.NewSecretBox(key)
			if err != nil {
				return err
			}
			birth, err := time.Parse(time.DateOnly, strings.TrimSpace(f.birthDate))
			if err != nil && strings.TrimSpace(f.birthDate) != "" {
				return settingErr("--birth-date %q: write the date as YYYY-MM-DD, for example 1944-05-02.", f.birthDate)
			}
			r, err := open(cmd)
			if err != nil {
				return err
			}
			defer r.st.Close()
			codes := authn.NewAccountCodes(r.st, r.st, authn.CodeLimits{}, time.Now)
			cn := &notices.CodeNotices{Store: r.st, Reader: r.st, Channels: noticeLookup(r.st, nil), Sealer: box.Derive(noticeCodesKey), Now: time.Now}
			desk := accountsDesk(r.st, r.service, r.sink, codes, cn)
			in := mandates.AccountInput{IdentityChecked: f.identityChecked, Homonym: f.homonym, By: mandates.OpenedByCLI,
				Person: mandates.Person{GivenNames: f.given, FamilyName: f.family, PreferredName: f.preferred, Gender: mandates.Gender(f.gender),
					BirthDate: birth, BirthPlace: mandates.Place{Code: strings.ToUpper(strings.TrimSpace(f.birthPlaceCode)), Label: strings.TrimSpace(f.birthPlace)},
					BirthCountry: strings.TrimSpace(f.birthCountry), Email: f.email, Phone: f.phone, Language: f.language,
					Address: mandates.Address{Street: streetLines(f.street), PostalCode: strings.TrimSpace(f.postalCode),
						Locality: strings.TrimSpace(f.locality), Country: strings.TrimSpace(f.country)}}}
			o, err := desk.Open(cmd.Context(), r.op, in)
			if err != nil {
				return personsErr(err)
			}
			fmt.Fprintf(stdout, "Opened the account of %s: id %s, login name %s.\nThe activation letter (code valid 30 days) waits to be sent by %s: %s.\n",
				mandates.DisplayName(o.Person), o.Person.ID, o.LoginName, o.Letter.Channel, o.Letter.ID)
			return nil
		},
	}
	f.bind(cmd.Flags())
	return cmd
}

// flagOnly is a set of the one flag name of fs, for applyEnv.
func flagOnly(fs *pflag.FlagSet, name string) *pflag.FlagSet {
	one := pflag.NewFlagSet(name, pflag.ContinueOnError)
	one.AddFlag(fs.Lookup(name))
	return one
}

// streetLines turns « 3 rue des Lilas; Bâtiment B » into the lines of an
// address.
func streetLines(s string) string {
	var lines []string
	for _, l := range strings.Split(s, ";") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// personsErr says a refusal of the domain in one sentence (exit 2): what
// is wrong and what to do.
func personsErr(err error) error {
	var same *mandates.SamePersonError
	var unique *mandates.UniqueError
	switch {
	case errors.As(err, &same):
		return settingErr("a person with the same identity already has an account (%s); check it is not them, then add --homonym to open a second one.", strings.Join(same.IDs, ", "))
	case errors.As(err, &unique):
		return settingErr("the %s is already taken by another account; give another one, or none.", strings.ReplaceAll(unique.Field, "_", " "))
	case errors.Is(err, mandates.ErrSecondFactor), errors.Is(err, mandates.ErrNotPermitted):
		return settingErr("--operator does not name an operator: only an operator opens accounts from the command line.")
	case errors.Is(err, mandates.ErrNotFound):
		return settingErr("no such person: give the id relais persons list shows.")
	}
	var inv *mandates.InvalidError
	if errors.As(err, &inv) {
		return settingErr("--%s: %s; correct it and run the command again.", flagOf(inv.Field), inv.Message())
	}
	return err
}

// flagOf is the flag that sets a field of mandates.AccountInput.
func flagOf(field string) string {
	switch field {
	case "address_street":
		return "street"
	case "address_postal_code":
		return "postal-code"
	case "address_locality":
		return "locality"
	case "address_country":
		return "country"
	case "birth_place":
		return "birth-place-code"
	}
	return strings.ReplaceAll(field, "_", "-")
}

func newPersonsList(stdout io.Writer, open func(*cobra.Command) (*personsRun, error)) *cobra.Command {
	var name, after string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--name TEXT] [--after ID] [--limit N]",
		Short: "List persons by id, those whose names contain --name (case and accents ignored), a page at a time",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := open(cmd)
			if err != nil {
				return err
			}
			defer r.st.Close()
			list, next, err := r.service.ListPersons(cmd.Context(), r.op, mandates.PersonQuery{Name: name, After: after, Limit: limit})
			if err != nil {
				return personsErr(err)
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tBORN\tACTIVATED")
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\n", p.ID, p.GivenNames, p.FamilyName, p.BirthDate.Format(time.DateOnly), yesNo(p.PasswordHash != ""))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if next != "" {
				fmt.Fprintf(stdout, "More: add --after %s\n", next)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "keep persons whose given or family name contains this")
	cmd.Flags().StringVar(&after, "after", "", "the last id of the previous page")
	cmd.Flags().IntVar(&limit, "limit", 50, "persons a page, at most 200")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newPersonsShow(stdout io.Writer, open func(*cobra.Command) (*personsRun, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one person's account: identity, postal address, login name, whether it is activated",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := open(cmd)
			if err != nil {
				return err
			}
			defer r.st.Close()
			p, err := r.service.PersonForOperator(cmd.Context(), r.op, args[0])
			if err != nil {
				return personsErr(err)
			}
			name, err := r.st.LoginName(cmd.Context(), p.ID)
			if errors.Is(err, mandates.ErrNotFound) {
				name = "(none)"
			} else if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			rows := [][2]string{{"id", p.ID}, {"given names", p.GivenNames}, {"family name", p.FamilyName}, {"name in use", p.PreferredName},
				{"gender", string(p.Gender)}, {"born", p.BirthDate.Format(time.DateOnly)}, {"birth place", strings.TrimSpace(p.BirthPlace.Label + " " + p.BirthPlace.Code)},
				{"birth country", p.BirthCountry}, {"address", strings.ReplaceAll(p.Address.Formatted(), "\n", "; ")}, {"email", p.Email},
				{"phone", p.Phone}, {"language", p.Language}, {"login name", name}, {"activated", yesNo(p.PasswordHash != "")},
				{"created", p.CreatedAt.UTC().Format(time.RFC3339)}}
			for _, row := range rows {
				fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
			}
			return tw.Flush()
		},
	}
}
