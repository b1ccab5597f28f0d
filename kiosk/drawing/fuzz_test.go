package drawing

import (
	"testing"
)

// FuzzDecode: any bytes as any drawing event decode to an op that Apply
// takes on a fresh drawing of every kind of template, or to an error;
// never a panic, and an op that decodes encodes back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct{ kind, data string }{
		{"stroke", `{"color":2,"width":10,"points":[100,200,0,300,200,40]}`},
		{"stroke", `{"color":12,"width":120,"eraser":true,"points":[4095,4095,9]}`},
		{"fill", `{"color":4,"x":2048,"y":2048,"t":900}`},
		{"undo", `{"t":1}`},
		{"redo", `{"t":1}`},
		{"clear", `{"t":1}`},
		{"element", `{"element":"person","t":3}`},
	} {
		f.Add(s.kind, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, kind string, data []byte) {
		op, err := Decode(kind, data)
		if err != nil {
			return
		}
		back, err := Decode(kind, Encode(op))
		if err != nil {
			t.Fatalf("%s %q decoded, but its encoding does not: %v", kind, data, err)
		}
		if back.Kind != op.Kind || len(back.Item.Points) != len(op.Item.Points) || back.T != op.T {
			t.Fatalf("%s %q: encoded and decoded again: %+v, was %+v", kind, data, back, op)
		}
		for _, tmpl := range []string{"blank", "htp", "mandala-2"} {
			d, _ := New(tmpl)
			if err := d.Apply(op); err == nil && (op.Kind == Stroke || op.Kind == Fill) {
				d.Render(64, 48)
			}
		}
	})
}
