package yamlfile

import (
	"strings"
	"testing"
)

type rawThing struct {
	ID    string    `yaml:"id"`
	Count int       `yaml:"count"`
	Parts []rawPart `yaml:"parts"`
}

type rawPart struct {
	Name string `yaml:"name"`
}

var thing = Kind{Noun: "thing", Needs: "id", Size: "a few bytes", MaxSize: 200, Raw: []any{rawThing{}, rawPart{}}}

func TestDecodeSaysWhereAndWhat(t *testing.T) {
	cases := []struct {
		name, data string
		ok         bool
		want       []string
	}{
		{"good", "id: a\ncount: 2\nparts:\n  - name: x\n", true, nil},
		{"empty", "", false, []string{"f.yaml: file is empty; a thing needs at least id"}},
		{"two documents", "id: a\n---\nid: b\n", false, []string{"line 2: more than one YAML document; put each thing in its own file"}},
		{"not a mapping", "- a\n- b\n", false, []string{"line 1: a thing must be a mapping"}},
		{"too large", "id: " + strings.Repeat("x", 300), false, []string{"file is larger than 0 KiB; a thing is a few bytes"}},
		{"unknown nested key, near one", "id: a\nparts:\n  - {nmae: x}\n", true, []string{"line 3: parts[0].nmae: unknown field (did you mean name?)"}},
		{"unknown key, none near", "id: a\ncolour: red\n", true, []string{"line 2: colour: unknown field (known: id, count, parts)"}},
		{"wrong type, the rest decoded", "id: a\ncount: many\nparts: [{nmae: x}]\n", true, []string{
			`line 2: count: wrong type: got text "many", want a number`, "line 3: parts[0].nmae: unknown field"}},
		{"broken YAML", "id: [a\n", false, []string{"f.yaml line 1: did not find expected"}},
	}
	for _, tc := range cases {
		var raw rawThing
		d, ok := Decode("f.yaml", []byte(tc.data), thing, &raw)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v (%v)", tc.name, ok, tc.ok, d.Err())
		}
		err := d.Err()
		if (err == nil) != (len(tc.want) == 0) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: no %q in %q", tc.name, w, err)
			}
		}
	}
}

func TestLineAndRequired(t *testing.T) {
	var raw rawThing
	d, _ := Decode("f.yaml", []byte("id: a\ncount: 3\nparts:\n  - name: x\n  - name: \"\"\n"), thing, &raw)
	if got := d.Line("parts", 1, "name"); got != 5 {
		t.Errorf("line of parts[1].name: %d, want 5", got)
	}
	if got := d.Line("parts", 7); got != 3 {
		t.Errorf("line of a missing part: %d, want its list's 3", got)
	}
	if d.Required("id", raw.ID) != true || d.Required("title", "") != false {
		t.Error("Required")
	}
	if err := d.Err(); err == nil || err.Error() != "f.yaml line 1: title: missing; this field is required" {
		t.Errorf("%v", err)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"capabilities", "transport", "firmware"}
	for _, tc := range []struct{ in, want string }{
		{"capabilties", "capabilities"}, {"trnasport", "transport"}, {"firmwre", "firmware"}, {"colour", ""}, {"", ""},
	} {
		if got := Closest(tc.in, known); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
