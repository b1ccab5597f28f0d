package firmware

import (
	"strings"
	"testing"
)

func TestRange(t *testing.T) {
	cases := []struct {
		rng string
		in  []string
		out []string
	}{
		{">=1.2.0 <2.0.0", []string{"1.2.0", "1.3", "1.99.99", "v1.2.0", "1.2.0+build7"}, []string{"1.1.9", "2.0.0", "2.1", "1.2.0-beta.1"}},
		{">= 1.2.0 < 2", []string{"1.5.0"}, []string{"2.0.0"}},
		{"=1.0.0 || >=3.0.0", []string{"1.0.0", "3.0.0", "4"}, []string{"1.0.1", "2.5.0"}},
		{"1.0.0", []string{"1.0.0"}, []string{"1.0.1"}},
		{"!=1.4.0 >1.0.0 <=2.0.0", []string{"1.3.0", "2.0.0"}, []string{"1.4.0", "1.0.0", "2.0.1"}},
	}
	for _, tc := range cases {
		r, err := ParseRange(tc.rng)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", tc.rng, err)
		}
		for _, v := range tc.in {
			if ok, note := r.Check(v); !ok {
				t.Errorf("%q should contain %s (%s)", tc.rng, v, note)
			}
		}
		for _, v := range tc.out {
			if ok, _ := r.Check(v); ok {
				t.Errorf("%q should not contain %s", tc.rng, v)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ rng, want string }{
		{"", "empty firmware range"},
		{">=", `">=" has no version after it`},
		{">=1.2.x", `"1.2.x" is not a version`},
		{"1.2.3.4", `"1.2.3.4" is not a version`},
		{">=1.0.0 ||", "empty alternative"},
		{">=+1.0.0", `"+1.0.0" is not a version`},
	}
	for _, tc := range cases {
		if _, err := ParseRange(tc.rng); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRange(%q) = %v, want %q", tc.rng, err, tc.want)
		}
	}
	r, _ := ParseRange(">=1.0.0")
	if ok, note := r.Check("garbage"); ok || !strings.Contains(note, `"garbage" is not a version`) {
		t.Errorf("Check(garbage) = %v %q", ok, note)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{">=1.2.0 <2.0.0", "=1 || >3", "1.2.3-rc.1", ">= 0"} {
		f.Add(s, "1.5.0")
	}
	f.Fuzz(func(t *testing.T, rng, ver string) {
		r, err := ParseRange(rng)
		if err != nil {
			return
		}
		v, err := ParseVersion(ver)
		if err != nil {
			return
		}
		// Contains must agree with Check on a parseable version.
		ok, _ := r.Check(v.String())
		if ok != r.Contains(v) {
			t.Fatalf("Check and Contains disagree on %q in %q", v, rng)
		}
	})
}
