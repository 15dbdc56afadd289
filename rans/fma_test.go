package rans

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestNoFusableFloatOps checks the rule that keeps the coder's CDFs bit-for-bit the same on
// every platform. The Go spec lets the compiler fuse a float product and a sum into one FMA
// instruction, "possibly across statements" (it does on arm64, ppc64, s390x, riscv64, and on
// amd64 with GOAMD64=v3), which rounds once instead of twice; only an explicit conversion
// float64(x*y) forces the rounding. So in this package and in internal/dmath/fast.go every
// float product must sit directly in a conversion, or be an operand of another product, a
// quotient or a comparison (which cannot fuse); a product stored in a variable, passed to a
// function or returned could meet an addition after inlining. The other files of
// internal/dmath are only reported (t.Log), as they are maintained elsewhere.
func TestNoFusableFloatOps(t *testing.T) {
	fset := token.NewFileSet()
	check := func(dir string, imp types.Importer, strict func(file string) bool) *types.Package {
		t.Helper()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		var files []*ast.File
		for _, n := range names {
			if strings.HasSuffix(n, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, n, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
		conf := types.Config{Importer: imp}
		pkg, err := conf.Check(files[0].Name.Name, fset, files, info)
		if err != nil {
			t.Fatalf("type-checking %s: %v", dir, err)
		}
		isFloatMul := func(e ast.Expr) bool {
			x, ok := e.(*ast.BinaryExpr)
			if !ok || x.Op != token.MUL {
				return false
			}
			tv := info.Types[x]
			b, ok := tv.Type.Underlying().(*types.Basic)
			return ok && b.Info()&types.IsFloat != 0 && tv.Value == nil
		}
		for _, f := range files {
			name := fset.Position(f.Pos()).Filename
			report := t.Errorf
			if !strict(name) {
				report = func(format string, args ...any) { t.Logf("(reported, not checked) "+format, args...) }
			}
			// Walk with the parent of every node (parentheses are transparent).
			var walk func(n, parent ast.Node)
			walk = func(n, parent ast.Node) {
				if n == nil {
					return
				}
				if e, ok := n.(ast.Expr); ok && isFloatMul(e) && !safeParent(parent, info) {
					report("%s: float product not wrapped in float64(...): fusable into an FMA", fset.Position(e.Pos()))
				}
				next := n
				if _, ok := n.(*ast.ParenExpr); ok {
					next = parent
				}
				ast.Inspect(n, func(c ast.Node) bool {
					if c == n {
						return true
					}
					if c != nil {
						walk(c, next)
					}
					return false
				})
			}
			walk(f, nil)
		}
		return pkg
	}
	std := importer.Default()
	dmathDir := filepath.Join("..", "internal", "dmath")
	if _, err := os.Stat(dmathDir); err != nil {
		t.Skip("internal/dmath sources not found")
	}
	dm := check(dmathDir, std, func(f string) bool { return filepath.Base(f) == "fast.go" })
	check(".", importerFunc(func(path string) (*types.Package, error) {
		if strings.HasSuffix(path, "/internal/dmath") {
			return dm, nil
		}
		return std.Import(path)
	}), func(string) bool { return true })
}

// safeParent reports whether a float product directly under parent cannot be fused: parent
// is a conversion, another product, a quotient or a comparison.
func safeParent(parent ast.Node, info *types.Info) bool {
	switch p := parent.(type) {
	case *ast.CallExpr:
		return info.Types[p.Fun].IsType()
	case *ast.BinaryExpr:
		switch p.Op {
		case token.MUL, token.QUO, token.LSS, token.LEQ, token.GTR, token.GEQ, token.EQL, token.NEQ:
			return true
		}
	}
	return false
}

// TestNoFMAInstructions compiles this package and internal/dmath for targets where the Go
// compiler fuses multiply-adds (arm64; amd64 with GOAMD64=v3) and fails if any FMA
// instruction appears in their code: the direct check of what TestNoFusableFloatOps checks
// in the source. It needs the go command and a minute; run with -long.
func TestNoFMAInstructions(t *testing.T) {
	if !*long {
		t.Skip("needs -long")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	fma := regexp.MustCompile(`\b(V?F[N]?M(ADD|SUB)[0-9A-Z]*)\b`)
	fn := regexp.MustCompile(`^(\S+) STEXT`)
	for _, env := range [][]string{{"GOARCH=arm64"}, {"GOARCH=amd64", "GOAMD64=v3"}, {"GOARCH=riscv64"}} {
		cmd := exec.Command(goCmd, "build", "-gcflags=-S", "./internal/dmath", "./rans")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", env, err, out)
		}
		cur := ""
		seen := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if m := fn.FindStringSubmatch(line); m != nil {
				cur = m[1]
			}
			if m := fma.FindStringSubmatch(line); m != nil && !seen[cur] {
				seen[cur] = true
				t.Errorf("%v: %s in %s: %s", env, m[1], cur, strings.TrimSpace(line))
			}
		}
	}
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
