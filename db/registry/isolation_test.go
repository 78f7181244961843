package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dbNamed matches a database's name in an identifier or a string.
var dbNamed = regexp.MustCompile(`(?i)etcd|consul`)

// mayNameDatabases are the directories (relative to the module root,
// with a trailing slash) whose code may name a database: the drivers,
// this registry, and the examples (a user's campaigner for etcd).
var mayNameDatabases = []string{"db/etcd/", "db/consul/", "db/registry/", "examples/"}

// allowedStrings are string literals outside those directories that
// still name a database, each with why.
var allowedStrings = []string{}

// TestOnlyDriversNameDatabases keeps etcd-vs-Consul knowledge in the
// driver packages: it parses every non-test .go file of the module and
// fails on an identifier or a string literal that names a database
// outside them. Comments are documentation and may name anything; a
// driver's import path, in the registry, is allowed by directory.
func TestOnlyDriversNameDatabases(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel != "." && (strings.HasPrefix(e.Name(), ".") || e.Name() == "testdata" || e.Name() == "vendor") {
				return filepath.SkipDir
			}
			if allowedDir(rel + "/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.Ident:
				if dbNamed.MatchString(x.Name) {
					found = append(found, fset.Position(x.Pos()).String()+": identifier "+x.Name)
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING || !dbNamed.MatchString(x.Value) {
					return true
				}
				v, err := strconv.Unquote(x.Value)
				if err != nil {
					v = x.Value
				}
				if !allowedString(v) {
					found = append(found, fset.Position(x.Pos()).String()+": string "+x.Value)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s names a database outside its driver (move it into db/<name>/, or derive it from db/registry)", strings.TrimPrefix(f, root+string(filepath.Separator)))
	}
}

func allowedDir(rel string) bool {
	for _, d := range mayNameDatabases {
		if strings.HasPrefix(rel, d) {
			return true
		}
	}
	return false
}

// allowedString: a literal is allowed when every database name in it
// is inside an allowed phrase.
func allowedString(v string) bool {
	for _, a := range allowedStrings {
		v = strings.ReplaceAll(v, a, "")
	}
	return !dbNamed.MatchString(v)
}

// moduleRoot is the directory of the go.mod above the test's.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
