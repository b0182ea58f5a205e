package samplers

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/nprand"
)

// GridSampler tries every combination of the given values once, in a seeded random order, as
// Optuna's GridSampler; Optimize stops when all were tried (AfterTrial). Each parameter the objective asks
// for must be in the grid.
type GridSampler struct {
	names  []string
	values [][]any
	mu     sync.Mutex
	seed   uint64
	rng    *nprand.Rand
}

// GridOption configures NewGrid: WithSeed.
type GridOption interface{ applyGrid(*GridSampler) }

// NewGrid returns a grid sampler over space (name to the values to try: float64, int or the
// label of a categorical choice), in an order drawn from WithSeed's stream (at random without
// it, as Optuna's seed=None). An empty list of values is an error.
func NewGrid(space map[string][]any, opts ...GridOption) (*GridSampler, error) {
	g := &GridSampler{seed: rand.Uint64()}
	for _, o := range opts {
		o.applyGrid(g)
	}
	g.rng = nprand.New(g.seed)
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
func (g *GridSampler) visited(trials []hpo.FrozenTrial) map[int]bool {
	seen := map[int]bool{}
	for _, t := range trials {
		if id, ok := t.SystemAttrs[gridAttr]; ok {
			seen[int(id)] = true
		}
	}
	return seen
}

// AfterTrial implements hpo.AfterTrialSampler: once every combination was tried (by any worker of
// the storage) it stops the study, as Optuna's GridSampler.after_trial.
func (g *GridSampler) AfterTrial(s *hpo.Study, _ hpo.FrozenTrial) error {
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
func (g *GridSampler) SampleRelative(h *hpo.Snapshot, t *hpo.FrozenTrial) (map[string]any, error) {
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
func (g *GridSampler) SampleIndependent(_ *hpo.Snapshot, _ *hpo.FrozenTrial, name string, _ hpo.Distribution) (float64, error) {
	return 0, fmt.Errorf("parameter %q is not in the grid %v", name, g.names)
}

// UseWorker implements hpo.StreamSampler.
func (g *GridSampler) UseWorker(k int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rng = nprand.Worker(g.seed, k)
}

// StreamWords implements hpo.StreamSampler.
func (g *GridSampler) StreamWords() []uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return []uint64{g.rng.Words()}
}

// SeekStreams implements hpo.StreamSampler.
func (g *GridSampler) SeekStreams(words []uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(words) > 0 {
		g.rng.Seek(words[0])
	}
}
