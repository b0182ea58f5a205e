package importance

import (
	"errors"
	"fmt"
	"math"
)

// Param describes one column of X: a parameter's distribution, as Optuna's
// FloatDistribution, IntDistribution or CategoricalDistribution.
type Param struct {
	// Name is used only in error messages.
	Name string
	// Low and High bound a numerical parameter (int or float); every value of
	// the column must lie in [Low, High]. Unused when Categories > 0.
	Low, High float64
	// Log marks a log-scaled parameter. Optuna fits the forest on raw values
	// even so; Log matters only with Options.LogSpace.
	Log bool
	// Categories > 0 makes the parameter categorical, with values (choice
	// indices) 0..Categories-1.
	Categories int
}

// Options configures the random forest. Zero values mean Optuna's defaults.
type Options struct {
	// Trees is the number of trees (default 64, as Optuna's n_trees).
	Trees int
	// MaxDepth limits the depth of each tree (default 64, as Optuna's max_depth).
	MaxDepth int
	// Seed fixes the bootstrap samples and tie-breaking; the same seed gives
	// the same importances. It does not reproduce Optuna's numbers for the
	// same seed: NumPy's generator is not used here.
	Seed int64
	// MinSamplesSplit is the fewest distinct trials a node needs to be split
	// (default 2, as Optuna).
	MinSamplesSplit int
	// MinSamplesLeaf is the fewest distinct trials in a leaf (default 1, as Optuna).
	MinSamplesLeaf int
	// LogSpace fits log-scaled parameters on log(value) and integrates their
	// marginals uniformly in log space. Optuna does not (false by default).
	LogSpace bool
}

// single reports whether a parameter can take only one value, which Optuna
// leaves out of the fit and reports with importance 0.
func (p Param) single() bool {
	if p.Categories > 0 {
		return p.Categories == 1
	}
	return p.Low == p.High
}

// withDefaults fills Optuna's defaults and rejects values scikit-learn would.
func (o Options) withDefaults() (Options, error) {
	if o.Trees == 0 {
		o.Trees = 64
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 64
	}
	if o.MinSamplesSplit == 0 {
		o.MinSamplesSplit = 2
	}
	if o.MinSamplesLeaf == 0 {
		o.MinSamplesLeaf = 1
	}
	switch {
	case o.Trees < 0:
		return o, fmt.Errorf("importance: Options.Trees = %d, want > 0", o.Trees)
	case o.MaxDepth < 0:
		return o, fmt.Errorf("importance: Options.MaxDepth = %d, want > 0", o.MaxDepth)
	case o.MinSamplesSplit < 2:
		return o, fmt.Errorf("importance: Options.MinSamplesSplit = %d, want >= 2", o.MinSamplesSplit)
	case o.MinSamplesLeaf < 0:
		return o, fmt.Errorf("importance: Options.MinSamplesLeaf = %d, want >= 1", o.MinSamplesLeaf)
	}
	return o, nil
}

// encoded is the forest's view of the trials: numerical parameters one column
// each, categorical ones one-hot, single-valued ones dropped.
type encoded struct {
	n, cols int
	x       []float64 // row-major, n x cols, numbers rounded to float32 as scikit-learn
	y       []float64
	lo, hi  []float64 // search-space bounds per column
	// groups[p] lists the columns of parameter p; empty when p is single.
	groups [][]int
	// owner[c] is the parameter of column c.
	owner []int
}

// prepare is where both estimators start: the options with their defaults,
// the trials encoded as the forest's columns.
func prepare(X [][]float64, y []float64, params []Param, opts Options) (Options, *encoded, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return opts, nil, err
	}
	e, err := encode(X, y, params, opts.LogSpace)
	return opts, e, err
}

