package samplers

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
)

func paramsOf(t *testing.T, s *hpo.Study) []map[string]any {
	t.Helper()
	trials, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, tr := range trials {
		out = append(out, tr.ExternalParams())
	}
	return out
}

func TestSameSeedSameParams(t *testing.T) {
	for _, multivariate := range []bool{false, true} {
		run := func(seed uint64) []map[string]any {
			smp := NewTPE(WithSeed(seed))
			smp.multivariate = multivariate
			s, err := hpo.NewStudy(hpo.WithSampler(smp))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(40)); err != nil {
				t.Fatal(err)
			}
			return paramsOf(t, s)
		}
		a, b, c := run(7), run(7), run(8)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("multivariate=%v: same seed gave different parameters", multivariate)
		}
		if reflect.DeepEqual(a, c) {
			t.Fatalf("multivariate=%v: different seeds gave the same parameters", multivariate)
		}
	}
}

// TestTPEStaysInBoundsAndConverges checks every suggested value against its distribution and
// that TPE beats random search on the same budget (medians over seeds, so not a flaky check).
func TestTPEStaysInBoundsAndConverges(t *testing.T) {
	best := func(sampler hpo.Sampler) float64 {
		s, err := hpo.NewStudy(hpo.WithSampler(sampler), hpo.WithPruner(hpo.NopPruner{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(60)); err != nil {
			t.Fatal(err)
		}
		trials, _ := s.Trials()
		for _, tr := range trials {
			if tr.State != hpo.Complete {
				t.Fatalf("trial %d is %s (%s)", tr.Number, tr.State, tr.FailReason)
			}
			for n, v := range tr.Params {
				if d := tr.Distributions[n]; !d.Contains(v) {
					t.Fatalf("trial %d: %s = %v outside %s", tr.Number, n, v, d)
				}
			}
		}
		v, err := s.BestValue()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var tpe, rnd []float64
	for seed := uint64(0); seed < 7; seed++ {
		tpe = append(tpe, best(NewTPE(WithSeed(seed))))
		rnd = append(rnd, best(hpo.NewRandomSampler(seed)))
	}
	mt, mr := median(tpe), median(rnd)
	if mt >= mr {
		t.Fatalf("TPE median best %v is not below random search's %v", mt, mr)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func TestGridSamplerVisitsEveryPointOnce(t *testing.T) {
	g, err := NewGrid(map[string][]any{"x": {0.0, 0.5, 1.0}, "opt": {"adam", "sgd"}}, WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := hpo.NewStudy(hpo.WithSampler(g))
	obj := func(tr *hpo.Trial) (float64, error) {
		x, _ := tr.SuggestFloat("x", 0, 1)
		o, err := tr.SuggestCategorical("opt", []string{"adam", "sgd"})
		if o == "sgd" {
			x += 10
		}
		return x, err
	}
	if err := s.Optimize(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range paramsOf(t, s) {
		seen[fmt.Sprint(p["x"], p["opt"])] = true
	}
	if len(seen) != 6 || len(paramsOf(t, s)) != 6 {
		t.Fatalf("grid visited %v in %d trials, want all 6 once", seen, len(paramsOf(t, s)))
	}
}

// TestOptionsConfigure: without WithSeed a sampler is seeded at random; the same seed gives the
// same grid order; WithNStartupTrials sets how many trials are drawn by the random sampler.
func TestOptionsConfigure(t *testing.T) {
	if a, b := NewTPE(), NewTPE(); a.seed == b.seed {
		t.Fatal("two unseeded TPE samplers have the same seed")
	}
	s := NewTPE(WithSeed(3), WithNStartupTrials(4), WithMultivariate(true), WithConstantLiar(true))
	if s.seed != 3 || s.nStartupTrials != 4 || !s.multivariate || !s.constantLiar || s.nEICandidates != 24 {
		t.Fatalf("options not applied: %+v", s)
	}
	o := NewOptuna5TPE(WithSeed(3), WithMultivariate(false))
	if o.optuna != Optuna50 || !o.scaleKernelDensity || o.multivariate || !o.constantLiar {
		t.Fatalf("NewOptuna5TPE's defaults or the caller's override lost: %+v", o)
	}
	space := map[string][]any{"x": {1, 2, 3, 4}}
	order := func() []any {
		g, err := NewGrid(space, WithSeed(5))
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		h := &hpo.Snapshot{}
		for i := 0; i < 4; i++ {
			ft := hpo.NewFrozenTrial(i, hpo.Running, nil, time.Time{})
			p, _ := g.SampleRelative(h, ft)
			out = append(out, p["x"])
			h.Trials = append(h.Trials, *ft)
		}
		return out
	}
	if a, b := order(), order(); !reflect.DeepEqual(a, b) {
		t.Fatalf("the same seed gave grid orders %v and %v", a, b)
	}
	if _, err := NewGrid(map[string][]any{"x": {}}); err == nil {
		t.Fatal("NewGrid accepted a parameter without values")
	}
}
