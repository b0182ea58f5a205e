package hpo

import (
	"math"
	"sync"

	"github.com/dlworkbench/hw1/lib/hpo/internal/nprand"
)

// Snapshot is what a sampler sees of its study: the direction and every other trial of the
// study as it was when the current trial started (running trials included: TPE's constant liar
// reads them). Samplers must not modify the trials. (It was hpo.History, a name that
// nn.History and plot.History, training curves, also have.)
type Snapshot struct {
	Direction Direction
	Trials    []FrozenTrial

	memo map[any]any
}

// Memo returns the value kept under key for this snapshot, computed by compute the first time:
// for a sampler's work that depends on the snapshot only, done once per trial rather than once
// per parameter (TPE's ranking of the finished trials). Use an unexported key type of the
// sampler's package, as context.WithValue. A snapshot belongs to one trial, which is not safe
// for concurrent use, and neither is Memo.
func (h *Snapshot) Memo(key any, compute func() any) any {
	if v, ok := h.memo[key]; ok {
		return v
	}
	if h.memo == nil {
		h.memo = map[any]any{}
	}
	v := compute()
	h.memo[key] = v
	return v
}

// Sampler draws parameter values. SampleRelative runs once at the start of a trial and may fix
// several parameters jointly (multivariate TPE, grid); SampleIndependent draws any other
// parameter when the objective asks for it.
type Sampler interface {
	// SampleRelative returns values as the objective would see them (float64, int, label);
	// a value that does not fit the distribution later asked for is dropped.
	SampleRelative(h *Snapshot, t *FrozenTrial) (map[string]any, error)
	// SampleIndependent returns one internal value drawn from d.
	SampleIndependent(h *Snapshot, t *FrozenTrial, name string, d Distribution) (float64, error)
}

// RandomSampler is the default sampler of a study without WithSampler, and the start-up sampler
// of lib/hpo/samplers' TPE. It draws every parameter uniformly (in log space for Log parameters), as Optuna's
// RandomSampler does and from the same NumPy stream: the same seed gives the same parameters
// as Optuna's RandomSampler(seed).
type RandomSampler struct {
	mu   sync.Mutex
	seed uint64
	rng  *nprand.Rand
}

// NewRandomSampler returns a seeded random sampler: the same seed gives the same parameters.
// The seed is its only setting, so it takes it as an argument rather than as an option (the
// centre's WithSeed is the study's; samplers.WithSeed is lib/hpo/samplers').
func NewRandomSampler(seed uint64) *RandomSampler {
	return &RandomSampler{seed: seed, rng: nprand.New(seed)}
}

// SampleRelative implements Sampler; random sampling has no joint part.
func (r *RandomSampler) SampleRelative(*Snapshot, *FrozenTrial) (map[string]any, error) {
	return nil, nil
}

// SampleIndependent implements Sampler.
func (r *RandomSampler) SampleIndependent(_ *Snapshot, _ *FrozenTrial, _ string, d Distribution) (float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sampleUniform(r.rng, d), nil
}

// sampleUniform draws as Optuna's RandomSampler: uniform over the bounds widened by half a step
// (or by 0.5 for log ints) and rounded back onto the grid, so that the end points are as likely
// as the others; a categorical takes the largest of one uniform draw per choice.
func sampleUniform(rng *nprand.Rand, d Distribution) float64 {
	switch d.Kind {
	case CategoricalKind:
		best, bestU := 0, -1.0
		for c := range d.Choices {
			if u := rng.Float64(); u > bestU {
				best, bestU = c, u
			}
		}
		return float64(best)
	case IntKind:
		if d.Log {
			v := math.RoundToEven(math.Exp(rng.Uniform(math.Log(d.Low-d.Step/2), math.Log(d.High+d.Step/2))))
			return math.Min(math.Max(v, d.Low), d.High)
		}
		return snap(d, rng.Uniform(d.Low-d.Step/2, d.High+d.Step/2))
	default:
		if d.Step != 0 {
			return snap(d, rng.Uniform(d.Low-d.Step/2, d.High+d.Step/2))
		}
		var v float64
		if d.Log {
			v = math.Exp(rng.Uniform(math.Log(d.Low), math.Log(d.High)))
		} else {
			v = rng.Uniform(d.Low, d.High)
		}
		if d.Single() {
			return v
		}
		// The draw is in [low, high); exp can round up onto high.
		return math.Max(math.Min(v, math.Nextafter(d.High, math.Inf(-1))), d.Low)
	}
}

// snap rounds onto the step grid of d (halves to even, as NumPy) and clips to its bounds.
func snap(d Distribution, v float64) float64 {
	v = math.RoundToEven((v-d.Low)/d.Step)*d.Step + d.Low
	return math.Min(math.Max(v, d.Low), d.High)
}
