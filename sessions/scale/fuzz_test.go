package scale

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic, and
// a scale it accepts must score: every set of lowest and highest answers
// gives a total within [min, max] that falls in exactly one band.
func FuzzDecode(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad", "../../content/scales"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Decode("fuzz", data)
		if err != nil {
			if sc != nil {
				t.Fatal("scale returned with an error")
			}
			return
		}
		if sc.ID == "" || len(sc.Items) == 0 || len(sc.Bands) == 0 || len(sc.Sources) == 0 {
			t.Fatalf("accepted an incomplete scale: %+v", sc)
		}
		for _, pick := range []func([]Option) float64{
			func(o []Option) float64 { lo, _ := optionRange(o); return lo },
			func(o []Option) float64 { _, hi := optionRange(o); return hi },
		} {
			answers := make([]float64, len(sc.Items))
			for i, it := range sc.Items {
				answers[i] = pick(it.Options)
			}
			r, err := sc.Score(answers)
			if err != nil {
				t.Fatalf("accepted a scale that does not score its own options: %v", err)
			}
			if r.Total < sc.Min || r.Total > sc.Max || math.IsNaN(r.Total) {
				t.Fatalf("total %v outside [%v, %v]", r.Total, sc.Min, sc.Max)
			}
			in := 0
			for _, b := range sc.Bands {
				if r.Total >= b.From && r.Total <= b.To {
					in++
				}
			}
			if in != 1 {
				t.Fatalf("total %v falls in %d bands: %+v", r.Total, in, sc.Bands)
			}
		}
	})
}
