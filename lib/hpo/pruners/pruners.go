package pruners

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// PercentilePruner prunes a trial whose best intermediate value so far is worse than the given
// percentile of the complete trials' values at the same step (Optuna's PercentilePruner). It is
// configured once, by NewPercentile's or NewMedian's options.
type PercentilePruner struct {
	percentile     float64
	nStartupTrials int
	nWarmupSteps   int
	intervalSteps  int
	nMinTrials     int
}

// PercentileOption configures NewPercentile and NewMedian; the options are named after the
// pruner's arguments in Optuna.
type PercentileOption func(*PercentilePruner)

// WithNStartupTrials prunes nothing until n trials completed (Optuna's n_startup_trials: 5).
func WithNStartupTrials(n int) PercentileOption {
	return func(p *PercentilePruner) { p.nStartupTrials = n }
}

// WithNWarmupSteps prunes nothing before step n (Optuna's n_warmup_steps: 0).
func WithNWarmupSteps(n int) PercentileOption {
	return func(p *PercentilePruner) { p.nWarmupSteps = n }
}

// WithIntervalSteps sets the steps between pruning checks, counted from the warm-up (Optuna's
// interval_steps: 1).
func WithIntervalSteps(n int) PercentileOption {
	return func(p *PercentilePruner) { p.intervalSteps = n }
}

// WithNMinTrials prunes nothing at a step that fewer than n complete trials reported (Optuna's
// n_min_trials: 1).
func WithNMinTrials(n int) PercentileOption { return func(p *PercentilePruner) { p.nMinTrials = n } }

// NewPercentile returns a percentile pruner (percentile in [0, 100]: 25 keeps the top quarter)
// with Optuna's defaults, changed by opts. Settings out of range fail the trials that ask it
// (Prune returns an error), as Optuna's constructor raises.
func NewPercentile(percentile float64, opts ...PercentileOption) *PercentilePruner {
	p := &PercentilePruner{percentile: percentile, nStartupTrials: 5, intervalSteps: 1, nMinTrials: 1}
	for _, o := range opts {
		o(p)
	}
	return p
}

// NewMedian returns Optuna's MedianPruner: NewPercentile(50, opts...), by default
// n_startup_trials=5, n_warmup_steps=0, interval_steps=1, n_min_trials=1.
func NewMedian(opts ...PercentileOption) *PercentilePruner { return NewPercentile(50, opts...) }

func (p *PercentilePruner) validate() error {
	switch {
	case p.percentile < 0 || p.percentile > 100 || math.IsNaN(p.percentile):
		return fmt.Errorf("percentile %v is outside [0, 100]", p.percentile)
	case p.nStartupTrials < 0:
		return fmt.Errorf("n_startup_trials %d is negative", p.nStartupTrials)
	case p.nWarmupSteps < 0:
		return fmt.Errorf("n_warmup_steps %d is negative", p.nWarmupSteps)
	case p.intervalSteps < 1:
		return fmt.Errorf("interval_steps %d is below 1", p.intervalSteps)
	case p.nMinTrials < 1:
		return fmt.Errorf("n_min_trials %d is below 1", p.nMinTrials)
	}
	return nil
}

// Prune implements Pruner.
func (p *PercentilePruner) Prune(s *hpo.Study, t *hpo.FrozenTrial) (bool, error) {
	if err := p.validate(); err != nil {
		return false, err
	}
	trials, err := s.SharedTrials()
	if err != nil {
		return false, err
	}
	return p.decide(s.Direction(), trials, t), nil
}

