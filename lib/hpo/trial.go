package hpo

import (
	"context"
	"fmt"
	"math"
)

// Trial is one run of the objective. The objective asks it for parameters (define-by-run: the
// search space is whatever the objective asks for, so a parameter asked only in some branches is
// a conditional parameter) and reports intermediate values to it.
//
// A Trial is not safe for concurrent use by several goroutines.
type Trial struct {
	study    *Study
	frozen   FrozenTrial
	snapshot *Snapshot
	relative map[string]any
	ctx      context.Context
	// uninterrupted is the number of earlier trials that were not cut short.
	uninterrupted int
	// err is the first storage or sampler failure; Tell then fails the trial with it, so that
	// ShouldPrune can keep Optuna's boolean signature.
	err error
}

// SuggestOption changes how SuggestFloat and SuggestInt draw a value.
type SuggestOption func(*suggestConfig)

type suggestConfig struct {
	log  bool
	step float64
}

// Log draws the value uniformly in log space (low must be > 0).
func Log() SuggestOption { return func(c *suggestConfig) { c.log = true } }

// Step restricts the value to low, low+step, low+2*step, ...
func Step(step float64) SuggestOption { return func(c *suggestConfig) { c.step = step } }

// Number is the trial number assigned by the storage (0, 1, 2, ...).
func (t *Trial) Number() int { return t.frozen.Number }

// UninterruptedNumber is the trial's number as if no trial had been cut short: the count of
// earlier trials that were not interrupted and whose worker did not die. In a seeded
// single-worker study a trial cut short is drawn again by the next one (stream.go), so this
// number, unlike Number, is the same however often the study was interrupted: an objective
// that seeds its training with it trains the same models as the uninterrupted study.
func (t *Trial) UninterruptedNumber() int { return t.uninterrupted }

// Context is the context of the Optimize call running the trial (context.Background for Ask). A long objective should watch it (a training loop: check ctx.Err() after
// each epoch) and return ctx.Err() once it is done; the trial is then recorded as FAIL with
// reason ReasonInterrupted and Optimize returns.
func (t *Trial) Context() context.Context {
	if t.ctx == nil {
		return context.Background()
	}
	return t.ctx
}

// Study returns the study the trial belongs to.
func (t *Trial) Study() *Study { return t.study }

// Params returns the parameters suggested so far, as the objective saw them.
func (t *Trial) Params() map[string]any { return t.frozen.ExternalParams() }

// Err returns the first storage or sampler error of the trial, if any.
func (t *Trial) Err() error { return t.err }

func (t *Trial) setErr(err error) {
	if t.err == nil {
		t.err = fmt.Errorf("trial %d: %w", t.frozen.Number, err)
	}
}

// SuggestFloat draws a float64 in [low, high]; options Log() and Step(s).
func (t *Trial) SuggestFloat(name string, low, high float64, opts ...SuggestOption) (float64, error) {
	var c suggestConfig
	for _, o := range opts {
		o(&c)
	}
	d := FloatDistribution(low, high, c.log, c.step)
	v, err := t.suggest(name, d)
	return v, err
}

// SuggestInt draws an int in [low, high]; options Log() and Step(s) (s a whole number).
func (t *Trial) SuggestInt(name string, low, high int, opts ...SuggestOption) (int, error) {
	var c suggestConfig
	for _, o := range opts {
		o(&c)
	}
	if c.step != math.Trunc(c.step) {
		return low, fmt.Errorf("trial %d parameter %q: int step %v is not a whole number", t.frozen.Number, name, c.step)
	}
	d := IntDistribution(low, high, c.log, int(c.step))
	v, err := t.suggest(name, d)
	return int(v), err
}

// SuggestCategorical draws one of the choices.
func (t *Trial) SuggestCategorical(name string, choices []string) (string, error) {
	return SuggestChoice(t, name, choices)
}

// SuggestChoice draws one of any comparable choices (ints, bools, strings, ...). The storage
// keeps fmt.Sprint of each choice, so two choices must not print the same.
func SuggestChoice[T comparable](t *Trial, name string, choices []T) (T, error) {
	var zero T
	labels := make([]string, len(choices))
	seen := make(map[string]bool, len(choices))
	for i, c := range choices {
		labels[i] = fmt.Sprint(c)
		if seen[labels[i]] {
			return zero, fmt.Errorf("trial %d parameter %q: two choices print as %q", t.frozen.Number, name, labels[i])
		}
		seen[labels[i]] = true
	}
	v, err := t.suggest(name, CategoricalDistribution(labels...))
	if err != nil {
		return zero, err
	}
	return choices[int(v)], nil
}

// suggest returns the internal value of a parameter: the earlier one if the objective asks twice,
// the enqueued or relative (multivariate, grid) one if there is one, else an independent sample.
func (t *Trial) suggest(name string, d Distribution) (float64, error) {
	fail := func(err error) (float64, error) {
		return 0, fmt.Errorf("trial %d parameter %q: %w", t.frozen.Number, name, err)
	}
	if err := d.Validate(); err != nil {
		return fail(err)
	}
	if d.Kind != CategoricalKind {
		d.High = d.EffectiveHigh()
	}
	if old, ok := t.frozen.Distributions[name]; ok {
		if !old.Equal(d) {
			return fail(fmt.Errorf("asked again with %s, first asked with %s", d, old))
		}
		return t.frozen.Params[name], nil
	}
	v, found := 0.0, false
	if x, ok := t.frozen.FixedParams[name]; ok {
		iv, err := d.Internal(x)
		if err != nil {
			return fail(fmt.Errorf("enqueued value: %w", err))
		}
		v, found = iv, true
	} else if x, ok := t.relative[name]; ok {
		// A relative value drawn for another distribution is dropped, as Optuna does.
		if iv, err := d.Internal(x); err == nil {
			v, found = iv, true
		}
	}
	if !found && d.Single() {
		// One possible value: Optuna takes it without asking the sampler (so no random draw).
		v, found = 0, true
		if d.Kind != CategoricalKind {
			v = d.Low
		}
	}
	if !found {
		var err error
		v, err = t.study.sampler.SampleIndependent(t.snapshot, &t.frozen, name, d)
		if err != nil {
			t.setErr(err)
			return fail(fmt.Errorf("sampler: %w", err))
		}
	}
	if err := t.study.storage.SetParam(t.frozen.Number, name, d, v); err != nil {
		t.setErr(err)
		return fail(err)
	}
	t.frozen.Params[name] = v
	t.frozen.Distributions[name] = d
	return v, nil
}

// Report records the objective's value at a step (an epoch, say) for pruners and curves. A second
// report at the same step is ignored, as Optuna does.
func (t *Trial) Report(step int, value float64) error {
	if _, ok := t.frozen.Intermediate[step]; ok {
		return nil
	}
	if err := t.study.storage.Report(t.frozen.Number, step, value); err != nil {
		t.setErr(err)
		return err
	}
	t.frozen.Intermediate[step] = value
	return nil
}

// ShouldPrune asks the study's pruner whether to stop this trial now. When it says true the
// objective should return ErrPruned. Storage failures make it return true and fail the trial.
func (t *Trial) ShouldPrune() bool {
	if t.err != nil {
		return true
	}
	prune, err := t.study.pruner.Prune(t.study, &t.frozen)
	if err != nil {
		t.setErr(fmt.Errorf("pruner: %w", err))
		return true
	}
	return prune
}
