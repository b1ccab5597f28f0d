// Package yamlfile decodes the project's declarative files (firmware
// profiles, measurement scales) strictly, and says every mistake with its
// file, line and field in words a technician can act on: an unknown key
// with the key it was probably meant to be, a wrong type with what was
// wanted, a missing field. Validation of the values is the caller's; it
// adds its own mistakes to the same list.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one mistake in a file, with where it is.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats as "file line N: field: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every mistake found in one or more files.
type Errors []*Error

// Error joins the mistakes, one a line.
func (es Errors) Error() string {
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// Kind says what a file holds, for the messages about its shape.
type Kind struct {
	Noun  string // "profile"
	Needs string // the fields an empty file lacks: "id, kind, firmware, transport and capabilities"
	Size  string // how large a real one is: "a few hundred bytes"
	// MaxSize bounds the file; larger ones are refused unread.
	MaxSize int
	// Raw lists the types the file decodes into (values, not pointers),
	// whose yaml keys are suggested for an unknown one.
	Raw []any
}

var (
	lineRE        = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE     = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	unmarshalRE   = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
	yamlTypeNames = map[string]string{"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false", "seq": "a list", "map": "a mapping", "null": "nothing"}
)

// Doc is one file being decoded: its mapping, for lines, and its mistakes.
type Doc struct {
	File   string
	Root   *yaml.Node // the document's top mapping; nil when the file has none
	Errs   Errors
	fields map[string][]string
}

// Decode decodes data strictly into raw (a pointer to the file's shape;
// unknown keys are mistakes) and returns the Doc, whose Errs hold every
// mistake of shape found; ok is false when nothing could be decoded (raw
// holds nothing worth validating). A wrong type still decodes the rest,
// so one run lists every mistake.
func Decode(file string, data []byte, kind Kind, raw any) (d *Doc, ok bool) {
	d = &Doc{File: file, fields: map[string][]string{}}
	for _, v := range kind.Raw {
		t := reflect.TypeOf(v)
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			d.fields[t.String()] = append(d.fields[t.String()], name)
		}
	}
	if kind.MaxSize > 0 && len(data) > kind.MaxSize {
		d.Addf(0, "", "file is larger than %d KiB; a %s is %s", kind.MaxSize>>10, kind.Noun, kind.Size)
		return d, false
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			d.Addf(0, "", "file is empty; a %s needs at least %s", kind.Noun, kind.Needs)
		} else {
			d.yamlError(err)
		}
		return d, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		d.Addf(extra.Line, "", "more than one YAML document; put each %s in its own file", kind.Noun)
		return d, false
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		d.Addf(doc.Line, "", "a %s must be a mapping of fields (id: ..., ...)", kind.Noun)
		return d, false
	}
	d.Root = doc.Content[0]
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(raw); err != nil {
		d.yamlError(err)
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return d, false
		}
	}
	return d, true
}

// Err returns the mistakes sorted by line, or nil when there are none.
func (d *Doc) Err() error {
	if len(d.Errs) == 0 {
		return nil
	}
	sort.SliceStable(d.Errs, func(i, j int) bool { return d.Errs[i].Line < d.Errs[j].Line })
	return d.Errs
}

// Addf adds a mistake at line in field.
func (d *Doc) Addf(line int, field, format string, args ...any) {
	d.Errs = append(d.Errs, &Error{File: d.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Line returns the line of the value at path (keys and list indexes), or
// of the deepest part of it that exists.
func (d *Doc) Line(path ...any) int {
	n := d.Root
	if n == nil {
		return 0
	}
	line := n.Line
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					n, line, found = n.Content[i+1], n.Content[i].Line, true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return line
			}
			n = n.Content[k]
			line = n.Line
		}
	}
	return line
}

// Has reports whether the top-level key exists in the file, whatever its
// value.
func (d *Doc) Has(key string) bool {
	if d.Root == nil {
		return false
	}
	for i := 0; i+1 < len(d.Root.Content); i += 2 {
		if d.Root.Content[i].Value == key {
			return true
		}
	}
	return false
}

// TypeErrorAt reports whether a mistake was already reported on line.
func (d *Doc) TypeErrorAt(line int) bool {
	for _, e := range d.Errs {
		if e.Line == line {
			return true
		}
	}
	return false
}

// idRE is what a file's id may be: lower case letters, digits, '.', '-'
// and '_', at most 64.
var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ID checks the top-level id: present, well formed, and the file's name
// (id.yaml), so a technician finds a file by its id.
func (d *Doc) ID(id string) {
	if !d.Required("id", id) {
		return
	}
	if !idRE.MatchString(id) {
		d.Addf(d.Line("id"), "id", "%q: use lower case letters, digits, '.', '-' and '_', at most 64", id)
	} else if base := strings.TrimSuffix(filepath.Base(d.File), filepath.Ext(d.File)); filepath.Ext(d.File) != "" && base != id {
		d.Addf(d.Line("id"), "id", "%q does not match the file name %s; name the file %s.yaml", id, filepath.Base(d.File), id)
	}
}

