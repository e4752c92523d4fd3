package testutil

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// goroutineRule is how a doc comment says which goroutines may call a
// function: any (concurrency-safe), one (not safe for concurrent use,
// loop only, on a worker...), or before/after serving.
var goroutineRule = regexp.MustCompile(`(?i)concurrency-safe|safe for concurrent use|any goroutine|loop only|before (run|serving|start)|call (it )?(only )?(from|before|on)|runs? on (a|the|its) (worker|loop|event loop)`)

// APIDoc checks the exported API of the package in dir (as go doc lists
// it): none of the names in forbidden is exported, and every exported
// function and method says its goroutine rule in its doc comment. Call it
// from the package's own tests (dir ".").
func APIDoc(t *testing.T, dir string, forbidden ...string) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		d := doc.New(p, "./"+dir, 0)
		names := map[string]bool{}
		for _, f := range d.Funcs {
			checkRule(t, f.Name, f.Doc)
			names[f.Name] = true
		}
		for _, ty := range d.Types {
			names[ty.Name] = true
			for _, f := range ty.Funcs {
				checkRule(t, f.Name, f.Doc)
				names[f.Name] = true
			}
			for _, m := range ty.Methods {
				checkRule(t, ty.Name+"."+m.Name, m.Doc)
				names[ty.Name+"."+m.Name] = true
			}
			listed(ty, names)
		}
		for _, name := range forbidden {
			if names[name] {
				t.Errorf("%s is in the package's API; it is not for applications", name)
			}
		}
	}
}

// listed adds the exported fields and interface methods of ty to names.
func listed(ty *doc.Type, names map[string]bool) {
	for _, spec := range ty.Decl.Specs {
		ts, ok := spec.(*ast.TypeSpec)
		if !ok {
			continue
		}
		var fields *ast.FieldList
		switch x := ts.Type.(type) {
		case *ast.StructType:
			fields = x.Fields
		case *ast.InterfaceType:
			fields = x.Methods
		}
		if fields == nil {
			continue
		}
		for _, f := range fields.List {
			for _, n := range f.Names {
				if n.IsExported() {
					names[ty.Name+"."+n.Name] = true
				}
			}
			if len(f.Names) == 0 { // embedded
				names[ty.Name+"."+strings.TrimPrefix(types(f.Type), "*")] = true
			}
		}
	}
}

func types(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return types(x.X) + "." + x.Sel.Name
	case *ast.StarExpr:
		return "*" + types(x.X)
	}
	return ""
}

func checkRule(t *testing.T, name, text string) {
	t.Helper()
	if !goroutineRule.MatchString(text) {
		t.Errorf("%s does not say which goroutines may call it: %q", name, strings.TrimSpace(text))
	}
}
