package plot

import (
	"fmt"
	"math"
	"sort"
	"strings"

	gplot "gonum.org/v1/plot"
)

// Trial is one trial of a study, as Optuna records it.
type Trial struct {
	Number int
	// State is Optuna's: "COMPLETE", "PRUNED", "FAIL" or "RUNNING" (any case).
	State string
	// Value is the objective; it is read only for complete trials.
	Value             float64
	Params            map[string]float64
	CategoricalParams map[string]string
	// Intermediate maps a step (epoch) to the value reported at it.
	Intermediate map[int]float64
}

// Param describes a searched parameter so that plots can use a log axis or
// name the categories in order. Without it the plots infer: categorical if
// the trials hold it in CategoricalParams, log when positive and spanning
// more than about a decade and a half (a ratio of 30).
type Param struct {
	Name      string
	Low, High float64
	Log       bool
	Choices   []string
}

// Study is what the study plots read.
type Study struct {
	Name string
	// Direction is "minimize" or "maximize".
	Direction string
	// Objective names the value for axis labels, e.g. "validation loss".
	Objective string
	Trials    []Trial
	Params    []Param
}

func (t Trial) complete() bool { return strings.EqualFold(t.State, "COMPLETE") }
func (t Trial) pruned() bool   { return strings.EqualFold(t.State, "PRUNED") }
func (t Trial) failed() bool   { return strings.EqualFold(t.State, "FAIL") }

func (s Study) maximize() bool { return strings.EqualFold(s.Direction, "maximize") }

func (s Study) objective() string {
	if s.Objective != "" {
		return s.Objective
	}
	return "objective value"
}

// completeTrials is check for a figure that needs a complete trial: the
// study's complete trials, or an error naming the figure.
func (s Study) completeTrials(figure string) ([]Trial, error) {
	done, err := s.check()
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", figure, err)
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no complete trial", figure, s.Name)
	}
	return done, nil
}

// check validates the study and returns its complete trials.
func (s Study) check() ([]Trial, error) {
	d := strings.ToLower(s.Direction)
	if d != "minimize" && d != "maximize" {
		return nil, fmt.Errorf("study %q: direction %q, want minimize or maximize", s.Name, s.Direction)
	}
	if len(s.Trials) == 0 {
		return nil, fmt.Errorf("study %q: no trials", s.Name)
	}
	var done []Trial
	for _, t := range s.Trials {
		for k, v := range t.Params {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("study %q: trial %d: param %s is %v", s.Name, t.Number, k, v)
			}
		}
		// A non-finite intermediate value is data, not an error: a trial
		// whose training diverged reported it (Optuna keeps it too). The
		// figures leave such points out.
		if t.complete() {
			if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
				return nil, fmt.Errorf("study %q: complete trial %d has value %v", s.Name, t.Number, t.Value)
			}
			done = append(done, t)
		}
	}
	return done, nil
}

func (s Study) counts() string {
	c, p := 0, 0
	for _, t := range s.Trials {
		if t.complete() {
			c++
		} else if t.pruned() {
			p++
		}
	}
	return fmt.Sprintf("%d trials: %d complete, %d pruned", len(s.Trials), c, p)
}

// paramAxis maps a parameter's values to a linear plot axis: log10 for log
// parameters, the index for categorical ones.
type paramAxis struct {
	name    string
	log     bool
	choices []string
	// integer is set when every trial's value is a whole number (layers,
	// units, epochs, batch size), so that the axis is labelled in them.
	integer bool
	// low and high are the searched range, when known: the span of an
	// axis whose trials all hold one value (momentum in the one SGD trial).
	low, high float64
}

