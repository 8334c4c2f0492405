package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/relais-fr/relais/keyring"
)

// secretKeyHint says how to make a key, in every message about it.
const secretKeyHint = "set it to 32 random bytes in base64, for example from: openssl rand -base64 32"

// parseSecretKey reads RELAIS_SECRET_KEY (or --secret-key): the base64 of
// the 32 bytes that encrypt secrets at rest (DESIGN.md §6). Standard and
// URL-safe alphabets are accepted, padded or not. The error is a setting
// error (exit 2) and never repeats the value.
func parseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, settingErr("--secret-key (RELAIS_SECRET_KEY) is not set; %s.", secretKeyHint)
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	switch {
	case err != nil:
		return nil, settingErr("--secret-key (RELAIS_SECRET_KEY) is not base64; %s.", secretKeyHint)
	case len(key) != keyring.SecretKeySize:
		return nil, settingErr("--secret-key (RELAIS_SECRET_KEY) holds %d bytes, not %d; %s.", len(key), keyring.SecretKeySize, secretKeyHint)
	}
	return key, nil
}

// demoSecretKeyFile is where serve --demo keeps its key: next to the SQLite
// file, or in the working directory for PostgreSQL.
func demoSecretKeyFile(db string) (string, error) {
	switch {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "relais.secret-key", nil
	case strings.HasPrefix(db, "sqlite:"):
		_, path, err := storeKind(db)
		if err != nil {
			return "", err
		}
		return path + ".secret-key", nil
	case db == "":
		return "", settingErr("--db (RELAIS_DB) is empty; write sqlite:FILE, for example sqlite:relais.db.")
	}
	return db + ".secret-key", nil
}

// demoSecretKey gives serve --demo a secret key when none is set, so a
// trial needs no setup: it reads the key file for dbTarget (the --db
// value, or the SQLite path), or creates it readable by this user only.
// It says whether the file was created, so serve can tell the operator
// where the key is.
func demoSecretKey(dbTarget string) ([]byte, bool, error) {
	path, err := demoSecretKeyFile(dbTarget)
	if err != nil {
		return nil, false, err
	}
	if key, err := readSecretKeyFile(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key := make([]byte, keyring.SecretKeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+).
	// Written aside, then linked into place: a second instance starting at
	// the same moment either links first or reads a complete file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-key-*") // mode 0600
	if err != nil {
		return nil, false, settingErr("the demo secret key file %s cannot be created (%s); set RELAIS_SECRET_KEY instead.", path, shortCause(err))
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		key, err := readSecretKeyFile(path)
		return key, false, err
	case err != nil:
		return nil, false, settingErr("the demo secret key file %s cannot be written (%s); set RELAIS_SECRET_KEY instead.", path, shortCause(err))
	}
	return key, true, nil
}

func readSecretKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, settingErr("the demo secret key file %s cannot be read (%s); fix its rights or set RELAIS_SECRET_KEY.", path, shortCause(err))
	}
	key, err := parseSecretKey(string(b))
	if err != nil {
		return nil, settingErr("the demo secret key file %s does not hold a valid key; restore it, or set RELAIS_SECRET_KEY to the key the signing keys were written with.", path)
	}
	return key, nil
}

// secretKeyMismatch is the one sentence for a key that does not open the
// signing keys already in the store.
func secretKeyMismatch(err error) error {
	if errors.Is(err, keyring.ErrWrongSecretKey) {
		return settingErr("--secret-key (RELAIS_SECRET_KEY) is not the key this database's signing keys were encrypted with; use the key relais serve runs with.")
	}
	return fmt.Errorf("signing keys: %w", err)
}