// decide is the pruning rule on plain data, so that the parity test can replay Optuna's curves.
func (p *PercentilePruner) decide(dir hpo.Direction, trials []hpo.FrozenTrial, t *hpo.FrozenTrial) bool {
	var complete []*hpo.FrozenTrial
	for i := range trials {
		if trials[i].State == hpo.Complete {
			complete = append(complete, &trials[i])
		}
	}
	if len(complete) == 0 || len(complete) < p.nStartupTrials {
		return false
	}
	step := t.LastStep()
	if step < 0 || step < p.nWarmupSteps {
		return false
	}
	if !firstInInterval(step, t, p.nWarmupSteps, p.intervalSteps) {
		return false
	}
	best := math.NaN()
	for _, v := range t.Intermediate {
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(best) || dir.Better(v, best) {
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
	if len(vals) < p.nMinTrials {
		return false
	}
	q := p.percentile
	if dir == hpo.Maximize {
		q = 100 - q
	}
	cut := nanPercentile(vals, q)
	if math.IsNaN(cut) {
		return false
	}
	if dir == hpo.Maximize {
		return best < cut
	}
	return best > cut
}

// firstInInterval reports whether step is the first reported step at or after the latest
// pruning point (warmup + k*interval), so that a check missed for lack of a report happens at
// the next report.
func firstInInterval(step int, t *hpo.FrozenTrial, warmup, interval int) bool {
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
// recorded at that rung (kept on the trials as system attributes completed_rung_r, as Optuna),
// or it is pruned. It is configured once, by NewSuccessiveHalving's options.
type SuccessiveHalvingPruner struct {
	mu                   sync.Mutex
	minResource          int
	reductionFactor      int
	minEarlyStoppingRate int
	bootstrapCount       int
}

// SuccessiveHalvingOption configures NewSuccessiveHalving; the options are named after the
// pruner's arguments in Optuna.
type SuccessiveHalvingOption func(*SuccessiveHalvingPruner)

// WithMinResource sets the first rung's step; 0 (the default) means "auto": the last step of the
// first complete trial over 100, at least 1 (Optuna's min_resource="auto").
func WithMinResource(n int) SuccessiveHalvingOption {
	return func(p *SuccessiveHalvingPruner) { p.minResource = n }
}

// WithReductionFactor sets eta (Optuna's reduction_factor: 4).
func WithReductionFactor(eta int) SuccessiveHalvingOption {
	return func(p *SuccessiveHalvingPruner) { p.reductionFactor = eta }
}

// WithMinEarlyStoppingRate shifts the first rung (Optuna's min_early_stopping_rate: 0).
func WithMinEarlyStoppingRate(n int) SuccessiveHalvingOption {
	return func(p *SuccessiveHalvingPruner) { p.minEarlyStoppingRate = n }
}

// WithBootstrapCount prunes at a rung until more than n trials reached it (Optuna's
// bootstrap_count: 0).
func WithBootstrapCount(n int) SuccessiveHalvingOption {
	return func(p *SuccessiveHalvingPruner) { p.bootstrapCount = n }
}

// NewSuccessiveHalving returns the pruner with Optuna's defaults, changed by opts. Settings out
// of range fail the trials that ask it (Prune returns an error).
func NewSuccessiveHalving(opts ...SuccessiveHalvingOption) *SuccessiveHalvingPruner {
	p := &SuccessiveHalvingPruner{reductionFactor: 4}
	for _, o := range opts {
		o(p)
	}
	return p
}

func rungKey(r int) string { return fmt.Sprintf("completed_rung_%d", r) }

// Prune implements Pruner.
func (p *SuccessiveHalvingPruner) Prune(s *hpo.Study, t *hpo.FrozenTrial) (bool, error) {
	p.mu.Lock()
	minResource := p.minResource
	p.mu.Unlock()
	if p.reductionFactor < 2 || p.minEarlyStoppingRate < 0 || p.bootstrapCount < 0 || minResource < 0 {
		return false, fmt.Errorf("successive halving: bad settings: min_resource %d, reduction_factor %d, min_early_stopping_rate %d, bootstrap_count %d", minResource, p.reductionFactor, p.minEarlyStoppingRate, p.bootstrapCount)
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
	trials, err := s.SharedTrials()
	if err != nil {
		return false, err
	}
	if minResource == 0 {
		last := -1
		for i := range trials {
			if trials[i].State == hpo.Complete {
				last = max(last, trials[i].LastStep())
			}
		}
		if last < 0 {
			return false, nil
		}
		minResource = max(last/100, 1)
		p.mu.Lock()
		if p.minResource == 0 {
			p.minResource = minResource // "auto" is settled once, by the first complete trial
		}
		minResource = p.minResource
		p.mu.Unlock()
	}
	for {
		promotion := minResource * int(math.Pow(float64(p.reductionFactor), float64(p.minEarlyStoppingRate+rung)))
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
		if len(competing) <= p.bootstrapCount {
			return true, nil
		}
		idx := len(competing)/p.reductionFactor - 1
		if idx < 0 {
			idx = 0
		}
		sort.Float64s(competing)
		if s.Direction() == hpo.Maximize {
			if value < competing[len(competing)-1-idx] {
				return true, nil
			}
		} else if value > competing[idx] {
			return true, nil
		}
		rung++
	}
}
