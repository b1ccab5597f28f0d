package waystation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestLocalize(t *testing.T) {
	for _, tc := range []struct {
		err  error
		lang string
		want string
	}{
		{Errorf(ENOTFOUND, "no session %q", "s-1"), "zh", `没有会谈 "s-1"`},
		{Errorf(ENOTFOUND, "no session %q", "s-1"), "zh-CN", `没有会谈 "s-1"`},
		{Errorf(ENOTFOUND, "no session %q", "s-1"), "en", `no session "s-1"`},
		{Errorf(ECONFLICT, "cannot %s session %s: it is %s", "start", "s-2", "ended"), "zh", "无法对会谈 s-2 执行 start：它的状态是 ended"},
		{fmt.Errorf("wrapped: %w", Errorf(EINVALID, "the note is empty")), "zh", "记录为空"},
		{Errorf(EINVALID, "a message the catalogue lacks %d", 7), "zh", "a message the catalogue lacks 7"},
		{errors.New("disk on fire"), "zh", "内部错误"},
		{errors.New("disk on fire"), "en", "internal error"},
	} {
		if got := Localize(tc.err, tc.lang); got != tc.want {
			t.Errorf("Localize(%v, %s) = %q, want %q", tc.err, tc.lang, got, tc.want)
		}
	}
}

var verb = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs lists a format's verbs by argument number (1-based), %% left out.
func verbs(format string) []string {
	var out []string
	next := 1
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		if strings.HasSuffix(m[0], "%") {
			continue
		}
		n := next
		if m[2] != "" {
			fmt.Sscan(m[2], &n)
		}
		out = append(out, fmt.Sprintf("%d:%s", n, m[0][len(m[0])-1:]))
		next = n + 1
	}
	sort.Strings(out)
	return out
}

// Every Chinese message takes the same arguments, with the same verbs, as
// its English key, and every key is a message the code still writes: a
// reworded English message would otherwise lose its translation unseen.
func TestCatalogueMatchesTheCode(t *testing.T) {
	var src strings.Builder
	root := filepath.Join("..", "..", "..")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && !strings.HasSuffix(p, "locale.go") {
			b, _ := os.ReadFile(p)
			src.Write(b)
		}
		return nil
	})
	code := src.String()
	if len(code) < 100000 {
		t.Fatalf("read %d bytes of Go: not the project's tree", len(code))
	}
	for en, zh := range messagesZH {
		if !strings.Contains(code, `"`+en+`"`) && !strings.Contains(code, "`"+en+"`") && !strings.Contains(code, strings.ReplaceAll(en, `"`, `\"`)) {
			t.Errorf("%q: no code writes this message any more", en)
		}
		if a, b := verbs(en), verbs(zh); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%q: verbs %v, its Chinese %q has %v", en, a, zh, b)
		}
	}
}
