package hpo

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// History is what a sampler sees: the direction and every other trial of the study as it was
// when the current trial started.
type History struct {
	Direction Direction
	Trials    []FrozenTrial

	// split caches TPE's ranking of the finished trials: it depends on the history only, not on
	// the parameter, and a trial asks for many parameters.
	split *tpeSplit
}

type tpeSplit struct {
	obs          []observation
	nBelow       int
	below, above []int
}

// Sampler draws parameter values. SampleRelative runs once at the start of a trial and may fix
// several parameters jointly (multivariate TPE, grid); SampleIndependent draws any other
// parameter when the objective asks for it.
type Sampler interface {
	// SampleRelative returns values as the objective would see them (float64, int, label);
	// a value that does not fit the distribution later asked for is dropped.
	SampleRelative(h *History, t *FrozenTrial) (map[string]any, error)
	// SampleIndependent returns one internal value drawn from d.
	SampleIndependent(h *History, t *FrozenTrial, name string, d Distribution) (float64, error)
}

// RandomSampler draws every parameter uniformly (in log space for Log parameters), as Optuna's
// RandomSampler does and from the same NumPy stream: the same seed gives the same parameters
// as Optuna's RandomSampler(seed).
type RandomSampler struct {
	mu   sync.Mutex
	seed uint64
	rng  *numpyRand
}

// NewRandomSampler returns a seeded random sampler: the same seed gives the same parameters.
func NewRandomSampler(seed uint64) *RandomSampler {
	return &RandomSampler{seed: seed, rng: newNumpyRand(seed)}
}

// SampleRelative implements Sampler; random sampling has no joint part.
func (r *RandomSampler) SampleRelative(*History, *FrozenTrial) (map[string]any, error) {
	return nil, nil
}

// SampleIndependent implements Sampler.
func (r *RandomSampler) SampleIndependent(_ *History, _ *FrozenTrial, _ string, d Distribution) (float64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sampleUniform(r.rng, d), nil
}

// sampleUniform draws as Optuna's RandomSampler: uniform over the bounds widened by half a step
// (or by 0.5 for log ints) and rounded back onto the grid, so that the end points are as likely
// as the others; a categorical takes the largest of one uniform draw per choice.
func sampleUniform(rng *numpyRand, d Distribution) float64 {
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

// GridSampler tries every combination of the given values once, in a seeded random order, as
// Optuna's GridSampler; Optimize stops when all were tried (AfterTrial). Each parameter the objective asks
// for must be in the grid.
type GridSampler struct {
	names  []string
	values [][]any
	mu     sync.Mutex
	seed   uint64
	rng    *numpyRand
}

// NewGridSampler returns a grid sampler over space (name to the values to try).
func NewGridSampler(space map[string][]any, seed uint64) (*GridSampler, error) {
	g := &GridSampler{seed: seed, rng: newNumpyRand(seed)}
	for name := range space {
		g.names = append(g.names, name)
	}
	sort.Strings(g.names)
	for _, name := range g.names {
		if len(space[name]) == 0 {
			return nil, fmt.Errorf("grid parameter %q has no values", name)
		}
		g.values = append(g.values, space[name])
	}
	return g, nil
}

// size is the number of combinations.
func (g *GridSampler) size() int {
	n := 1
	for _, v := range g.values {
		n *= len(v)
	}
	return n
}

// combination returns the values of combination id, the last name varying fastest.
func (g *GridSampler) combination(id int) map[string]any {
	out := make(map[string]any, len(g.names))
	for i := len(g.names) - 1; i >= 0; i-- {
		n := len(g.values[i])
		out[g.names[i]] = g.values[i][id%n]
		id /= n
	}
	return out
}

// gridAttr is the system attribute under which a trial keeps its combination id.
const gridAttr = "grid_id"

// visited returns the combination ids taken by trials, running ones included.
func (g *GridSampler) visited(trials []FrozenTrial) map[int]bool {
	seen := map[int]bool{}
	for _, t := range trials {
		if id, ok := t.SystemAttrs[gridAttr]; ok {
			seen[int(id)] = true
		}
	}
	return seen
}

// AfterTrial implements AfterTrialSampler: once every combination was tried (by any worker of
// the storage) it stops the study, as Optuna's GridSampler.after_trial.
func (g *GridSampler) AfterTrial(s *Study, _ FrozenTrial) error {
	trials, err := s.Trials()
	if err != nil {
		return err
	}
	if len(g.visited(trials)) >= g.size() {
		s.Stop()
	}
	return nil
}

// SampleRelative implements Sampler: it picks an unvisited combination at random (any one once
// all were visited) and records its id on the trial through the ids of the history.
func (g *GridSampler) SampleRelative(h *History, t *FrozenTrial) (map[string]any, error) {
	seen := g.visited(h.Trials)
	var free []int
	for id := 0; id < g.size(); id++ {
		if !seen[id] {
			free = append(free, id)
		}
	}
	g.mu.Lock()
	var id int
	if len(free) > 0 {
		id = free[g.rng.IntN(len(free))]
	} else {
		id = g.rng.IntN(g.size())
	}
	g.mu.Unlock()
	t.SystemAttrs[gridAttr] = float64(id)
	return g.combination(id), nil
}

// SampleIndependent implements Sampler: a parameter outside the grid is an error.
func (g *GridSampler) SampleIndependent(_ *History, _ *FrozenTrial, name string, _ Distribution) (float64, error) {
	return 0, fmt.Errorf("parameter %q is not in the grid %v", name, g.names)
}
