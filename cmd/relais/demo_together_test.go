package main

import (
	"bytes"
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
// again, instead of stopping on « person id already exists ».
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
	const instances = 3
	outs := make([]bytes.Buffer, instances)
	errs := make([]error, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range instances {
		st, err := postgres.Open(ctx, db, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		wg.Go(func() {
			<-start
			errs[i] = loadDemo(ctx, st, box, mandates.DefaultPolicy(), &outs[i], time.Now)
		})
	}
	close(start)
	wg.Wait()
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
