package fonts

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	f, err := Find("")
	if err != nil {
		t.Fatalf("the CJK font make installs: %v", err)
	}
	if !strings.Contains(f.Family, "CJK SC") && !strings.Contains(f.Family, "MicroHei") || len(f.Data) == 0 {
		t.Errorf("font %s", f)
	}
	bad := filepath.Join(t.TempDir(), "bad.ttf")
	os.WriteFile(bad, []byte("not a font"), 0o644)
	cases := []struct{ path, want string }{
		{"/no/such/font.ttc", "/no/such/font.ttc (no such file or directory)"},
		{bad, "not a font"},
		// Latin only: no Chinese.
		{"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "lacks the characters"},
		// Chinese with Latin as empty boxes.
		{"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "lacks the characters"},
	}
	for _, c := range cases {
		_, err := Find(c.path)
		if !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "fonts-noto-cjk") {
			t.Errorf("%s: %v, want %q", c.path, err, c.want)
		}
	}
}
