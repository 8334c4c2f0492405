package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// TestServeOnPostgreSQL: the schema is an operator's step on PostgreSQL;
// the demo loads once; while the server is down the process answers 503
// on /readyz and keeps serving; when the server is back, it recovers.
func TestServeOnPostgreSQL(t *testing.T) {
	c := pgtest.StartCluster(t)
	db := c.DSN("postgres")

	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--db", db}, io.Discard, &stderr, noEnv); code != 2 ||
		!strings.Contains(stderr.String(), "relais migrate up") {
		t.Fatalf("serve on an empty database: exit %d, %s", code, stderr.String())
	}
	var out bytes.Buffer
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, &out, io.Discard, noEnv); code != 0 || !strings.Contains(out.String(), "applied 00001") {
		t.Fatalf("migrate up: %d %s", code, out.String())
	}

	base, stdout, stop := startServe(t, []string{"--demo", "--db", db, "--secret-key", testSecretKey})
	if !strings.Contains(stdout.String(), "records added") {
		t.Errorf("demo not loaded: %s", stdout.String())
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("readyz: %d", code)
	}

	c.Stop(t)
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "unavailable") {
		t.Errorf("readyz while PostgreSQL is down: %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("healthz while PostgreSQL is down: %d", code)
	}
	if code, body := get(t, base+"/"); code != 200 || !strings.Contains(body, "Relais") {
		t.Errorf("home while PostgreSQL is down: %d", code)
	}
	// A page that needs the store (a signed-in browser's session) says the
	// service is stopped for a while, in plain words, instead of failing.
	if code, body := getWithCookie(t, base+"/", "relais_session=some-token"); code != 503 || !strings.Contains(body, "Le service est arrêté pour un moment") {
		t.Errorf("page with a session while PostgreSQL is down: %d", code)
	}
	c.Start(t)
	if code, _ := getWithCookie(t, base+"/", "relais_session=some-token"); code != 200 {
		t.Errorf("page with a session after PostgreSQL came back: %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("readyz after PostgreSQL came back: %d", code)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}

	_, stdout, stop = startServe(t, []string{"--demo", "--db", db, "--secret-key", testSecretKey})
	if !strings.Contains(stdout.String(), "Demo data: 0 records added") {
		t.Errorf("second start added demo data again: %s", stdout.String())
	}
	stop()
}

func getWithCookie(t *testing.T, url, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Cookie", cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
