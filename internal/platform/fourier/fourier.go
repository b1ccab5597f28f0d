// Package fourier is the discrete Fourier transform the project needs: an
// in-place radix-2 FFT, for heart-rate spectra and for the tests that
// check generated sound.
package fourier

import (
	"math"
	"math/cmplx"
)

// FFT transforms x in place (X[k] = Σ x[n] e^(-2πikn/N)); len(x) must be
// a power of two. It panics otherwise, as that is a caller's bug.
func FFT(x []complex128) {
	n := len(x)
	if n&(n-1) != 0 {
		panic("fourier.FFT: length not a power of two")
	}
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}

// NextPow2 is the smallest power of two at least n (1 for n <= 1).
func NextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
