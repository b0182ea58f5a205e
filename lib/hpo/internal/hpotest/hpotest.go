// Package hpotest holds what the tests of lib/hpo's subpackages share (the
// tests of lib/hpo itself keep their own copy: a test inside package hpo
// cannot import a package that imports hpo).
package hpotest

import (
	"math"
	"strconv"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// MixedObjective uses every kind of parameter, a conditional branch and intermediate values.
func MixedObjective(t *hpo.Trial) (float64, error) {
	kind, err := t.SuggestCategorical("kind", []string{"a", "b"})
	if err != nil {
		return 0, err
	}
	x, err := t.SuggestFloat("x", -3, 3)
	if err != nil {
		return 0, err
	}
	lr, err := t.SuggestFloat("lr", 1e-4, 1, hpo.Log())
	if err != nil {
		return 0, err
	}
	units, err := t.SuggestInt("units", 4, 64, hpo.Step(4))
	if err != nil {
		return 0, err
	}
	v := x*x + math.Pow(math.Log10(lr)+2, 2) + math.Abs(float64(units-32))/32
	if kind == "b" {
		depth, err := t.SuggestInt("depth", 1, 128, hpo.Log())
		if err != nil {
			return 0, err
		}
		v += math.Abs(math.Log2(float64(depth)) - 3)
	}
	for step := 0; step < 5; step++ {
		if err := t.Report(step, v+1/float64(step+1)); err != nil {
			return 0, err
		}
		if t.ShouldPrune() {
			return 0, hpo.ErrPruned
		}
	}
	return v, nil
}

// DumpFloat reads a float of a JSON dump written by Optuna's side of a test:
// NaN and the infinities come as strings, and null is NaN.
func DumpFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return math.NaN()
}
