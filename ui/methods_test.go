package ui_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxMethods is how many methods one type of this package may declare: a
// type with more is a grab bag, to be split by audience (operatorPages,
// personPages…) around the shared Server.
const maxMethods = 40

// methodCounts counts the methods each type of the package in dir declares,
// exported or not, from its source files (tests left out).
func methodCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	counts := map[string]int{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) == 0 {
				continue
			}
			typ := fn.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				counts[id.Name]++
			}
		}
	}
	return counts
}

// TestNoTypeHasMoreThanFortyMethods: the rule holds from now on; a new
// page goes to the type of its audience, or to a new one.
func TestNoTypeHasMoreThanFortyMethods(t *testing.T) {
	counts := methodCounts(t, ".")
	if counts["Server"] == 0 {
		t.Fatal("no method of Server found: the count reads the wrong directory")
	}
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%s: %d methods", name, counts[name])
		if counts[name] > maxMethods {
			t.Errorf("%s declares %d methods, more than %d: split it by audience", name, counts[name], maxMethods)
		}
	}
}
