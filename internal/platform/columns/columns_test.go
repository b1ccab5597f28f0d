package columns

import (
	"fmt"
	"strings"
	"testing"
)

func TestWidth(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0}, {"Kiosk 1", 7}, {"沙盘终端", 8}, {"VR 头显 2", 9}, {"ＡＢ", 4}, {"é", 1}, {"e\u0301", 1},
	} {
		if got := Width(tc.s); got != tc.want {
			t.Errorf("Width(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

// Each column starts at the same terminal cell on every line, whatever
// mix of Chinese and Latin names it holds.
func TestColumnsLineUp(t *testing.T) {
	var b strings.Builder
	w := New(&b)
	fmt.Fprintln(w, "NAME\tROOM\tSTATUS")
	fmt.Fprintln(w, "沙盘终端\t沙盘角\tonline")
	fmt.Fprintln(w, "Kiosk 1\tRelaxation room\toffline")
	fmt.Fprintln(w, "VR 头显 2\t放松室\tonline")
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("lines: %q", lines)
	}
	var starts []int
	for _, l := range lines {
		i := strings.LastIndex(l, "  ") + 2 // where the last column starts
		starts = append(starts, Width(l[:i]))
	}
	for i, s := range starts {
		if s != starts[0] {
			t.Errorf("line %d's last column starts at cell %d, line 1's at %d:\n%s", i+1, s, starts[0], b.String())
		}
	}
	if !strings.HasPrefix(lines[1], "沙盘终端   ") {
		t.Errorf("padding after a Chinese name: %q", lines[1])
	}
}
