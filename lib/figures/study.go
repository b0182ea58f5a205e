package figures

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/plot"
)

// Option changes how a study is drawn.
type Option func(*options)

type options struct{ objective string }

// Objective names the study's value on the axes, e.g. "validation loss"
// (default: "objective value", as Optuna).
func Objective(name string) Option { return func(o *options) { o.objective = name } }

// StudyOf is the study's trials as lib/plot reads them: every trial with its
// state, value, parameters (numbers, or the label of a categorical choice)
// and intermediate values, and every parameter's range for the axes.
func StudyOf(s *hpo.Study, opts ...Option) (plot.Study, error) {
	if s == nil {
		return plot.Study{}, errors.New("figures: no study")
	}
	trials, err := s.Trials()
	if err != nil {
		return plot.Study{}, fmt.Errorf("figures: study %q: %w", s.Name(), err)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := "minimize"
	if s.Direction() == hpo.Maximize {
		dir = "maximize"
	}
	return plot.Study{Name: s.Name(), Direction: dir, Objective: o.objective,
		Trials: Trials(trials), Params: Params(trials)}, nil
}

// Trials turns frozen trials into lib/plot's: a categorical parameter by
// its label, the others as numbers.
func Trials(trials []hpo.FrozenTrial) []plot.Trial {
	out := make([]plot.Trial, 0, len(trials))
	for _, t := range trials {
		pt := plot.Trial{Number: t.Number, State: string(t.State), Value: t.Value,
			Params: map[string]float64{}, CategoricalParams: map[string]string{}, Intermediate: map[int]float64{}}
		for name, v := range t.Params {
			d := t.Distributions[name]
			if d.Kind == hpo.CategoricalKind {
				if i := int(v); i >= 0 && i < len(d.Choices) && !math.IsNaN(v) {
					pt.CategoricalParams[name] = d.Choices[i]
				}
				continue
			}
			pt.Params[name] = v
		}
		for step, v := range t.Intermediate {
			pt.Intermediate[step] = v
		}
		out = append(out, pt)
	}
	return out
}

// Params describes every parameter the trials drew, by name, from its
// distribution: range, log scale, choices.
func Params(trials []hpo.FrozenTrial) []plot.Param {
	seen := map[string]hpo.Distribution{}
	for _, t := range trials {
		for n, d := range t.Distributions {
			seen[n] = d
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]plot.Param, 0, len(names))
	for _, n := range names {
		d := seen[n]
		p := plot.Param{Name: n, Low: d.Low, High: d.High, Log: d.Log}
		if d.Kind == hpo.CategoricalKind {
			p.Choices = d.Choices
		}
		out = append(out, p)
	}
	return out
}

// ErrNoImportances is wrapped by the error of Importances (and of the
// figures that need them) when the study's importances cannot be computed,
// as in a study with fewer than two complete trials.
var ErrNoImportances = errors.New("no param importances")

// Importances is the importance of each parameter over the complete trials
// (fANOVA, Optuna's default), by name.
func Importances(s *hpo.Study) (map[string]float64, error) {
	if s == nil {
		return nil, errors.New("figures: no study")
	}
	pis, err := s.ParamImportances(hpo.ImportanceOptions{})
	if err != nil {
		return nil, fmt.Errorf("figures: study %q: %w: %w", s.Name(), ErrNoImportances, err)
	}
	imp := make(map[string]float64, len(pis))
	for _, pi := range pis {
		imp[pi.Name] = pi.Importance
	}
	return imp, nil
}

// studyFigure draws one figure of the study's plain form.
func studyFigure(s *hpo.Study, opts []Option, draw func(plot.Study) (*plot.Figure, error)) (*plot.Figure, error) {
	ps, err := StudyOf(s, opts...)
	if err != nil {
		return nil, err
	}
	return draw(ps)
}

// OptimizationHistory draws every trial's value and the best so far.
func OptimizationHistory(s *hpo.Study, opts ...Option) (*plot.Figure, error) {
	return studyFigure(s, opts, plot.OptimizationHistory)
}

// IntermediateValues draws the value every trial reported at each step.
func IntermediateValues(s *hpo.Study, opts ...Option) (*plot.Figure, error) {
	return studyFigure(s, opts, plot.IntermediateValues)
}

// Slice draws the value against each parameter.
func Slice(s *hpo.Study, opts ...Option) (*plot.Figure, error) {
	return studyFigure(s, opts, plot.Slice)
}

// ParallelCoordinate draws every complete trial across its parameters.
func ParallelCoordinate(s *hpo.Study, opts ...Option) (*plot.Figure, error) {
	return studyFigure(s, opts, plot.ParallelCoordinate)
}

// ParamImportances draws the parameters' importances (Importances).
func ParamImportances(s *hpo.Study) (*plot.Figure, error) {
	imp, err := Importances(s)
	if err != nil {
		return nil, err
	}
	return plot.ParamImportances(imp)
}

// Contour draws the value over pairs of the given parameters, the first
// against each of the others; without params, the three most important
// (as the seed's figures).
func Contour(s *hpo.Study, params []string, opts ...Option) (*plot.Figure, error) {
	if len(params) == 0 {
		imp, err := Importances(s)
		if err != nil {
			return nil, err
		}
		params = plot.TopParams(imp, 3)
	}
	return studyFigure(s, opts, func(ps plot.Study) (*plot.Figure, error) { return plot.Contour(ps, params) })
}

// StudyFigures draws every figure of the study: optimization history,
// importances, contour of the most important parameters, slice, parallel
// coordinates and intermediate values. A young study cannot have every one
// (importances need two complete trials): it returns the figures it could
// draw, with an error naming the others.
func StudyFigures(s *hpo.Study, opts ...Option) ([]*plot.Figure, error) {
	ps, err := StudyOf(s, opts...)
	if err != nil {
		return nil, err
	}
	imp, impErr := Importances(s)
	figs, err := plot.StudyFigures(plot.StudyResults{Study: ps, Importances: imp})
	return figs, errors.Join(impErr, err)
}
