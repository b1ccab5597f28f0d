package api_test

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Strings the generator mixes into every string it makes: plain words,
// Chinese, emoji, markup, control characters and the empty string. Huge
// strings are made on demand (hugeString).
var oddStrings = []string{
	"fuzz", "C-1042", "放松室", "来访者 甲", "🙂🌲🌊", "👩‍⚕️", "<script>alert(1)</script>", "' OR 1=1 --",
	"", " ", "\u0000", "\t\n", "null", "../../etc/passwd", "%2e%2e%2f", "\u202eevil", "ÅÄÖ", "x\ud7ffy",
}

// gen makes request values from the document's own schemas, valid or
// broken on purpose, driven by one random source so that a seed replays.
type gen struct {
	r *rand.Rand
	// fixed are values that exist on the controller (a client code, a
	// session id), used for a path or body field of that name now and
	// then, so that valid requests reach past "not found".
	fixed map[string][]string
	// extra is one more odd string (the fuzzer's), when not empty.
	extra string
}

// hugeString is n bytes of a Chinese phrase and emoji, cut at a rune.
func hugeString(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString("沙盘🙂")
	}
	return strings.ToValidUTF8(b.String()[:n], "")
}

func (g *gen) pick(ss []string) string { return ss[g.r.IntN(len(ss))] }

// str makes a string for a field called name with schema s: valid for
// its enum, format or pattern most of the time, odd otherwise.
func (g *gen) str(name string, s *openapi3.Schema) string {
	if vs := g.fixed[name]; len(vs) > 0 && g.r.IntN(3) > 0 {
		return g.pick(vs)
	}
	if len(s.Enum) > 0 && g.r.IntN(4) > 0 {
		v, _ := s.Enum[g.r.IntN(len(s.Enum))].(string)
		return v
	}
	switch s.Format {
	case "date-time":
		if g.r.IntN(3) > 0 {
			return time.Now().Add(time.Duration(g.r.IntN(200)-100) * time.Hour).UTC().Format(time.RFC3339)
		}
	case "date":
		if g.r.IntN(3) > 0 {
			return time.Now().AddDate(0, 0, g.r.IntN(60)-30).Format(time.DateOnly)
		}
	}
	if s.Pattern != "" && g.r.IntN(2) == 0 {
		return "FZ-" + strings.Repeat("7", 1+g.r.IntN(8))
	}
	switch g.r.IntN(12) {
	case 0:
		return hugeString(1 + g.r.IntN(70_000))
	case 1:
		return time.Now().Format(time.DateOnly)
	}
	return g.odd()
}

// odd is one of the odd strings.
func (g *gen) odd() string {
	if g.extra != "" && g.r.IntN(3) == 0 {
		return g.extra
	}
	return g.pick(oddStrings)
}

// value makes a value for schema s; depth bounds nesting.
func (g *gen) value(name string, ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil {
		return g.odd()
	}
	s := ref.Value
	if len(s.AllOf) > 0 {
		out := map[string]any{}
		for _, part := range s.AllOf {
			if m, ok := g.value(name, part, depth).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	}
	switch {
	case s.Type.Is("object") || (s.Type == nil && len(s.Properties) > 0):
		out := map[string]any{}
		if depth > 3 {
			return out
		}
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) { // in order, so that a seed replays
			if slices.Contains(s.Required, k) || g.r.IntN(2) == 0 {
				out[k] = g.value(k, s.Properties[k], depth+1)
			}
		}
		return out
	case s.Type.Is("array"):
		n := g.r.IntN(4)
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(name, s.Items, depth+1)
		}
		return out
	case s.Type.Is("integer"):
		return json.Number(g.pick([]string{"0", "1", "2", "7", "30", "-1", "1000", "2147483648", "9007199254740993"}))
	case s.Type.Is("number"):
		return []float64{0, 0.5, 6, -3, 1e308}[g.r.IntN(5)]
	case s.Type.Is("boolean"):
		return g.r.IntN(2) == 0
	case s.Type.Is("string"):
		return g.str(name, s)
	}
	// A schema with no type (any JSON): a small object, a string or null.
	return []any{map[string]any{"bpm": 6}, "fuzz", nil, 3}[g.r.IntN(4)]
}

// body makes a request body for schema ref: valid by the schema, or, when
// broken is true, broken in one of the ways a careless or hostile client
// breaks it. It returns the body's bytes and whether it was broken.
func (g *gen) body(ref *openapi3.SchemaRef, broken bool) []byte {
	v := g.value("", ref, 0)
	if !broken {
		b, _ := json.Marshal(v)
		return b
	}
	m, _ := v.(map[string]any)
	switch g.r.IntN(9) {
	case 0: // not JSON
		return []byte(g.pick([]string{"{", "not json", "{\"a\":}", "\xff\xfe", "{}{}", "[1,2"}))
	case 1: // the wrong JSON value
		return []byte(g.pick([]string{"[]", "\"x\"", "42", "null", "true"}))
	case 2: // over the body limit
		return []byte(`{"text":"` + hugeString(1<<20+100) + `"}`)
	case 3: // a field no one knows
		if m == nil {
			m = map[string]any{}
		}
		m["unknown_field_"+g.pick([]string{"x", "名字", "🙂"})] = 1
	case 4, 5: // a required field left out
		if s := ref.Value; s != nil && len(s.Required) > 0 && m != nil {
			delete(m, s.Required[g.r.IntN(len(s.Required))])
		} else {
			return []byte("")
		}
	default: // a field of the wrong type
		if m == nil || ref.Value == nil || len(ref.Value.Properties) == 0 {
			return []byte(`{"x":` + g.pick([]string{"[]", "{}", "1"}) + `}`)
		}
		keys := slices.Sorted(maps.Keys(ref.Value.Properties))
		k := keys[g.r.IntN(len(keys))]
		m[k] = wrongType(ref.Value.Properties[k])
	}
	b, _ := json.Marshal(m)
	return b
}

// wrongType is a value whose JSON type the schema does not allow.
func wrongType(ref *openapi3.SchemaRef) any {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil {
		return nil
	}
	switch t := ref.Value.Type; {
	case t.Is("string"):
		return []any{1, "x"}
	case t.Is("array"):
		return "not a list"
	case t.Is("object"):
		return 17
	default:
		return "不是数字"
	}
}
