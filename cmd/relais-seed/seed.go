package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/sqlite"
)

// store is what seeding needs of either store: the domain's own methods,
// and the bulk loads of storage/*/bulk.go.
type store interface {
	mandates.Store
	mandates.PivotStore
	oauth.ClientStore
	oauth.SubjectStore
	journal.Store
	LoadPersons(ctx context.Context, persons []mandates.Person) error
	LoadSubjects(ctx context.Context, sector string, subjects, personIDs []string) error
	LoadTokens(ctx context.Context, recs []oauth.TokenRecord) error
	LoadJournal(ctx context.Context, entries []journal.Entry, details []journal.Detail) error
	Migrations() (*goose.Provider, error)
	Close() error
}

// bulkSettings is what a store adds to be set up for a bulk load (SQLite's
// pragmas) and back.
type bulkSettings interface {
	BeginBulk(ctx context.Context) error
	EndBulk(ctx context.Context) error
}

var (
	_ store        = (*sqlite.Store)(nil)
	_ store        = (*postgres.Store)(nil)
	_ bulkSettings = (*sqlite.Store)(nil)
)

// SeedClientID is the site every seeded token and evaluation is for.
const SeedClientID = "relais-seed"

// result is what a run added, for its report and its tests.
type result struct {
	Run             string
	OperatorID      string
	PersonIDs       []string
	Represented     []string // the represented person of each measure
	Persons         int
	Representations int
	Tokens          int
	Journal         int
	ImportEntries   int    // the journal entries the measures' registration wrote
	ActiveRefresh   string // a refresh token still active, the last one minted
	ActivePersonID  string // whose it is
}

// seedStore opens the store, checks its schema is up to date, and seeds it.
// Each run adds its own persons (their emails and names carry the run's
// id), their measures, chains and tokens: a second run appends, and leaves
// the chains already there as they are.
func seedStore(ctx context.Context, c config, out io.Writer) (result, error) {
	st, err := openStore(ctx, c.DB)
	if err != nil {
		return result{}, err
	}
	defer st.Close()
	return seed(ctx, st, c, out)
}

func openStore(ctx context.Context, db string) (store, error) {
	var st store
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		s, err := sqlite.Open(ctx, path, sqlite.Options{BusyTimeout: 30 * time.Second})
		if err != nil {
			return nil, usagef("--db %s (RELAIS_DB) cannot be opened (%v); check the path.", db, err)
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			return nil, usagef("--db (RELAIS_DB): cannot reach PostgreSQL at %s (%s); check the address and that the server is running.",
				postgres.Addr(db), postgres.Cause(err))
		}
		st = s
	}
	p, err := st.Migrations()
	if err != nil {
		st.Close()
		return nil, err
	}
	defer p.Close()
	current, target, err := p.GetVersions(ctx)
	if err != nil || current <= 0 || current < target {
		st.Close()
		return nil, usagef("--db (RELAIS_DB): this database is not set up, or not up to date; run relais migrate up with the same --db first.")
	}
	return st, nil
}

