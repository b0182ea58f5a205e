package hpo

import (
	"maps"
	"math"
	"sort"
	"time"
)

// TrialState is the life stage of a trial, as Optuna's TrialState.
type TrialState string

// Trial states. Waiting is an enqueued trial that no worker has picked up yet.
const (
	Running  TrialState = "RUNNING"
	Complete TrialState = "COMPLETE"
	Pruned   TrialState = "PRUNED"
	Failed   TrialState = "FAIL"
	Waiting  TrialState = "WAITING"
)

// Finished reports whether the trial will not change any more.
func (s TrialState) Finished() bool { return s == Complete || s == Pruned || s == Failed }

// Direction says whether the study minimizes or maximizes its objective.
type Direction string

// The two directions, spelled as Optuna's StudyDirection.
const (
	Minimize Direction = "MINIMIZE"
	Maximize Direction = "MAXIMIZE"
)

// Better reports whether value a beats value b in direction d; NaN never wins (for pruners
// and samplers outside lib/hpo).
func (d Direction) Better(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	if d == Maximize {
		return a > b
	}
	return a < b
}

// FrozenTrial is the record of one trial as the storage holds it: a copy that the caller may keep.
type FrozenTrial struct {
	Number int
	State  TrialState
	// Value is the objective value of a complete trial, the last intermediate value of a pruned
	// one (as Optuna does), NaN otherwise.
	Value float64
	// Params holds internal values (see Distribution); use Param for what the objective saw.
	Params        map[string]float64
	Distributions map[string]Distribution
	// Intermediate maps step to the value reported at that step.
	Intermediate map[int]float64
	// FixedParams are the values of an enqueued trial, used instead of sampling.
	FixedParams map[string]any
	// SystemAttrs holds numbers that samplers and pruners keep on the trial (rungs of
	// successive halving).
	SystemAttrs map[string]float64
	// FailReason says why a failed trial failed (error text, NaN, panic, worker died).
	FailReason    string
	DatetimeStart time.Time
	// DatetimeComplete is zero while the trial runs.
	DatetimeComplete time.Time
}

// Param returns the value of a parameter as the objective saw it (float64, int or label), and
// whether the trial has it.
func (t *FrozenTrial) Param(name string) (any, bool) {
	v, ok := t.Params[name]
	if !ok {
		return nil, false
	}
	return t.Distributions[name].External(v), true
}

// ExternalParams returns all parameters as the objective saw them.
func (t *FrozenTrial) ExternalParams() map[string]any {
	out := make(map[string]any, len(t.Params))
	for name := range t.Params {
		out[name], _ = t.Param(name)
	}
	return out
}

// NumericParams returns the float and int parameters by name, as internal values (an int as
// its float64): with LabelParams, the trial's parameters in plain values, for figures.
func (t *FrozenTrial) NumericParams() map[string]float64 {
	out := make(map[string]float64, len(t.Params))
	for name, v := range t.Params {
		if t.Distributions[name].Kind != CategoricalKind {
			out[name] = v
		}
	}
	return out
}

// LabelParams returns the categorical parameters by name, as the label of the choice taken.
func (t *FrozenTrial) LabelParams() map[string]string {
	out := map[string]string{}
	for name, v := range t.Params {
		if d := t.Distributions[name]; d.Kind == CategoricalKind {
			out[name] = d.Choices[int(v)]
		}
	}
	return out
}

// IntermediateValues returns the reported steps in increasing order and the value reported at
// each, for curves.
func (t *FrozenTrial) IntermediateValues() (steps []int, values []float64) {
	steps = t.Steps()
	values = make([]float64, len(steps))
	for i, s := range steps {
		values[i] = t.Intermediate[s]
	}
	return steps, values
}

// LastStep returns the largest reported step, or -1 when nothing was reported.
func (t *FrozenTrial) LastStep() int {
	last := -1
	for s := range t.Intermediate {
		if s > last {
			last = s
		}
	}
	return last
}

// Steps returns the reported steps in increasing order.
func (t *FrozenTrial) Steps() []int {
	steps := make([]int, 0, len(t.Intermediate))
	for s := range t.Intermediate {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	return steps
}

// Duration is the wall time of a finished trial (0 while running).
func (t *FrozenTrial) Duration() time.Duration {
	if t.DatetimeComplete.IsZero() {
		return 0
	}
	return t.DatetimeComplete.Sub(t.DatetimeStart)
}

// Clone returns a deep copy of the trial, whose maps are its own: storages, in this package
// and outside it (lib/hpo/pgstorage), never hand out the maps they keep.
func (t *FrozenTrial) Clone() FrozenTrial {
	c := *t
	c.Params = ownCopy(t.Params)
	c.Distributions = ownCopy(t.Distributions)
	c.Intermediate = ownCopy(t.Intermediate)
	if t.FixedParams != nil {
		c.FixedParams = ownCopy(t.FixedParams)
	}
	c.SystemAttrs = ownCopy(t.SystemAttrs)
	return c
}

// ownCopy is a copy of m that is never nil, unlike maps.Clone's of a nil
// map: a clone's maps can be written to.
func ownCopy[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	maps.Copy(c, m)
	return c
}

// NewFrozenTrial returns a trial record with empty maps and a NaN value, for storages outside
// lib/hpo that build records themselves (lib/hpo/journal's replay).
func NewFrozenTrial(number int, state TrialState, fixed map[string]any, start time.Time) *FrozenTrial {
	return &FrozenTrial{
		Number:        number,
		State:         state,
		Value:         math.NaN(),
		Params:        map[string]float64{},
		Distributions: map[string]Distribution{},
		Intermediate:  map[int]float64{},
		FixedParams:   fixed,
		SystemAttrs:   map[string]float64{},
		DatetimeStart: start,
	}
}
