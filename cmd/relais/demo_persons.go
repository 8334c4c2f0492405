package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// demoExtraPerson is one more demo account, from the file --demo-persons
// names: to try a login through FranceConnect between two demo Relais (a
// person only the upstream one has, two homonyms on the downstream one).
type demoExtraPerson struct {
	GivenNames   string `json:"given_names"`
	FamilyName   string `json:"family_name"`
	BirthDate    string `json:"birth_date"` // YYYY-MM-DD
	BirthPlace   string `json:"birth_place"`
	BirthCountry string `json:"birth_country"`
	Gender       string `json:"gender"`
	Email        string `json:"email"`
	Password     string `json:"password"`
}

// readDemoPersons reads and checks the file: a JSON list of persons. A bad
// file is a setting to fix.
func readDemoPersons(path string) ([]mandates.Person, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, settingErr("--demo-persons %s (RELAIS_DEMO_PERSONS) cannot be read (%s); check the path.", path, shortCause(err))
	}
	var list []demoExtraPerson
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, nil, settingErr("--demo-persons %s (RELAIS_DEMO_PERSONS) is not a JSON list of persons (%s); see docs/accounts.md.", path, shortCause(err))
	}
	persons, passwords := make([]mandates.Person, 0, len(list)), make([]string, 0, len(list))
	for i, e := range list {
		p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: e.GivenNames, FamilyName: e.FamilyName,
			BirthPlace: mandates.Place{Code: e.BirthPlace}, BirthCountry: e.BirthCountry, Gender: mandates.Gender(e.Gender),
			Email: e.Email, Language: "fr"}
		d, err := time.Parse(time.DateOnly, e.BirthDate)
		if err == nil {
			p.BirthDate = d.UTC()
		}
		if err := p.Validate(); err != nil || e.Email == "" || e.Password == "" {
			return nil, nil, settingErr("--demo-persons %s (RELAIS_DEMO_PERSONS): person %d needs given_names, family_name, birth_date (YYYY-MM-DD), email and password, with valid codes.", path, i+1)
		}
		persons, passwords = append(persons, p), append(passwords, e.Password)
	}
	return persons, passwords, nil
}

// loadDemoPersons adds the file's persons the store does not have yet (by
// email), with their passwords, and prints them.
func loadDemoPersons(ctx context.Context, st store, path string, out io.Writer) error {
	persons, passwords, err := readDemoPersons(path)
	if err != nil {
		return err
	}
	err = inTxReadAgain(ctx, st, func(ctx context.Context) error {
		for i, p := range persons {
			_, err := st.PersonByEmail(ctx, p.Email)
			if err == nil {
				continue
			}
			if !errors.Is(err, mandates.ErrNotFound) {
				return err
			}
			p.PasswordHash = authn.HashPassword(passwords[i])
			if err := st.CreatePerson(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "More demo accounts (from --demo-persons):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for i, p := range persons {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Email, passwords[i], mandates.DisplayName(p))
	}
	return tw.Flush()
}
