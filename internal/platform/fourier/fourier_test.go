package fourier

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

func TestFFTMatchesTheDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 8, 64} {
		x := make([]complex128, n)
		for i := range x {
			x[i] = complex(r.Float64(), r.Float64())
		}
		got := append([]complex128(nil), x...)
		FFT(got)
		for k := range x {
			var want complex128
			for j := range x {
				want += x[j] * cmplx.Exp(complex(0, -2*math.Pi*float64(k*j)/float64(n)))
			}
			if cmplx.Abs(got[k]-want) > 1e-9 {
				t.Fatalf("n %d bin %d: %v, want %v", n, k, got[k], want)
			}
		}
	}
}

func TestNextPow2(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 128: 128, 129: 256} {
		if got := NextPow2(in); got != want {
			t.Errorf("NextPow2(%d) = %d, want %d", in, got, want)
		}
	}
}
