package layout

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "waystation"

// root is the module's folder, from this package's.
var root = filepath.Join("..", "..")

// rule is an import that must not happen: no package under from may
// import (directly or through others) a package under any of to.
type rule struct {
	from string
	to   []string
	why  string
}

var rules = []rule{
	{"internal/platform", []string{"devices", "sessions", "kiosk", "content", "internal/controller", "internal/testkit", "cmd"},
		"the low-level group stands under everything and knows nothing above it"},
	{"devices", []string{"internal/controller", "internal/testkit", "cmd"}, "the domain knows nothing of the wiring"},
	{"sessions", []string{"internal/controller", "internal/testkit", "cmd"}, "the domain knows nothing of the wiring"},
	{"kiosk", []string{"internal/controller", "internal/testkit", "cmd", "sessions"}, "the kiosk app reaches the controller over the device protocol only"},
	{"content", []string{"devices", "sessions", "kiosk", "internal", "cmd"}, "the catalogue is a leaf"},
}

// under reports whether pkg is dir or inside it (both module-relative).
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// deps returns, for every package of the module, the module's packages it
// imports directly or indirectly (module-relative paths; the domain
// package internal/platform/waystation included).
func deps(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	all := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, ok := strings.CutPrefix(f[0], module+"/")
		if !ok {
			continue
		}
		for _, d := range f[1:] {
			if rel, ok := strings.CutPrefix(d, module+"/"); ok {
				all[pkg] = append(all[pkg], rel)
			}
		}
	}
	return all
}

// broken lists "pkg imports dep (why)" for every rule a package breaks.
func broken(all map[string][]string, rules []rule) []string {
	var out []string
	for pkg, ds := range all {
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			for _, d := range ds {
				for _, to := range r.to {
					if under(d, to) {
						out = append(out, pkg+" imports "+d+" ("+r.why+")")
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestImportRules(t *testing.T) {
	all := deps(t)
	if len(all) < 40 {
		t.Fatalf("go list found %d packages of the module; the test is not looking at the tree", len(all))
	}
	for _, b := range broken(all, rules) {
		t.Error(b)
	}
}

// The rules are not vacuous: a tree where the kiosk imports sessions and
// the platform imports the wiring is caught.
func TestImportRulesCatchABreak(t *testing.T) {
	bad := map[string][]string{
		"kiosk/screens":             {"sessions", "internal/platform/waystation"},
		"internal/platform/sqlite":  {"internal/controller/serve"},
		"content/music":             {"content", "kiosk/sandtray"},
		"devices/registry":          {"internal/platform/sqlite"},
		"internal/controller/serve": {"sessions", "devices", "kiosk"},
	}
	got := broken(bad, rules)
	want := []string{
		"content/music imports kiosk/sandtray (the catalogue is a leaf)",
		"internal/platform/sqlite imports internal/controller/serve (the low-level group stands under everything and knows nothing above it)",
		"kiosk/screens imports sessions (the kiosk app reaches the controller over the device protocol only)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("broken:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The top level is the design card's, plus internal, docs and scripts.
func TestTopLevel(t *testing.T) {
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	allowed := []string{"cmd", "kiosk", "devices", "sessions", "content", "firmware-profiles", "go.mod", "go.sum", "Makefile",
		"README.md", "internal", "docs", "scripts"}
	seen := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		top, _, _ := strings.Cut(f, "/")
		if seen[top] {
			continue
		}
		seen[top] = true
		switch {
		case slices.Contains(allowed, top), strings.HasPrefix(top, "."), strings.HasPrefix(strings.ToUpper(top), "LICENSE"),
			strings.HasPrefix(strings.ToUpper(top), "LICENCE"), strings.HasPrefix(strings.ToUpper(top), "NOTICE"):
		default:
			t.Errorf("%s at the top level: the design card's entries, internal, docs and scripts only", top)
		}
		if strings.HasSuffix(top, ".go") {
			t.Errorf("%s: no Go file at the top level", top)
		}
	}
}
