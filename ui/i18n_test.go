package ui

import (
	"encoding/json"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogue merges every file of one language; a key given twice is an
// error, since which one wins would depend on file order.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	files, err := fs.Glob(catalogues, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range files {
		if f != "locales/"+lang+".json" && !strings.HasSuffix(f, "."+lang+".json") {
			continue
		}
		buf, err := catalogues.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		one := map[string]string{}
		if err := json.Unmarshal(buf, &one); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range one {
			if _, dup := m[k]; dup {
				t.Errorf("%s: key %q is also in another %s file", f, k, lang)
			}
			m[k] = v
		}
	}
	return m
}

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	fr, en := catalogue(t, "fr"), catalogue(t, "en")
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in French but not in English", k)
		}
	}
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("%q is in English but not in French", k)
		}
	}
	for k, v := range fr {
		if v == "" || en[k] == "" {
			t.Errorf("%q is empty in one language", k)
		}
	}
}

// Every literal key a template uses exists, and every error page status has
// its three texts.
func TestTemplatesUseOnlyKnownKeys(t *testing.T) {
	fr := catalogue(t, "fr")
	re := regexp.MustCompile(`\{\{t(?:data)? \.L "([^"]+)"`)
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		buf, _ := templateFiles.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(buf), -1) {
			if _, ok := fr[m[1]]; !ok {
				t.Errorf("%s uses unknown key %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range slices.Sorted(maps.Keys(errorPageCodes)) {
		for _, part := range []string{"title", "what", "next"} {
			if _, ok := fr["error."+itoa(code)+"."+part]; !ok {
				t.Errorf("error page %d lacks its %s", code, part)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestEveryScopeLabelIsInTheCatalogues(t *testing.T) {
	fr, en := catalogue(t, "fr"), catalogue(t, "en")
	for scope, id := range scopeLabels {
		if fr[id] == "" || en[id] == "" {
			t.Errorf("scope %s: label %q missing", scope, id)
		}
	}
	for _, id := range []string{"login.bad_credentials", "login.too_many"} {
		if fr[id] == "" || en[id] == "" {
			t.Errorf("login problem %q missing", id)
		}
	}
}
