package loadkit

import (
	"slices"
	"testing"
)

func TestPairRatiosAndMedian(t *testing.T) {
	base := RouteResult{Rates: []float64{100, 200, 0, 400}}
	other := RouteResult{Rates: []float64{90, 150, 50}} // one slice fewer: the run was cut short
	got := PairRatios(base, other)
	if want := []float64{0.9, 0.75}; !slices.Equal(got, want) {
		t.Errorf("PairRatios = %v; want %v (pairs with a zero base rate left out)", got, want)
	}
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := slices.Clone(tc.in)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v; want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median reordered its input: %v", in)
		}
	}
}
