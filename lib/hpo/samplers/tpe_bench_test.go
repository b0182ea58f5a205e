package hpo

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// BenchmarkTPESuggest measures one univariate TPE suggestion after n finished trials of a
// 2-parameter history (the cost that grows with the study).
func BenchmarkTPESuggest(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			d := FloatDistribution(-5, 10, false, 0)
			h := &History{Direction: Minimize}
			rs := NewRandomSampler(1)
			for i := 0; i < n; i++ {
				t := newFrozenTrial(i, Complete, nil, time.Time{})
				x, _ := rs.SampleIndependent(h, t, "x", d)
				t.Params["x"], t.Distributions["x"] = x, d
				t.Value = math.Sin(x) + 0.1*x*x
				h.Trials = append(h.Trials, *t)
			}
			s := NewTPESampler(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.split = nil // a new trial ranks the history again
				if _, err := s.SampleIndependent(h, nil, "x", d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