// Required adds "missing" for a top-level field whose value is blank,
// unless its wrong type was reported already; it reports whether the value
// is there.
func (d *Doc) Required(field, value string) bool {
	if strings.TrimSpace(value) == "" {
		if d.Has(field) && d.TypeErrorAt(d.Line(field)) {
			return false
		}
		d.Addf(d.Line(field), field, "missing; this field is required")
		return false
	}
	return true
}

// yamlError turns the YAML library's messages into ours.
func (d *Doc) yamlError(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		line := 0
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		field := ""
		if sm := unknownRE.FindStringSubmatch(m); sm != nil {
			field = sm[1]
			if p := keyPath(d.Root, "", sm[1], line); p != "" {
				field = p // where it is: items[2].revrse, not revrse
			}
			m = "unknown field"
			if s := Closest(sm[1], d.fields[sm[2]]); s != "" {
				m += fmt.Sprintf(" (did you mean %s?)", s)
			} else if known := d.fields[sm[2]]; len(known) > 0 {
				m += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
			}
		} else if sm := unmarshalRE.FindStringSubmatch(m); sm != nil {
			got := yamlTypeNames[sm[1]]
			if got == "" {
				got = sm[1]
			}
			m = fmt.Sprintf("wrong type: got %s %q, want %s", got, sm[2], typeName(sm[3]))
		}
		if field == "" && line > 0 {
			field = fieldAt(d.Root, "", line)
		}
		d.Addf(line, field, "%s", m)
	}
}

// fieldAt returns the dotted path of the deepest key in n whose value
// starts on line, for YAML errors that give a line but no field.
func fieldAt(n *yaml.Node, prefix string, line int) string {
	return pathWhere(n, prefix, func(k, v *yaml.Node) bool { return k.Line == line || v.Line == line })
}

// keyPath returns the dotted path of the key name on line in n, or "".
func keyPath(n *yaml.Node, prefix, name string, line int) string {
	return pathWhere(n, prefix, func(k, _ *yaml.Node) bool { return k.Value == name && k.Line == line })
}

// pathWhere returns the dotted path (items[2].en) of the deepest key in n
// for which hit holds, or "".
func pathWhere(n *yaml.Node, prefix string, hit func(k, v *yaml.Node) bool) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			if deeper := pathWhere(v, path, hit); deeper != "" {
				return deeper
			}
			if hit(k, v) {
				return path
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			if deeper := pathWhere(v, fmt.Sprintf("%s[%d]", prefix, i), hit); deeper != "" {
				return deeper
			}
		}
	}
	return ""
}

// Reported reports whether a mistake was already reported for field (a
// wrong type, say, which leaves the field blank).
func (d *Doc) Reported(field string) bool {
	for _, e := range d.Errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// typeName says a Go type of a file's shape in words.
func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.Contains(t, ".raw"):
		return "a mapping"
	case t == "int", t == "float64", t == "*float64", t == "*int":
		return "a number"
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	default:
		return t
	}
}

// Closest returns the candidate within three edits of name (the fewest),
// or "" if none is: the key or name a typo was probably meant to be.
func Closest(name string, candidates []string) string {
	best, bestD := "", 4
	for _, n := range candidates {
		if d := distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Load reads the file at path, up to one byte past max (so that decode
// can say it is too large rather than see it cut), and decodes it. A file
// that cannot be read is a mistake of that file.
func Load[T any](path string, max int, decode func(file string, data []byte) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, Errors{{File: path, Msg: err.Error()}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return zero, Errors{{File: path, Msg: err.Error()}}
	}
	return decode(path, data)
}

// LoadDir loads every *.yaml and *.yml file in dir with load and returns
// the good ones by the id that key gives (with the file it came from).
// Good files are returned even when others are broken; the error, if any,
// is an Errors listing every mistake, including two files that claim the
// same id. noun names what the folder holds ("profile"), for its messages.
func LoadDir[T any](dir, noun string, load func(path string) (T, error), key func(T) (id, file string)) (map[string]T, error) {
	byID := map[string]T{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return byID, Errors{{File: dir, Msg: fmt.Sprintf("read %s folder: %v", noun, err)}}
	}
	files := map[string]string{}
	var errs Errors
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		x, err := load(path)
		if err != nil {
			var es Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
			} else {
				errs = append(errs, &Error{File: path, Msg: err.Error()})
			}
			continue
		}
		id, file := key(x)
		if other, dup := files[id]; dup {
			errs = append(errs, &Error{File: path, Line: 1, Field: "id", Msg: fmt.Sprintf("id %q is already used by %s", id, other)})
			continue
		}
		byID[id], files[id] = x, file
	}
	if len(errs) > 0 {
		return byID, errs
	}
	return byID, nil
}
