package samplers

// SeedOption seeds a sampler: it is both a TPEOption and a GridOption.
type SeedOption uint64

// WithSeed seeds the sampler's random streams (Optuna's seed): the same seed gives the same
// parameters for the same objective, and the same as Optuna's sampler with that seed.
func WithSeed(seed uint64) SeedOption { return SeedOption(seed) }

func (o SeedOption) applyTPE(s *TPESampler)   { s.seed = uint64(o) }
func (o SeedOption) applyGrid(g *GridSampler) { g.seed = uint64(o) }
