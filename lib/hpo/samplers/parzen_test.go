package samplers

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// TestParzenMatchesOptuna fits our Parzen estimator to the observations of
// testdata/parzen_golden.json and compares kernel weights, centres, widths and log densities
// with Optuna's.
func TestParzenMatchesOptuna(t *testing.T) {
	raw, err := os.ReadFile("../testdata/parzen_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct {
		Cases []struct {
			Name         string
			Multivariate bool
			Names        []string
			Dists        []hpo.Distribution
			Obs          [][]float64
			Weights      []float64
			Mus          [][]float64
			Sigmas       [][]float64
			Points       [][]float64
			Logpdf       []float64
		}
	}
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	// Widths come from the same argsort (NumPy's tie order included), so kernels compare one
	// for one, ties and ramp weights included; densities differ at most in the last bits.
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	for _, c := range golden.Cases {
		s := NewTPE(WithSeed(0))
		s.multivariate = c.Multivariate
		for j := range c.Dists {
			if c.Dists[j].Kind == hpo.IntKind && c.Dists[j].Step == 0 {
				c.Dists[j].Step = 1
			}
		}
		p := s.newParzen(c.Dists, c.Obs)
		for k, w := range c.Weights {
			if !close(p.weights[k], w) {
				t.Fatalf("%s: weight %d = %v, Optuna %v", c.Name, k, p.weights[k], w)
			}
		}
		for j := range c.Dists {
			for k := range c.Mus[j] {
				if !close(p.params[j].mus[k], c.Mus[j][k]) || !close(p.params[j].sigmas[k], c.Sigmas[j][k]) {
					t.Fatalf("%s param %s kernel %d: mu, sigma = %v, %v; Optuna %v, %v", c.Name, c.Names[j], k,
						p.params[j].mus[k], p.params[j].sigmas[k], c.Mus[j][k], c.Sigmas[j][k])
				}
			}
		}
		got := p.logPDF(c.Points)
		for i := range got {
			if !close(got[i], c.Logpdf[i]) {
				t.Fatalf("%s point %d: log pdf %v, Optuna %v", c.Name, i, got[i], c.Logpdf[i])
			}
		}
	}
}
