package homework

import (
	"fmt"
	"math"
	"strings"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
)

// Parameter names of the studies, in one place. The MLP's per-layer
// parameters are suffixed with the layer index: n_units_l0, dropout_l1, ...
const (
	ParamNLayers      = "n_layers"
	ParamNUnits       = "n_units_l"
	ParamDropout      = "dropout_l"
	ParamBatchSize    = "batch_size"
	ParamEpochs       = "n_epochs"
	ParamLearningRate = "lr"
	ParamWeightDecay  = "weight_decay"
	ParamOptimizer    = "optimizer"
	ParamMomentum     = "momentum"
)

// paramField is the configuration field of the space that a parameter is
// drawn from.
func paramField(param string) string {
	switch {
	case param == ParamNLayers:
		return "space.n_layers"
	case strings.HasPrefix(param, ParamNUnits):
		return "space.n_units"
	case strings.HasPrefix(param, ParamDropout):
		return "space.dropout"
	case param == ParamBatchSize:
		return "space.batch_size"
	case param == ParamEpochs:
		return "space.epochs"
	case param == ParamLearningRate:
		return "space.learning_rate"
	case param == ParamWeightDecay:
		return "space.weight_decay"
	case param == ParamOptimizer:
		return "space.optimizers"
	case param == ParamMomentum:
		return "space.momentum"
	}
	return "space"
}

// suggester is what the search space asks its values from: a study's trial
// while searching, the best parameters when building the optimized model
// (the seed's build_opt_model), a journal's trial when a resume is checked,
// so all of them read the space the same way. It is asked only about ranges
// with more than one value.
type suggester interface {
	Int(name string, r IntRange) (int, error)
	Float(name string, r FloatRange) (float64, error)
	Choice(name string, choices []string) (string, error)
}

func suggestInt(s suggester, name string, r IntRange) (int, error) {
	if r.Low == r.High {
		return r.Low, nil
	}
	return s.Int(name, r)
}

func suggestFloat(s suggester, name string, r FloatRange) (float64, error) {
	if r.Low == r.High {
		return r.Low, nil
	}
	return s.Float(name, r)
}

// trialSuggester asks a study's trial.
type trialSuggester struct{ t *hpo.Trial }

func (s trialSuggester) Int(name string, r IntRange) (int, error) {
	if r.Log {
		return s.t.SuggestInt(name, r.Low, r.High, hpo.Log())
	}
	return s.t.SuggestInt(name, r.Low, r.High)
}

func (s trialSuggester) Float(name string, r FloatRange) (float64, error) {
	if r.Log {
		return s.t.SuggestFloat(name, r.Low, r.High, hpo.Log())
	}
	return s.t.SuggestFloat(name, r.Low, r.High)
}

func (s trialSuggester) Choice(name string, choices []string) (string, error) {
	return s.t.SuggestCategorical(name, choices)
}

// distributions are what a trial records for each kind of question: the
// journal keeps them, and a resume compares them.
func intDistribution(r IntRange) hpo.Distribution {
	return hpo.IntDistribution(r.Low, r.High, r.Log, 1)
}

func floatDistribution(r FloatRange) hpo.Distribution {
	return hpo.FloatDistribution(r.Low, r.High, r.Log, 0)
}

// Model is what a point of the search space builds: the network and how to
// train it.
type Model struct {
	Spec            nn.Spec            `json:"spec"`
	Hyperparameters nn.Hyperparameters `json:"hyperparameters"`
}

