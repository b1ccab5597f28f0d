// Package firmware parses device firmware versions and the version ranges
// that profiles declare, such as ">=1.2.0 <2.0.0".
package firmware

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a firmware version: up to three numbers and an optional
// pre-release tag ("1.3.0", "2.0", "1.4.1-beta.2"). Build metadata after "+"
// is ignored, as semantic versioning says.
type Version struct {
	Nums [3]int
	Pre  string
}

// ParseVersion parses a version such as "1.3.0".
func ParseVersion(s string) (Version, error) {
	var v Version
	orig := s
	s, _, _ = strings.Cut(strings.TrimSpace(s), "+")
	s = strings.TrimPrefix(s, "v")
	s, v.Pre, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if s == "" || len(parts) > 3 {
		return v, fmt.Errorf("%q is not a version (want MAJOR.MINOR.PATCH, such as 1.2.0)", orig)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || strings.Trim(p, "0123456789") != "" {
			return v, fmt.Errorf("%q is not a version (want MAJOR.MINOR.PATCH, such as 1.2.0)", orig)
		}
		v.Nums[i] = n
	}
	return v, nil
}

// String formats the version as MAJOR.MINOR.PATCH[-PRE].
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Nums[0], v.Nums[1], v.Nums[2])
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Compare returns -1, 0 or +1. A pre-release sorts before its release.
func (v Version) Compare(w Version) int {
	for i := range v.Nums {
		if v.Nums[i] != w.Nums[i] {
			if v.Nums[i] < w.Nums[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	case v.Pre < w.Pre:
		return -1
	default:
		return 1
	}
}

// comparator is one "op version" term.
type comparator struct {
	op string
	v  Version
}

func (c comparator) holds(v Version) bool {
	d := v.Compare(c.v)
	switch c.op {
	case ">=":
		return d >= 0
	case ">":
		return d > 0
	case "<=":
		return d <= 0
	case "<":
		return d < 0
	case "!=":
		return d != 0
	default: // "=" or ""
		return d == 0
	}
}

// Range is a set of versions: alternatives separated by "||", each a list of
// comparators separated by spaces that must all hold (">=1.2.0 <2.0.0").
type Range struct {
	text string
	alts [][]comparator
}

// ParseRange parses a range. Every term needs a version; a term with an
// operator but no version, or text that is no version, is an error.
func ParseRange(s string) (Range, error) {
	r := Range{text: strings.TrimSpace(s)}
	if r.text == "" {
		return r, fmt.Errorf("empty firmware range (write one such as \">=1.2.0 <2.0.0\")")
	}
	for _, alt := range strings.Split(r.text, "||") {
		var cs []comparator
		fields := strings.Fields(alt)
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			op := ""
			for _, o := range []string{">=", "<=", "!=", ">", "<", "="} {
				if strings.HasPrefix(f, o) {
					op = o
					break
				}
			}
			rest := f[len(op):]
			if rest == "" { // ">= 1.2.0": the operator stands alone
				if i+1 >= len(fields) {
					return r, fmt.Errorf("firmware range %q: %q has no version after it", r.text, op)
				}
				i++
				rest = fields[i]
			}
			v, err := ParseVersion(rest)
			if err != nil {
				return r, fmt.Errorf("firmware range %q: %v", r.text, err)
			}
			cs = append(cs, comparator{op: op, v: v})
		}
		if len(cs) == 0 {
			return r, fmt.Errorf("firmware range %q: empty alternative around ||", r.text)
		}
		r.alts = append(r.alts, cs)
	}
	return r, nil
}

// Contains reports whether v is in the range.
func (r Range) Contains(v Version) bool {
	for _, alt := range r.alts {
		ok := true
		for _, c := range alt {
			if !c.holds(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// String returns the range as written.
func (r Range) String() string { return r.text }

// Check reports whether the firmware a device reported is in the range, and
// if not, a note saying why, for the technician.
func (r Range) Check(reported string) (ok bool, note string) {
	v, err := ParseVersion(reported)
	if err != nil {
		return false, fmt.Sprintf("reported firmware %v", err)
	}
	if !r.Contains(v) {
		return false, fmt.Sprintf("firmware %s is outside the profile's range %s", reported, r.text)
	}
	return true, ""
}