// axes returns the axes of the study's parameters, in the order of
// s.Params, then the remaining ones by name.
func (s Study) axes() []paramAxis {
	spec := map[string]Param{}
	var order []string
	for _, p := range s.Params {
		spec[p.Name] = p
		order = append(order, p.Name)
	}
	seen := map[string]bool{}
	for _, n := range order {
		seen[n] = true
	}
	var rest []string
	for _, t := range s.Trials {
		for k := range t.Params {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
		for k := range t.CategoricalParams {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	sort.Strings(rest)
	used := map[string]bool{}
	for _, t := range s.Trials {
		for k := range t.Params {
			used[k] = true
		}
		for k := range t.CategoricalParams {
			used[k] = true
		}
	}
	var out []paramAxis
	for _, n := range append(order, rest...) {
		if !used[n] {
			continue // declared but never sampled: nothing to draw
		}
		a := paramAxis{name: n}
		p, hasSpec := spec[n]
		switch {
		case hasSpec && len(p.Choices) > 0:
			a.choices = p.Choices
		case hasSpec:
			// The trials may still hold it as a category (a spec without
			// its choices); otherwise the spec decides the scale.
			if _, choices := s.infer(n); choices != nil {
				a.choices = choices
			} else {
				a.log, a.low, a.high = p.Log, p.Low, p.High
			}
		default:
			a.log, a.choices = s.infer(n)
		}
		a.integer = a.choices == nil && !a.log && s.wholeNumbers(n)
		out = append(out, a)
	}
	return out
}

func (s Study) infer(name string) (log bool, choices []string) {
	cat := map[string]bool{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range s.Trials {
		if v, ok := t.CategoricalParams[name]; ok {
			cat[v] = true
		}
		if v, ok := t.Params[name]; ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if len(cat) > 0 {
		for c := range cat {
			choices = append(choices, c)
		}
		sort.Strings(choices)
		return false, choices
	}
	// Searched ranges of 10x or less (epochs, batch sizes, units) read
	// better linear; rates and decays span two or more decades.
	return lo > 0 && hi/lo >= 30, nil
}

// wholeNumbers reports whether every trial that has the parameter holds a
// whole number in it.
func (s Study) wholeNumbers(name string) bool {
	for _, t := range s.Trials {
		if v, ok := t.Params[name]; ok && v != math.Round(v) {
			return false
		}
	}
	return true
}

// value returns the trial's position on this axis.
func (a paramAxis) value(t Trial) (float64, bool) {
	if a.choices != nil {
		v, ok := t.CategoricalParams[a.name]
		if !ok {
			return 0, false
		}
		for i, c := range a.choices {
			if c == v {
				return float64(i), true
			}
		}
		return 0, false
	}
	v, ok := t.Params[a.name]
	if !ok {
		return 0, false
	}
	if a.log {
		if v <= 0 {
			return 0, false
		}
		return math.Log10(v), true
	}
	return v, true
}

// span returns the axis range to draw for values from lo to hi (in axis
// coordinates): lo..hi itself, except when all trials hold one value, where
// a made-up margin would invent values (a negative momentum, 1.4 epochs):
// the searched range then, else half a unit either side.
func (a paramAxis) span(lo, hi float64) (float64, float64) {
	if hi > lo {
		return lo, hi
	}
	if a.choices == nil && a.high > a.low && !a.integer {
		slo, shi := a.low, a.high
		if a.log {
			if slo <= 0 {
				return lo - 0.5, hi + 0.5
			}
			slo, shi = math.Log10(slo), math.Log10(shi)
		}
		if slo <= lo && lo <= shi {
			return slo, shi
		}
	}
	return lo - 0.5, hi + 0.5
}

func (a paramAxis) label() string {
	if a.log {
		return a.name + " (log scale)"
	}
	return a.name
}

// ticker labels the axis in parameter values.
func (a paramAxis) ticker() gplot.Ticker {
	switch {
	case a.choices != nil:
		return namedTicks(a.choices)
	case a.log:
		return log10Ticks{}
	case a.integer:
		return intTicks{}
	}
	return niceTicks{}
}

// log10Ticks labels an axis that holds log10 of the values with the values.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []gplot.Tick {
	ts := logTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ts {
		ts[i].Value = math.Log10(ts[i].Value)
	}
	return ts
}

// padRange widens lo..hi by a fraction so that points do not sit on the frame.
func padRange(lo, hi, frac float64) (float64, float64) {
	if hi <= lo {
		return lo - 0.5, hi + 0.5
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

func (s Study) axis(name string) (paramAxis, bool) {
	for _, a := range s.axes() {
		if a.name == name {
			return a, true
		}
	}
	return paramAxis{}, false
}