// suggestModel reads one point of the space for the task.
func suggestModel(s suggester, task string, sp Space) (Model, error) {
	var m Model
	var err error
	errs := func(e error) {
		if err == nil {
			err = e
		}
	}
	var e error
	if task == TaskRegression {
		nLayers, e1 := suggestInt(s, ParamNLayers, sp.NLayers)
		errs(e1)
		hidden := make([]int, nLayers)
		dropout := make([]float64, nLayers)
		for i := range hidden {
			hidden[i], e = suggestInt(s, fmt.Sprintf("%s%d", ParamNUnits, i), sp.NUnits)
			errs(e)
			dropout[i], e = suggestFloat(s, fmt.Sprintf("%s%d", ParamDropout, i), sp.Dropout)
			errs(e)
		}
		m.Spec = nn.MLP(hidden, dropout, sp.Activation)
	} else {
		d1, e1 := suggestFloat(s, ParamDropout+"0", sp.Dropout)
		d2, e2 := suggestFloat(s, ParamDropout+"1", sp.Dropout)
		errs(e1)
		errs(e2)
		m.Spec = nn.LeNet5(d1, d2)
	}
	h := &m.Hyperparameters
	h.BatchSize, e = suggestInt(s, ParamBatchSize, sp.BatchSize)
	errs(e)
	h.Epochs, e = suggestInt(s, ParamEpochs, sp.Epochs)
	errs(e)
	h.LearningRate, e = suggestFloat(s, ParamLearningRate, sp.LearningRate)
	errs(e)
	h.WeightDecay, e = suggestFloat(s, ParamWeightDecay, sp.WeightDecay)
	errs(e)
	if len(sp.Optimizers) == 1 {
		h.Optimizer = sp.Optimizers[0]
	} else {
		h.Optimizer, e = s.Choice(ParamOptimizer, sp.Optimizers)
		errs(e)
	}
	if h.Optimizer == nn.OptimizerSGD {
		// Momentum is a parameter of SGD only: other trials never see it.
		h.Momentum, e = suggestFloat(s, ParamMomentum, sp.Momentum)
		errs(e)
	}
	return m, err
}

// fixedParams answers the space's questions from a study's best parameters.
type fixedParams map[string]any

func (f fixedParams) get(name string) (any, error) {
	v, ok := f[name]
	if !ok {
		return nil, fmt.Errorf("best parameters lack %q", name)
	}
	return v, nil
}

func (f fixedParams) Int(name string, _ IntRange) (int, error) {
	v, err := f.get(name)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		return int(math.Round(x)), nil
	}
	return 0, fmt.Errorf("parameter %q: %v is not an integer", name, v)
}

func (f fixedParams) Float(name string, _ FloatRange) (float64, error) {
	v, err := f.get(name)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	}
	return 0, fmt.Errorf("parameter %q: %v is not a number", name, v)
}

func (f fixedParams) Choice(name string, _ []string) (string, error) {
	v, err := f.get(name)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("parameter %q: %v is not a choice", name, v)
	}
	return s, nil
}

// BuildOptModel is the seed's build_opt_model: the model and training of the
// best parameters of a study over the task's space.
func BuildOptModel(task string, sp Space, best map[string]any) (Model, error) {
	return suggestModel(fixedParams(best), task, sp)
}

// seedBestParams are the seed's best hyperparameters (TABLE II for the
// regression, TABLE IV for the classification) under this package's
// parameter names, each clipped to the space; parameters the space fixes are
// left out (the trial never asks for them).
func seedBestParams(task string, sp Space) map[string]any {
	clipI := func(v int, r IntRange) int { return max(r.Low, min(r.High, v)) }
	clipF := func(v float64, r FloatRange) float64 { return max(r.Low, min(r.High, v)) }
	var spec nn.Spec
	var hp nn.Hyperparameters
	p := map[string]any{}
	if task == TaskRegression {
		spec, hp = nn.SeedRegressionBest()
		p[ParamNLayers] = clipI(len(spec.Hidden), sp.NLayers)
		for i, u := range spec.Hidden {
			p[fmt.Sprintf("%s%d", ParamNUnits, i)] = clipI(u, sp.NUnits)
			p[fmt.Sprintf("%s%d", ParamDropout, i)] = clipF(0, sp.Dropout)
		}
	} else {
		spec, hp = nn.SeedClassificationBest()
		for i, d := range spec.Dropout {
			p[fmt.Sprintf("%s%d", ParamDropout, i)] = clipF(d, sp.Dropout)
		}
	}
	p[ParamBatchSize] = clipI(hp.BatchSize, sp.BatchSize)
	p[ParamEpochs] = clipI(hp.Epochs, sp.Epochs)
	p[ParamLearningRate] = clipF(hp.LearningRate, sp.LearningRate)
	p[ParamWeightDecay] = clipF(hp.WeightDecay, sp.WeightDecay)
	for _, o := range sp.Optimizers {
		if o == hp.Optimizer {
			p[ParamOptimizer] = o
		}
	}
	if hp.Optimizer == nn.OptimizerSGD {
		p[ParamMomentum] = clipF(hp.Momentum, sp.Momentum)
	}
	return p
}
