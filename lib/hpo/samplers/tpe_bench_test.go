package samplers

import (
	"fmt"
	"math"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// BenchmarkTPESuggest measures one univariate TPE suggestion after n finished trials of a
// 2-parameter history (the cost that grows with the study).
func BenchmarkTPESuggest(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			d := hpo.FloatDistribution(-5, 10, false, 0)
			h := &hpo.Snapshot{Direction: hpo.Minimize}
			rs := hpo.NewRandomSampler(1)
			for i := 0; i < n; i++ {
				t := &hpo.FrozenTrial{Number: i, State: hpo.Complete, Params: map[string]float64{}, Distributions: map[string]hpo.Distribution{}}
				x, _ := rs.SampleIndependent(h, t, "x", d)
				t.Params["x"], t.Distributions["x"] = x, d
				t.Value = math.Sin(x) + 0.1*x*x
				h.Trials = append(h.Trials, *t)
			}
			s := NewTPE(WithSeed(0))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h := &hpo.Snapshot{Direction: h.Direction, Trials: h.Trials} // a new trial ranks the trials again
				if _, err := s.SampleIndependent(h, nil, "x", d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
