package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runKeys runs relais keys as run would, and returns run's exit status.
func runKeys(t *testing.T, args []string, env func(string) string) (int, string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := newKeys(&out, env)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(t.Context())
	var ce *configError
	switch {
	case err == nil:
		return 0, out.String(), nil
	case errors.As(err, &ce):
		return 2, out.String(), err
	}
	return 1, out.String(), err
}

func keysTestDB(t *testing.T) string {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, io.Discard, io.Discard, noEnv); code != 0 {
		t.Fatalf("migrate up: exit %d", code)
	}
	return db
}

func secretKeyB64(b byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

var keyRow = regexp.MustCompile(`(?m)^[A-Za-z0-9_-]{22}\s+(ES256|RS256)\s+(\d+)\s+(\w+)`)

func TestKeysRotateThenList(t *testing.T) {
	db := keysTestDB(t)
	env := envOf("RELAIS_SECRET_KEY", secretKeyB64(1))

	code, out, err := runKeys(t, []string{"list", "--db", db}, noEnv)
	if code != 0 || !strings.Contains(out, "no signing keys") {
		t.Errorf("list on a new database: exit %d, %q, %v", code, out, err)
	}
	code, out, err = runKeys(t, []string{"rotate", "--db", db}, env)
	if code != 0 || !strings.Contains(out, "added ES256 key") {
		t.Fatalf("rotate: exit %d, %q, %v", code, out, err)
	}
	code, out, err = runKeys(t, []string{"list", "--db", db}, noEnv)
	if code != 0 {
		t.Fatalf("list: exit %d, %v", code, err)
	}
	rows := keyRow.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 {
		t.Fatalf("list shows %d keys, want 2:\n%s", len(rows), out)
	}
	// The key rotate added is published now and signs after the lead time.
	if rows[0][2] != "1" || rows[0][3] != "signing" || rows[1][2] != "2" || rows[1][3] != "next" {
		t.Errorf("list:\n%s\nwant generation 1 signing, generation 2 next", out)
	}

	code, out, err = runKeys(t, []string{"rotate", "--db", db, "--alg", "RS256", "--secret-key", secretKeyB64(1)}, noEnv)
	if code != 0 || !strings.Contains(out, "added RS256 key") {
		t.Errorf("rotate --alg RS256 --secret-key: exit %d, %q, %v", code, out, err)
	}
}

func TestKeysRotateWithAWrongSecretKeyExits2(t *testing.T) {
	db := keysTestDB(t)
	if code, _, err := runKeys(t, []string{"rotate", "--db", db}, envOf("RELAIS_SECRET_KEY", secretKeyB64(1))); code != 0 {
		t.Fatalf("first rotate: exit %d, %v", code, err)
	}
	tests := []struct {
		name   string
		secret string
		names  string
	}{
		{"another key than the one the keys were written with", secretKeyB64(2), "not the key"},
		{"a key that is not base64", "not base64 at all!", "not base64"},
		{"a key of 16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), "16 bytes"},
		{"no key", "", "not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, err := runKeys(t, []string{"rotate", "--db", db}, envOf("RELAIS_SECRET_KEY", tt.secret))
			if code != 2 {
				t.Fatalf("exit %d (%v), want 2", code, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "RELAIS_SECRET_KEY") || !strings.Contains(msg, tt.names) || strings.Count(msg, ".") > 3 {
				t.Errorf("message %q should name RELAIS_SECRET_KEY and say %q in one sentence", msg, tt.names)
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("message repeats the secret: %q", msg)
			}
		})
	}
	_, out, _ := runKeys(t, []string{"list", "--db", db}, noEnv)
	if n := len(keyRow.FindAllString(out, -1)); n != 2 {
		t.Errorf("refused rotations wrote keys: %d keys listed, want 2", n)
	}
}

func TestKeysRefusesBadSettings(t *testing.T) {
	db := keysTestDB(t)
	env := envOf("RELAIS_SECRET_KEY", secretKeyB64(1))
	for _, tt := range []struct {
		args  []string
		names string
	}{
		{[]string{"rotate", "--db", db, "--alg", "HS256"}, "--alg"},
		{[]string{"rotate", "--db", db, "--publish-lead", "-1h"}, "--publish-lead"},
		{[]string{"rotate", "--db", db, "--max-token-lifetime", "0s"}, "--max-token-lifetime"},
	} {
		code, _, err := runKeys(t, tt.args, env)
		if code != 2 || !strings.Contains(err.Error(), tt.names) {
			t.Errorf("%v: exit %d, %v; want 2 naming %s", tt.args, code, err, tt.names)
		}
	}
}

func TestParseSecretKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb}, 32) // encodes differently in each alphabet
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		" " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		got, err := parseSecretKey(s)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("parseSecretKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "####", base64.StdEncoding.EncodeToString(raw[:31]), base64.StdEncoding.EncodeToString(append(raw, 1))} {
		var ce *configError
		if _, err := parseSecretKey(s); !errors.As(err, &ce) {
			t.Errorf("parseSecretKey(%q) = %v, want a setting error", s, err)
		}
	}
}

func TestDemoSecretKey(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "demo.db")
	key, created, err := demoSecretKey(db)
	if err != nil || !created || len(key) != 32 {
		t.Fatalf("first call: %d bytes, created %v, %v", len(key), created, err)
	}
	path := filepath.Join(dir, "demo.db.secret-key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, created, err := demoSecretKey(db)
	if err != nil || created || !bytes.Equal(again, key) {
		t.Errorf("second call: same key %v, created %v, %v", bytes.Equal(again, key), created, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".secret-key-*")); len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	t.Run("PostgreSQL keeps it in the working directory", func(t *testing.T) {
		wd := t.TempDir()
		t.Chdir(wd)
		if _, created, err := demoSecretKey("postgres://relais@127.0.0.1/relais"); err != nil || !created {
			t.Fatalf("created %v, %v", created, err)
		}
		if _, err := os.Stat(filepath.Join(wd, "relais.secret-key")); err != nil {
			t.Error(err)
		}
	})
	t.Run("a damaged key file is a setting to fix, not replaced", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var ce *configError
		if _, _, err := demoSecretKey(db); !errors.As(err, &ce) || !strings.Contains(err.Error(), path) {
			t.Errorf("damaged file: %v, want a setting error naming %s", err, path)
		}
		if b, _ := os.ReadFile(path); string(b) != "garbage\n" {
			t.Error("the damaged file was overwritten")
		}
	})
}
