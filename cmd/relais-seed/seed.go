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
	"sync"
	"sync/atomic"
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
	for k := range c.Representations {
		r.Represented = append(r.Represented, r.PersonIDs[1+2*k])
	}
	if err := importMeasures(ctx, svc, r, c, t0, pr); err != nil {
		return r, err
	}
	r.Representations = pr.done()
	imported := int(sink.n.Load())
	r.ImportEntries = imported
	if imported > c.Journal {
		return r, usagef("--journal must be at least %d: registering %d measures wrote that many entries.", imported, c.Representations)
	}

	// The rest of the journal: logins, tokens and evaluations, spread over
	// every person's chain after what the import wrote there.
	bulk, err := seedJournal(ctx, st, c, r.PersonIDs, t0, c.Journal-imported, out)
	if err != nil {
		return r, err
	}
	r.Journal = imported + bulk

	// Tokens: grants spread over the persons and the year, most of them
	// long expired, a fifth of the refresh tokens not rotated.
	n, err := seedTokens(ctx, st, c, minter, client, &r, t0, out)
	if err != nil {
		return r, err
	}
	r.Tokens = n
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
	n    atomic.Int64
}

func (c *countingSink) Emit(ctx context.Context, e mandates.Event) error {
	if err := c.next.Emit(ctx, e); err != nil {
		return err
	}
	c.n.Add(1)
	return nil
}

// importMeasures registers measure k between persons 1+2k (represented)
// and 2+2k (their tutor, by email), a thousand per import, four imports
// at a time: each is one transaction, and on PostgreSQL most of its time
// is round trips.
func importMeasures(ctx context.Context, svc *mandates.Service, r result, c config, t0 time.Time, pr *progress) error {
	const chunk, workers = 1000, 4
	from := make(chan int)
	errs := make(chan error, workers)
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range from {
				n := min(chunk, c.Representations-f)
				lines := make([]mandates.ImportLine, n)
				for i := range lines {
					k := f + i
					represented := seedPerson(r.Run, 1+2*k, t0)
					represented.ID = ""
					lines[i] = mandates.ImportLine{Line: i + 1, Person: represented, Kind: mandates.Tutelle,
						ValidFrom: t0.Truncate(24 * time.Hour), ValidUntil: t0.Add(10 * 365 * 24 * time.Hour).Truncate(24 * time.Hour),
						Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: t0.Add(-10 * 24 * time.Hour).Truncate(24 * time.Hour),
							Reference: fmt.Sprintf("SEED %s-%d", r.Run, k)},
						RepresentativeEmail: seedEmail(r.Run, 2+2*k), Role: mandates.RoleTuteur}
				}
				rep, err := svc.ImportMeasures(ctx, mandates.Actor{PersonID: r.OperatorID}, lines, false)
				if err == nil && len(rep.Problems) > 0 {
					p := rep.Problems[0]
					err = fmt.Errorf("register measures: measure %d: %s %s", f+p.Line-1, p.Field, p.Rule)
				}
				if err != nil {
					errs <- err
					cancel()
					return
				}
				mu.Lock()
				pr.add(n)
				mu.Unlock()
			}
		}()
	}
feed:
	for f := 0; f < c.Representations; f += chunk {
		select {
		case from <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(from)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// seedTokens mints c.Tokens/2 grants spread over the persons and the
// year, most of them long expired, a fifth of the refresh tokens not
// rotated; the last is minted a minute ago and kept active, and its
// refresh token returned in r. Minting runs beside the writes.
func seedTokens(ctx context.Context, st store, c config, minter *authz.TokenMinter, client oauth.Client, r *result, t0 time.Time, out io.Writer) (int, error) {
	grants := c.Tokens / 2
	pr := newProgress(out, "tokens", c.Tokens)
	per := max(c.Batch/2, 1)
	batches := make(chan []oauth.TokenRecord, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mintErr error
	go func() {
		defer close(batches)
		rng := mrand.New(mrand.NewPCG(uint64(c.Now.UnixNano()), 19))
		span := c.Now.Add(-time.Minute).Sub(t0)
		for from := 0; from < grants; from += per {
			n := min(per, grants-from)
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
					mintErr = err
					return
				}
				if last {
					r.ActiveRefresh, r.ActivePersonID = token, person
				}
				recs = append(recs, two[0], two[1])
			}
			select {
			case batches <- recs:
			case <-ctx.Done():
				return
			}
		}
	}()
	for recs := range batches {
		if err := st.LoadTokens(ctx, recs); err != nil {
			cancel()
			for range batches {
			}
			return pr.n, err
		}
		pr.add(len(recs))
	}
	if mintErr != nil {
		return pr.n, mintErr
	}
	return pr.done(), nil
}