func seed(ctx context.Context, st store, c config, out io.Writer) (result, error) {
	r := result{Run: strconv.FormatInt(c.Now.UnixMilli(), 36)}
	t0 := c.Now.Add(-400 * 24 * time.Hour).Truncate(time.Millisecond)
	if b, ok := st.(bulkSettings); ok {
		if err := b.BeginBulk(ctx); err != nil {
			return r, err
		}
		defer func() {
			if err := b.EndBulk(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintln(out, "relais-seed:", err)
			}
		}()
	}
	client, err := seedClient(ctx, st)
	if err != nil {
		return r, err
	}
	minter, err := authz.NewTokenMinter(c.SecretKey, c.Issuer)
	if err != nil {
		return r, err
	}

	// Persons, and the sub the seed client sees for each.
	pr := newProgress(out, "persons", c.Persons)
	r.PersonIDs = make([]string, 0, c.Persons)
	for from := 0; from < c.Persons; from += c.Batch {
		n := min(c.Batch, c.Persons-from)
		persons := make([]mandates.Person, n)
		subs, ids := make([]string, n), make([]string, n)
		for i := range persons {
			p := seedPerson(r.Run, from+i, t0)
			persons[i], ids[i], subs[i] = p, p.ID, minter.Subject(client, p.ID)
		}
		if err := st.LoadPersons(ctx, persons); err != nil {
			return r, err
		}
		if err := st.LoadSubjects(ctx, authz.Sector(client), subs, ids); err != nil {
			return r, err
		}
		r.PersonIDs = append(r.PersonIDs, ids...)
		pr.add(n)
	}
	r.Persons = pr.done()
	r.OperatorID = r.PersonIDs[0]
	if err := st.GrantRole(ctx, r.OperatorID, mandates.RoleOperator); err != nil {
		return r, fmt.Errorf("make the operator: %w", err)
	}

	// Measures, through the domain's import: each registration writes the
	// representation, its history and its journal entries.
	sink := &countingSink{next: journal.New(st, journal.Options{})}
	svc := mandates.NewService(st, sink, mandates.ServiceConfig{Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	pr = newProgress(out, "representations", c.Representations)
	const importChunk = 1000
	for from := 0; from < c.Representations; from += importChunk {
		n := min(importChunk, c.Representations-from)
		lines := make([]mandates.ImportLine, n)
		for i := range lines {
			k := from + i
			represented := seedPerson(r.Run, 1+2*k, t0)
			represented.ID = ""
			lines[i] = mandates.ImportLine{Line: i + 1, Person: represented, Kind: mandates.Tutelle,
				ValidFrom: t0.Truncate(24 * time.Hour), ValidUntil: t0.Add(10 * 365 * 24 * time.Hour).Truncate(24 * time.Hour),
				Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: t0.Add(-10 * 24 * time.Hour).Truncate(24 * time.Hour),
					Reference: fmt.Sprintf("SEED %s-%d", r.Run, k)},
				RepresentativeEmail: seedEmail(r.Run, 2+2*k), Role: mandates.RoleTuteur}
			r.Represented = append(r.Represented, r.PersonIDs[1+2*k])
		}
		rep, err := svc.ImportMeasures(ctx, mandates.Actor{PersonID: r.OperatorID}, lines, false)
		if err != nil {
			return r, err
		}
		if len(rep.Problems) > 0 {
			p := rep.Problems[0]
			return r, fmt.Errorf("register measures: line %d: %s %s", p.Line, p.Field, p.Rule)
		}
		pr.add(n)
	}
	r.Representations = pr.done()
	r.ImportEntries = sink.n
	if sink.n > c.Journal {
		return r, usagef("--journal must be at least %d: registering %d measures wrote that many entries.", sink.n, c.Representations)
	}

	// The rest of the journal: logins, tokens and evaluations, spread over
	// every person's chain after what the import wrote there.
	bulk, err := seedJournal(ctx, st, c, r.PersonIDs, t0, c.Journal-sink.n, out)
	if err != nil {
		return r, err
	}
	r.Journal = sink.n + bulk

	// Tokens: grants spread over the persons and the year, most of them
	// long expired, a fifth of the refresh tokens not rotated.
	grants := c.Tokens / 2
	pr = newProgress(out, "tokens", c.Tokens)
	rng := mrand.New(mrand.NewPCG(uint64(c.Now.UnixNano()), 19))
	span := c.Now.Add(-time.Minute).Sub(t0)
	for from := 0; from < grants; from += c.Batch / 2 {
		n := min(max(c.Batch/2, 1), grants-from)
		recs := make([]oauth.TokenRecord, 0, 2*n)
		for i := range n {
			g := from + i
			person := r.PersonIDs[g%len(r.PersonIDs)]
			mg := authz.MintedGrant{Client: client, PersonID: person, IssuedAt: t0.Add(time.Duration(rng.Int64N(int64(span)))), Rotated: rng.IntN(5) != 0}
			last := g == grants-1
			if last {
				mg.IssuedAt, mg.Rotated = c.Now.Add(-time.Minute), false
			}
			token, two, err := minter.Mint(ctx, mg)
			if err != nil {
				return r, err
			}
			if last {
				r.ActiveRefresh, r.ActivePersonID = token, person
			}
			recs = append(recs, two[0], two[1])
		}
		if err := st.LoadTokens(ctx, recs); err != nil {
			return r, err
		}
		pr.add(len(recs))
	}
	r.Tokens = pr.done()
	fmt.Fprintf(out, "seeded run %s: %d persons (operator %s), %d representations, %d token records, %d journal entries (%d by the measures' registration); client %s\n",
		r.Run, r.Persons, r.OperatorID, r.Representations, r.Tokens, r.Journal, r.ImportEntries, SeedClientID)
	return r, nil
}

// seedClient returns the seed's site, registering it the first time.
func seedClient(ctx context.Context, st store) (oauth.Client, error) {
	c, err := st.Client(ctx, SeedClientID)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, mandates.ErrNotFound) {
		return c, fmt.Errorf("read the seed client: %w", err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	sum := sha256.Sum256([]byte(hex.EncodeToString(secret)))
	c = oauth.Client{ID: SeedClientID, Name: "Relais seed", RedirectURIs: []string{"https://seed.example/callback"},
		Scopes: []string{"openid", "offline_access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		SectorIdentifier: "seed.example", SecretHash: hex.EncodeToString(sum[:]), ProcedureAreas: []string{"social"}}
	if err := st.CreateClient(ctx, c); err != nil {
		return c, fmt.Errorf("register the seed client: %w", err)
	}
	return st.Client(ctx, SeedClientID)
}

var (
	givenNames  = []string{"Alice", "Bruno", "Chloé", "Damien", "Élise", "Fabien", "Gaëlle", "Hugo", "Inès", "Julien", "Karima", "Louis", "Manon", "Nicolas", "Océane", "Pierre"}
	familyNames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David"}
)

// letters writes n in base 26, a to z: a family name part that keeps
// every seeded person's identité pivot distinct.
func letters(n int) string {
	var b []byte
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			break
		}
	}
	return string(b)
}

func seedEmail(run string, i int) string { return fmt.Sprintf("p%d.%s@seed.example", i, run) }

// seedPerson is person i of run: a distinct identité pivot and email.
func seedPerson(run string, i int, t0 time.Time) mandates.Person {
	gender := mandates.GenderFemale
	if i%2 == 1 {
		gender = mandates.GenderMale
	}
	return mandates.Person{ID: mandates.NewID(t0), GivenNames: givenNames[i%len(givenNames)],
		FamilyName: familyNames[(i/len(givenNames))%len(familyNames)] + " " + strings.ToUpper(letters(i)) + " " + strings.ToUpper(run),
		BirthDate:  mandates.Date(1930+i%70, time.Month(1+i%12), 1+i%28), BirthPlace: mandates.Place{Code: "75056", Label: "Paris"},
		BirthCountry: "99100", Gender: gender, Email: seedEmail(run, i), Language: "fr"}
}

// countingSink counts the entries the import journals.
type countingSink struct {
	next mandates.EventSink
	n    int
}

func (c *countingSink) Emit(ctx context.Context, e mandates.Event) error {
	if err := c.next.Emit(ctx, e); err != nil {
		return err
	}
	c.n++
	return nil
}
