package hpo

import (
	"fmt"
	"math"
	"sort"
)

// Pruner decides whether a running trial should stop early, from its intermediate values and
// those of the other trials.
type Pruner interface {
	Prune(s *Study, t *FrozenTrial) (bool, error)
}

// NopPruner never prunes.
type NopPruner struct{}

// Prune implements Pruner.
func (NopPruner) Prune(*Study, *FrozenTrial) (bool, error) { return false, nil }

// PercentilePruner prunes a trial whose best intermediate value so far is worse than the given
// percentile of the complete trials' values at the same step (Optuna's PercentilePruner).
type PercentilePruner struct {
	// Percentile in [0, 100]: 25 keeps the top quarter.
	Percentile float64
	// NStartupTrials: no pruning until this many trials completed (Optuna: 5).
	NStartupTrials int
	// NWarmupSteps: no pruning before this step (Optuna: 0).
	NWarmupSteps int
	// IntervalSteps between pruning checks, counted from NWarmupSteps (Optuna: 1).
	IntervalSteps int
	// NMinTrials: no pruning at a step that fewer complete trials reported (Optuna: 1).
	NMinTrials int
}

// NewPercentilePruner returns a percentile pruner with Optuna's defaults.
func NewPercentilePruner(percentile float64) *PercentilePruner {
	return &PercentilePruner{Percentile: percentile, NStartupTrials: 5, IntervalSteps: 1, NMinTrials: 1}
}

// NewMedianPruner returns Optuna's MedianPruner: the 50th percentile, n_startup_trials=5,
// n_warmup_steps=0, interval_steps=1, n_min_trials=1.
func NewMedianPruner() *PercentilePruner { return NewPercentilePruner(50) }

func (p *PercentilePruner) validate() error {
	switch {
	case p.Percentile < 0 || p.Percentile > 100 || math.IsNaN(p.Percentile):
		return fmt.Errorf("percentile %v is outside [0, 100]", p.Percentile)
	case p.NStartupTrials < 0:
		return fmt.Errorf("NStartupTrials %d is negative", p.NStartupTrials)
	case p.NWarmupSteps < 0:
		return fmt.Errorf("NWarmupSteps %d is negative", p.NWarmupSteps)
	case p.IntervalSteps < 1:
		return fmt.Errorf("IntervalSteps %d is below 1", p.IntervalSteps)
	case p.NMinTrials < 1:
		return fmt.Errorf("NMinTrials %d is below 1", p.NMinTrials)
	}
	return nil
}

// Prune implements Pruner.
func (p *PercentilePruner) Prune(s *Study, t *FrozenTrial) (bool, error) {
	if err := p.validate(); err != nil {
		return false, err
	}
	trials, err := s.readTrials()
	if err != nil {
		return false, err
	}
	return p.decide(s.Direction(), trials, t), nil
}

// decide is the pruning rule on plain data, so that the parity test can replay Optuna's curves.
func (p *PercentilePruner) decide(dir Direction, trials []FrozenTrial, t *FrozenTrial) bool {
	var complete []*FrozenTrial
	for i := range trials {
		if trials[i].State == Complete {
			complete = append(complete, &trials[i])
		}
	}
	if len(complete) == 0 || len(complete) < p.NStartupTrials {
		return false
	}
	step := t.LastStep()
	if step < 0 || step < p.NWarmupSteps {
		return false
	}
	if !firstInInterval(step, t, p.NWarmupSteps, p.IntervalSteps) {
		return false
	}
	best := math.NaN()
	for _, v := range t.Intermediate {
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(best) || dir.better(v, best) {
			best = v
		}
	}
	if math.IsNaN(best) {
		return true
	}
	var vals []float64
	for _, c := range complete {
		if v, ok := c.Intermediate[step]; ok {
			vals = append(vals, v)
		}
	}
	if len(vals) < p.NMinTrials {
		return false
	}
	q := p.Percentile
	if dir == Maximize {
		q = 100 - q
	}
	cut := nanPercentile(vals, q)
	if math.IsNaN(cut) {
		return false
	}
	if dir == Maximize {
		return best < cut
	}
	return best > cut
}

