package hpo

import (
	"fmt"
	"sort"

	"github.com/dlworkbench/hw1/lib/hpo/importance"
)

// ParamImportance is one parameter's share of the objective's variance.
type ParamImportance struct {
	Name       string
	Importance float64
}

// ImportanceOptions selects the evaluator and the parameters of ParamImportances.
type ImportanceOptions struct {
	// MeanDecreaseImpurity uses the cheaper impurity-based evaluator instead of fANOVA
	// (Optuna's default).
	MeanDecreaseImpurity bool
	// Params restricts the evaluation to these names (default: every parameter that all complete
	// trials share, as Optuna).
	Params []string
	// Forest configures the random forest; zero values are Optuna's defaults.
	Forest importance.Options
}

// ParamImportances returns the importance of each parameter over the complete trials, largest
// first, as Optuna's get_param_importances: by default the parameters are those that every
// complete trial has with the same distribution (a conditional parameter is left out).
func (s *Study) ParamImportances(opts ImportanceOptions) ([]ParamImportance, error) {
	trials, err := s.SharedTrials()
	if err != nil {
		return nil, err
	}
	var complete []*FrozenTrial
	for i := range trials {
		if trials[i].State == Complete {
			complete = append(complete, &trials[i])
		}
	}
	if len(complete) == 0 {
		return nil, fmt.Errorf("study %q: importances: %w", s.name, ErrNoCompleteTrials)
	}
	space := map[string]Distribution{}
	for n, d := range complete[0].Distributions {
		space[n] = d
	}
	for _, t := range complete[1:] {
		for n, d := range space {
			if od, ok := t.Distributions[n]; !ok || !od.Equal(d) {
				delete(space, n)
			}
		}
	}
	names := opts.Params
	if len(names) == 0 {
		for n := range space {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("study %q: importances: no parameter is shared by all complete trials", s.name)
	}
	params := make([]importance.Param, len(names))
	for j, n := range names {
		d, ok := space[n]
		if !ok {
			return nil, fmt.Errorf("study %q: importances: parameter %q is not in every complete trial", s.name, n)
		}
		params[j] = importance.Param{Name: n, Low: d.Low, High: d.High, Log: d.Log}
		if d.Kind == CategoricalKind {
			params[j] = importance.Param{Name: n, Categories: len(d.Choices)}
		}
	}
	X := make([][]float64, len(complete))
	y := make([]float64, len(complete))
	for i, t := range complete {
		X[i] = make([]float64, len(names))
		for j, n := range names {
			X[i][j] = t.Params[n]
		}
		y[i] = t.Value
	}
	evaluate := importance.FANOVA
	if opts.MeanDecreaseImpurity {
		evaluate = importance.MeanDecreaseImpurity
	}
	imp, err := evaluate(X, y, params, opts.Forest)
	if err != nil {
		return nil, fmt.Errorf("study %q: importances: %w", s.name, err)
	}
	out := make([]ParamImportance, len(names))
	for j, n := range names {
		out[j] = ParamImportance{n, imp[j]}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Importance > out[b].Importance })
	return out, nil
}
