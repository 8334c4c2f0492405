package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// npmTimeout bounds the one-time install of axe-core; it also bounds how long
// another test binary waits for the lock.
const npmTimeout = 5 * time.Minute

// unavailable reports a missing tool. Developers without a browser still get
// the rest of the suite, but in CI a skip would let a broken setup pass
// silently, so there it fails.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := "browsertest: " + fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure and not a skip)")
	}
	t.Skip(msg)
}

// chromiumPath finds the browser, Debian's package first, because that is
// what CI installs.
func chromiumPath() (string, error) {
	if p := os.Getenv("RELAIS_CHROMIUM"); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("RELAIS_CHROMIUM=%s is not usable: %w", p, err)
		}
		return found, nil
	}
	if found, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return found, nil
	}
	if found, err := exec.LookPath("chromium"); err == nil {
		return found, nil
	}
	return "", errors.New("chromium not found: install it (apt-get install chromium) or set RELAIS_CHROMIUM to its path")
}

// sourceDir is the folder of this file, so that the harness finds its axe
// folder and the module however deep the calling test's package is. It is
// empty when the binary was built with -trimpath or moved off this machine.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// moduleRoot walks up to go.mod, from this file or else from the working
// directory, which go test sets to the package under test.
func moduleRoot() (string, error) {
	start := sourceDir()
	if start == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		start = wd
	}
	for dir := start; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", start)
		}
	}
}

func axeDir() (string, error) {
	if dir := sourceDir(); dir != "" {
		return filepath.Join(dir, "axe"), nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "ui", "browsertest", "axe"), nil
}

// screenshotDir is where reports put their PNGs; RELAIS_TEST_OUTPUT replaces
// <module root>/test-output so that CI can collect them from elsewhere.
func screenshotDir() (string, error) {
	out := os.Getenv("RELAIS_TEST_OUTPUT")
	if out == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		out = filepath.Join(root, "test-output")
	}
	dir := filepath.Join(out, "screenshots")
	return dir, os.MkdirAll(dir, 0o755)
}

// fileSafe keeps names portable and free of path separators (subtest names
// contain slashes).
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}

// axeSource is read once per test binary; the file is over half a megabyte
// and every Audit injects it.
var axeSource struct {
	sync.Mutex
	js string
}

// loadAxe returns axe.min.js, installing it first with npm ci when the
// checkout has no node_modules yet (a fresh clone, as in CI).
func loadAxe(t testing.TB) string {
	t.Helper()
	axeSource.Lock()
	defer axeSource.Unlock()
	if axeSource.js != "" {
		return axeSource.js
	}
	dir, err := axeDir()
	if err != nil {
		t.Fatalf("browsertest: locating the axe folder: %v", err)
	}
	file := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	js, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		npm, lookErr := exec.LookPath("npm")
		if lookErr != nil {
			unavailable(t, "npm not found, so axe-core cannot be installed in %s: %v", dir, lookErr)
		}
		if err := installAxe(t, npm, dir, file); err != nil {
			t.Fatalf("browsertest: %v", err)
		}
		js, err = os.ReadFile(file)
	}
	if err != nil {
		t.Fatalf("browsertest: reading axe-core: %v", err)
	}
	axeSource.js = string(js)
	return axeSource.js
}

// installAxe runs npm ci under an exclusive file lock: go test ./... runs
// several test binaries at once, and two npm ci in one folder break each
// other. The lock file lives beside package.json and not in node_modules,
// which npm ci deletes.
func installAxe(t testing.TB, npm, dir, file string) error {
	lock, err := os.OpenFile(filepath.Join(dir, ".npm-install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	// Whoever held the lock before us may have installed it already.
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	t.Logf("browsertest: installing axe-core: npm ci in %s", dir)
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", dir, err, out)
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("npm ci in %s did not install %s", dir, file)
	}
	return nil
}

// SaveScreenshot writes png as name in the folder of the reports'
// screenshots (see screenshotDir) and returns its path, for tests that
// keep a picture of a page under a name of their own.
func SaveScreenshot(name string, png []byte) (string, error) {
	dir, err := screenshotDir()
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, fileSafe(name))
	return file, os.WriteFile(file, png, 0o644)
}