// firstInInterval reports whether step is the first reported step at or after the latest
// pruning point (warmup + k*interval), so that a check missed for lack of a report happens at
// the next report.
func firstInInterval(step int, t *FrozenTrial, warmup, interval int) bool {
	nearest := (step-warmup)/interval*interval + warmup
	second := -1
	for s := range t.Intermediate {
		if s > second && s != step {
			second = s
		}
	}
	return second < nearest
}

// nanPercentile is numpy's nanpercentile with linear interpolation.
func nanPercentile(vals []float64, q float64) float64 {
	var xs []float64
	for _, v := range vals {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	pos := q / 100 * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (pos-float64(lo))*(xs[hi]-xs[lo])
}

// SuccessiveHalvingPruner is Optuna's asynchronous successive halving: at rung r a trial that
// reached step minResource*eta^(r+minEarlyStoppingRate) must be in the top 1/eta of the values
// recorded at that rung, or it is pruned.
type SuccessiveHalvingPruner struct {
	// MinResource is the first rung's step; 0 means "auto": the last step of the first complete
	// trial over 100, at least 1 (Optuna's min_resource="auto").
	MinResource int
	// ReductionFactor eta (Optuna: 4).
	ReductionFactor int
	// MinEarlyStoppingRate shifts the first rung (Optuna: 0).
	MinEarlyStoppingRate int
	// BootstrapCount: prune at a rung until more than this many trials reached it (Optuna: 0).
	BootstrapCount int
}

// NewSuccessiveHalvingPruner returns the pruner with Optuna's defaults.
func NewSuccessiveHalvingPruner() *SuccessiveHalvingPruner {
	return &SuccessiveHalvingPruner{ReductionFactor: 4}
}

func rungKey(r int) string { return fmt.Sprintf("completed_rung_%d", r) }

// Prune implements Pruner.
func (p *SuccessiveHalvingPruner) Prune(s *Study, t *FrozenTrial) (bool, error) {
	if p.ReductionFactor < 2 || p.MinEarlyStoppingRate < 0 || p.BootstrapCount < 0 || p.MinResource < 0 {
		return false, fmt.Errorf("successive halving: bad settings %+v", *p)
	}
	step := t.LastStep()
	if step < 0 {
		return false, nil
	}
	rung := 0
	for {
		if _, ok := t.SystemAttrs[rungKey(rung)]; !ok {
			break
		}
		rung++
	}
	value := t.Intermediate[step]
	trials, err := s.readTrials()
	if err != nil {
		return false, err
	}
	if p.MinResource == 0 {
		last := -1
		for i := range trials {
			if trials[i].State == Complete {
				last = max(last, trials[i].LastStep())
			}
		}
		if last < 0 {
			return false, nil
		}
		p.MinResource = max(last/100, 1)
	}
	for {
		promotion := p.MinResource * int(math.Pow(float64(p.ReductionFactor), float64(p.MinEarlyStoppingRate+rung)))
		if step < promotion {
			return false, nil
		}
		if math.IsNaN(value) {
			return true, nil
		}
		key := rungKey(rung)
		if err := s.SetTrialSystemAttr(t.Number, key, value); err != nil {
			return false, err
		}
		t.SystemAttrs[key] = value
		competing := []float64{value}
		for i := range trials {
			if trials[i].Number == t.Number {
				continue
			}
			if v, ok := trials[i].SystemAttrs[key]; ok {
				competing = append(competing, v)
			}
		}
		if len(competing) <= p.BootstrapCount {
			return true, nil
		}
		idx := len(competing)/p.ReductionFactor - 1
		if idx < 0 {
			idx = 0
		}
		sort.Float64s(competing)
		if s.Direction() == Maximize {
			if value < competing[len(competing)-1-idx] {
				return true, nil
			}
		} else if value > competing[idx] {
			return true, nil
		}
		rung++
	}
}
