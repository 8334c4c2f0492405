package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

var demoLoadedRe = regexp.MustCompile(`Demo data: (\d+) records added, (\d+) already there\.`)

// TestTheDemoLoadsOnceWhenInstancesStartTogether: several relais serve
// --demo started together on one PostgreSQL database each load the demo
// data at the same time. Each must start, and each record be written
// once: the instance that commits second finds the ids taken and reads
// again, instead of stopping on « person id already exists » (or, for
// the accounts of --demo-persons, « person email already exists »).
func TestTheDemoLoadsOnceWhenInstancesStartTogether(t *testing.T) {
	ctx := t.Context()
	db := pgtest.StartCluster(t).DSN("postgres")
	if code, out, stderr := runRelais(t, noEnv, "migrate", "up", "--db", db); code != 0 {
		t.Fatalf("migrate up: exit %d: %s%s", code, out, stderr)
	}
	box, err := keyring.NewSecretBox(make([]byte, keyring.SecretKeySize))
	if err != nil {
		t.Fatal(err)
	}
	// More demo accounts, as --demo-persons gives them to every instance.
	more := filepath.Join(t.TempDir(), "persons.json")
	if err := os.WriteFile(more, []byte(`[{"given_names": "Rose", "family_name": "Dupont", "birth_date": "1950-04-02",
		"birth_place": "44109", "birth_country": "99100", "gender": "female", "email": "rose.dupont@demo.example", "password": "rose-demo-2026"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	const instances = 3
	outs := make([]bytes.Buffer, instances)
	errs := make([]error, instances)
	var stores []store
	for range instances {
		st, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores = append(stores, st)
	}
	// together runs load on every instance at once.
	together := func(load func(i int, st store) error) {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, st := range stores {
			wg.Go(func() {
				<-start
				if errs[i] == nil {
					errs[i] = load(i, st)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	together(func(i int, st store) error {
		return loadDemo(ctx, st, box, mandates.DefaultPolicy(), &outs[i], time.Now)
	})
	together(func(i int, st store) error { return loadDemoPersons(ctx, st, more, &outs[i]) })
	added, total := 0, -1
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d could not load the demo: %v", i+1, errs[i])
		}
		m := demoLoadedRe.FindStringSubmatch(outs[i].String())
		if m == nil {
			t.Fatalf("instance %d did not say what it loaded:\n%s", i+1, outs[i].String())
		}
		a, _ := strconv.Atoi(m[1])
		there, _ := strconv.Atoi(m[2])
		added += a
		if total >= 0 && a+there != total {
			t.Errorf("instance %d counted %d records, another %d", i+1, a+there, total)
		}
		total = a + there
	}
	if added != total {
		t.Errorf("the instances added %d records together, want each of the %d once", added, total)
	}
}
