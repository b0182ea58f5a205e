//go:build linux

package pgstorage

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// studyObjective (the objective of testdata/optuna_interop.py too) uses every kind of parameter, reports, is pruned by the median pruner and
// fails now and then: a study that touches every method of the storage.
func studyObjective(t *hpo.Trial) (float64, error) {
	x, err := t.SuggestFloat("x", -3, 3)
	if err != nil {
		return 0, err
	}
	lr, err := t.SuggestFloat("lr", 1e-4, 1e-1, hpo.Log())
	if err != nil {
		return 0, err
	}
	n, err := t.SuggestInt("n", 1, 9, hpo.Step(2))
	if err != nil {
		return 0, err
	}
	act, err := t.SuggestCategorical("act", []string{"relu", "tanh", "gelu"})
	if err != nil {
		return 0, err
	}
	// Typed choices, as Optuna keeps them: a study begun by Optuna has [16, 32, 64], not strings.
	bs, err := hpo.SuggestChoice(t, "bs", []int{16, 32, 64})
	if err != nil {
		return 0, err
	}
	if act == "gelu" && n >= 7 {
		return 0, fmt.Errorf("unstable: x = %v", x)
	}
	v := x*x + math.Log10(lr)*0.1 + float64(n)*0.01 + float64(bs)*0.001
	for step := 0; step < 5; step++ {
		if err := t.Report(step, v+float64(5-step)); err != nil {
			return 0, err
		}
		if t.ShouldPrune() {
			return 0, hpo.ErrPruned
		}
	}
	return v, nil
}

func runReferenceStudy(t *testing.T, s hpo.Storage) []hpo.FrozenTrial {
	t.Helper()
	study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(7))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		t.Fatal(err)
	}
	if err := study.EnqueueTrial(map[string]any{"x": 0.5, "lr": 0.01, "n": 3, "act": "tanh"}); err != nil {
		t.Fatal(err)
	}
	if err := study.Optimize(context.Background(), studyObjective, hpo.NTrials(25)); err != nil {
		t.Fatal(err)
	}
	return mustTrials(t, s)
}

// A seeded study run through hpo.NewStudy gives the same trials on this storage as on
// MemoryStorage: same numbers, states, parameters, values, intermediate values, enqueued
// parameters, system attributes (the sampler's stream positions) and failure reasons. Since TPE
// reads the history back from the storage, any difference in what the storage returns would
// change the parameters drawn after it.
func TestStudyMatchesMemoryStorage(t *testing.T) {
	want := runReferenceStudy(t, hpo.NewMemoryStorage())
	got := runReferenceStudy(t, openTest(t, pgtest.Database(t), "ref"))
	if len(got) != len(want) {
		t.Fatalf("%d trials, want %d", len(got), len(want))
	}
	states := map[hpo.TrialState]int{}
	for i := range want {
		w, g := want[i], got[i]
		states[g.State]++
		if g.Number != w.Number || g.State != w.State || g.FailReason != w.FailReason {
			t.Fatalf("trial %d: %d %s %q, want %d %s %q", i, g.Number, g.State, g.FailReason, w.Number, w.State, w.FailReason)
		}
		if !sameFloat(g.Value, w.Value) {
			t.Errorf("trial %d value %v, want %v", i, g.Value, w.Value)
		}
		if !reflect.DeepEqual(g.Params, w.Params) {
			t.Errorf("trial %d params %v, want %v", i, g.Params, w.Params)
		}
		for name, d := range w.Distributions {
			if !g.Distributions[name].Equal(d) {
				t.Errorf("trial %d %s: %v, want %v", i, name, g.Distributions[name], d)
			}
		}
		if !reflect.DeepEqual(g.Intermediate, w.Intermediate) {
			t.Errorf("trial %d intermediate %v, want %v", i, g.Intermediate, w.Intermediate)
		}
		if !reflect.DeepEqual(g.SystemAttrs, w.SystemAttrs) {
			t.Errorf("trial %d system attributes %v, want %v", i, g.SystemAttrs, w.SystemAttrs)
		}
		if !sameFixed(g.FixedParams, w.FixedParams) {
			t.Errorf("trial %d fixed %v, want %v", i, g.FixedParams, w.FixedParams)
		}
	}
	if states[hpo.Complete] == 0 || states[hpo.Pruned] == 0 || states[hpo.Failed] == 0 {
		t.Errorf("states %v: the reference study should complete, prune and fail trials", states)
	}
	t.Logf("%d trials, %v, identical on both storages", len(got), states)
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