// encode validates X, y and params and builds the forest's matrix the way
// Optuna's _SearchSpaceTransform(transform_log=False, transform_step=False) does.
func encode(X [][]float64, y []float64, params []Param, logSpace bool) (*encoded, error) {
	if len(X) != len(y) {
		return nil, fmt.Errorf("importance: X has %d rows but y has %d values", len(X), len(y))
	}
	e := &encoded{groups: make([][]int, len(params))}
	for p, prm := range params {
		switch {
		case prm.Categories < 0:
			return nil, fmt.Errorf("importance: param %d (%q): Categories = %d, want >= 0", p, prm.Name, prm.Categories)
		case prm.Categories == 0 && !(prm.Low <= prm.High):
			return nil, fmt.Errorf("importance: param %d (%q): Low = %g > High = %g", p, prm.Name, prm.Low, prm.High)
		case prm.Categories == 0 && (math.IsInf(prm.Low, 0) || math.IsInf(prm.High, 0)):
			return nil, fmt.Errorf("importance: param %d (%q): bounds [%g, %g] must be finite", p, prm.Name, prm.Low, prm.High)
		case prm.Categories == 0 && logSpace && prm.Log && prm.Low <= 0:
			return nil, fmt.Errorf("importance: param %d (%q): log-scaled with Low = %g <= 0", p, prm.Name, prm.Low)
		}
		if prm.single() {
			continue
		}
		width := 1
		if prm.Categories > 0 {
			width = prm.Categories
		}
		for k := 0; k < width; k++ {
			e.groups[p] = append(e.groups[p], e.cols)
			e.owner = append(e.owner, p)
			if prm.Categories > 0 {
				e.lo, e.hi = append(e.lo, 0), append(e.hi, 1)
			} else if logSpace && prm.Log {
				e.lo, e.hi = append(e.lo, math.Log(prm.Low)), append(e.hi, math.Log(prm.High))
			} else {
				e.lo, e.hi = append(e.lo, prm.Low), append(e.hi, prm.High)
			}
			e.cols++
		}
	}
	for i, row := range X {
		if len(row) != len(params) {
			return nil, fmt.Errorf("importance: X row %d has %d values, want %d (one per param)", i, len(row), len(params))
		}
		for p, v := range row {
			prm := params[p]
			if prm.Categories > 0 {
				if v != math.Trunc(v) || v < 0 || v >= float64(prm.Categories) {
					return nil, fmt.Errorf("importance: X row %d, param %d (%q): %g is not a choice index in [0, %d)", i, p, prm.Name, v, prm.Categories)
				}
			} else if !(v >= prm.Low && v <= prm.High) {
				return nil, fmt.Errorf("importance: X row %d, param %d (%q): %g is outside [%g, %g]", i, p, prm.Name, v, prm.Low, prm.High)
			}
		}
		// Optuna drops trials whose value is not finite before fitting.
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			continue
		}
		base := len(e.x)
		e.x = append(e.x, make([]float64, e.cols)...)
		for p, v := range row {
			cols := e.groups[p]
			switch {
			case len(cols) == 0:
			case params[p].Categories > 0:
				e.x[base+cols[int(v)]] = 1
			case logSpace && params[p].Log:
				e.x[base+cols[0]] = float64(float32(math.Log(v)))
			default:
				// scikit-learn fits trees on a float32 copy of X: its thresholds
				// are midpoints of float32 values, and so are ours.
				e.x[base+cols[0]] = float64(float32(v))
			}
		}
		e.y = append(e.y, y[i])
		e.n++
	}
	if e.n < 2 {
		return nil, fmt.Errorf("importance: %d trials with a finite value, need at least 2", e.n)
	}
	return e, nil
}

// errZeroVariance is returned when no tree's prediction varies over the
// search space (e.g. all values equal); Optuna raises then too.
var errZeroVariance = errors.New("importance: every tree predicts a constant: zero total variance")

// FANOVA returns each parameter's importance, in the order of params and
// normalised to sum 1, as Optuna's default FanovaImportanceEvaluator: a random
// forest fitted to (X, y), then, per tree, the variance of the parameter's
// marginal prediction over the tree's total variance, averaged over the trees
// whose total variance is positive. Single-valued parameters get 0.
func FANOVA(X [][]float64, y []float64, params []Param, opts Options) ([]float64, error) {
	opts, e, err := prepare(X, y, params, opts)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(params))
	if e.cols == 0 {
		return out, nil
	}
	// fractions[t*len(params)+p] is tree t's fraction for parameter p; NaN
	// marks a tree with zero total variance, which Optuna skips.
	fractions := make([]float64, opts.Trees*len(params))
	err = fitForest(e, opts, func(t int, tr *tree) error {
		return tr.varianceFractions(e, fractions[t*len(params):(t+1)*len(params)])
	})
	if err != nil {
		return nil, err
	}
	used := 0
	for t := 0; t < opts.Trees; t++ {
		row := fractions[t*len(params) : (t+1)*len(params)]
		if math.IsNaN(row[0]) {
			continue
		}
		used++
		for p, f := range row {
			out[p] += f
		}
	}
	if used == 0 {
		return nil, errZeroVariance
	}
	return normalise(out)
}

// MeanDecreaseImpurity returns each parameter's importance, in the order of
// params and normalised to sum 1, as Optuna's
// MeanDecreaseImpurityImportanceEvaluator: scikit-learn's impurity-based
// feature_importances_ of the same random forest, one-hot columns summed back
// per parameter. It is cheaper than FANOVA but biased towards parameters with
// many distinct values. If no tree splits at all (e.g. all values equal) every
// importance is 0, as in scikit-learn.
func MeanDecreaseImpurity(X [][]float64, y []float64, params []Param, opts Options) ([]float64, error) {
	opts, e, err := prepare(X, y, params, opts)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(params))
	if e.cols == 0 {
		return out, nil
	}
	perTree := make([]float64, opts.Trees*e.cols)
	split := make([]bool, opts.Trees)
	err = fitForest(e, opts, func(t int, tr *tree) error {
		split[t] = len(tr.nodes) > 1
		tr.impurityDecrease(perTree[t*e.cols : (t+1)*e.cols])
		return nil
	})
	if err != nil {
		return nil, err
	}
	// scikit-learn averages the per-tree normalised importances over the trees
	// that split at least once, then normalises again.
	cols := make([]float64, e.cols)
	for t := 0; t < opts.Trees; t++ {
		if !split[t] {
			continue
		}
		for c, v := range perTree[t*e.cols : (t+1)*e.cols] {
			cols[c] += v
		}
	}
	for c, v := range cols {
		out[e.owner[c]] += v
	}
	var sum float64
	for _, v := range out {
		sum += v
	}
	if sum == 0 {
		return out, nil
	}
	return normalise(out)
}

// normalise scales v to sum 1.
func normalise(v []float64) ([]float64, error) {
	var sum float64
	for _, x := range v {
		sum += x
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return nil, fmt.Errorf("importance: importances sum to %g, cannot normalise", sum)
	}
	for i := range v {
		v[i] /= sum
	}
	return v, nil
}
