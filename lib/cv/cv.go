package cv

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/gomlx/compute"
)

// Config of a k-fold run.
type Config struct {
	Spec            nn.Spec
	Hyperparameters nn.Hyperparameters
	// Folds is k; 1 trains one model on the whole training set.
	Folds int
	// Seed drives the fold split and each fold's initialisation, shuffling
	// and dropout (fold i uses Seed+i).
	Seed int64
	// Validation, used only when Folds is 1, is scored at the end of every
	// epoch for the history (it does not steer training); may be nil.
	Validation *nn.Data
	// Callbacks returns extra per-epoch callbacks for a fold (e.g. the
	// regression GIF's snapshots during the last fold); may be nil.
	Callbacks func(fold int) []nn.Callback
	// Progress and ProgressOut are passed to nn.Fit.
	Progress    nn.ProgressMode
	ProgressOut io.Writer
	// Log receives one line per fold; nil discards them.
	Log io.Writer
	// Padding, when set, is the shape buckets of every fold's model
	// (nn.Model.Padding); nil keeps nn.New's default for the backend
	// (nn.DefaultPadding).
	Padding *nn.Padding
}

// Score is a model's performance on a labelled set.
type Score struct {
	// Loss is the mean MSE or cross-entropy.
	Loss float64 `json:"loss"`
	// Accuracy is for classifiers (NaN for regression).
	Accuracy float64 `json:"accuracy"`
}

// Fold is one trained model of a k-fold run.
type Fold struct {
	// Index counts from 0.
	Index int
	// Train and Val are the positions in the training set.
	Train, Val []int
	Model      *nn.Model
	History    *nn.History
	// Validation is the score on the fold's held-out part after the last
	// epoch (zero value when Folds is 1 and no Validation was given).
	Validation Score
	// Test is set by Result.Evaluate.
	Test *Score
	// TestPredictions are the model's outputs on the test set (values, or
	// logits for classifiers), kept by Evaluate for the ensembles.
	TestPredictions []float64
	// Seconds is the fold's training time.
	Seconds float64
}

// Result is a k-fold run.
type Result struct {
	Config Config
	Folds  []*Fold
	// Seconds is the wall time of all folds.
	Seconds float64
	// Compilations are the graphs compiled while the folds trained (Run)
	// and while they were scored (Evaluate, and ensembles over another
	// set): nn.Compilations is process-wide, so this counts them only when
	// nothing else compiles meanwhile.
	Compilations nn.CompileStats

	// test is the set Evaluate scored, whose predictions the folds keep.
	test *nn.Data
}

// Run trains one model per fold of train with the configured hyperparameters.
func Run(backend compute.Backend, cfg Config, train *nn.Data) (*Result, error) {
	if cfg.Folds < 1 {
		return nil, fmt.Errorf("cv.Run: folds = %d, want >= 1", cfg.Folds)
	}
	if train == nil || train.Len() == 0 {
		return nil, fmt.Errorf("cv.Run: no training data")
	}
	var splits []data.Fold
	if cfg.Folds == 1 {
		all := make([]int, train.Len())
		for i := range all {
			all[i] = i
		}
		splits = []data.Fold{{Train: all}}
	} else {
		var err error
		splits, err = data.KFold(train.Len(), cfg.Folds, cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("cv.Run: %w", err)
		}
	}
	res := &Result{Config: cfg}
	start, compiled := time.Now(), nn.Compilations()
	for i, split := range splits {
		f, err := runFold(backend, cfg, train, i, split)
		if err != nil {
			return nil, fmt.Errorf("cv.Run: fold %d/%d: %w", i+1, len(splits), err)
		}
		res.Folds = append(res.Folds, f)
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "fold %d/%d: %d epochs in %.1fs, validation loss %.4f", i+1, len(splits),
				len(f.History.Epochs), f.Seconds, f.Validation.Loss)
			if !math.IsNaN(f.Validation.Accuracy) {
				fmt.Fprintf(cfg.Log, ", accuracy %.4f", f.Validation.Accuracy)
			}
			fmt.Fprintln(cfg.Log)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Compilations = nn.Compilations().Sub(compiled)
	return res, nil
}

func runFold(backend compute.Backend, cfg Config, train *nn.Data, i int, split data.Fold) (*Fold, error) {
	start := time.Now()
	trainPart, err := train.Subset(split.Train)
	if err != nil {
		return nil, err
	}
	val := cfg.Validation
	if split.Val != nil {
		if val, err = train.Subset(split.Val); err != nil {
			return nil, err
		}
	} else if cfg.Folds > 1 {
		val = nil
	}
	seed := cfg.Seed + int64(i)
	m, err := nn.New(backend, cfg.Spec, seed)
	if err != nil {
		return nil, err
	}
	if cfg.Padding != nil {
		m.Padding = *cfg.Padding
	}
	opts := nn.Options{Seed: seed, Progress: cfg.Progress, ProgressOut: cfg.ProgressOut,
		Label: fmt.Sprintf("fold %d/%d", i+1, cfg.Folds)}
	if cfg.Callbacks != nil {
		opts.Callbacks = cfg.Callbacks(i)
	}
	history, err := nn.Fit(m, trainPart, val, cfg.Hyperparameters, opts)
	if err != nil {
		return nil, err
	}
	f := &Fold{Index: i, Train: split.Train, Val: split.Val, Model: m, History: history,
		Validation: Score{Loss: math.NaN(), Accuracy: math.NaN()}}
	if val != nil {
		last := history.Last()
		f.Validation = Score{Loss: last.ValLoss, Accuracy: last.ValAccuracy}
	}
	f.Seconds = time.Since(start).Seconds()
	return f, nil
}

// Evaluate scores every fold's model on test and keeps the scores in
// Fold.Test and the predictions in Fold.TestPredictions (the ensembles of the
// same test set reuse them rather than predicting again).
func (r *Result) Evaluate(test *nn.Data) error {
	compiled := nn.Compilations()
	defer r.addCompilations(compiled)
	for _, f := range r.Folds {
		p, err := f.Model.Predict(test)
		if err != nil {
			return fmt.Errorf("cv.Evaluate: fold %d: %w", f.Index+1, err)
		}
		score, err := ScorePredictions(f.Model.Spec, p, test)
		if err != nil {
			return fmt.Errorf("cv.Evaluate: fold %d: %w", f.Index+1, err)
		}
		f.Test, f.TestPredictions = &score, p
	}
	r.test = test
	return nil
}

// ScorePredictions computes the loss (MSE, or cross-entropy of the logits)
// and, for classifiers, the accuracy of a model's outputs on d.
func ScorePredictions(spec nn.Spec, outputs []float64, d *nn.Data) (Score, error) {
	k := spec.NumOutputs()
	if len(outputs) != d.Len()*k {
		return Score{}, fmt.Errorf("%d outputs for %d examples of %d", len(outputs), d.Len(), k)
	}
	if !spec.Classifier() {
		targets := d.Targets()
		if targets == nil {
			return Score{}, fmt.Errorf("no targets to score against")
		}
		return Score{Loss: MSE(outputs, targets), Accuracy: math.NaN()}, nil
	}
	labels := d.Labels()
	if labels == nil {
		return Score{}, fmt.Errorf("no labels to score against")
	}
	var loss float64
	for i, label := range labels {
		if label < 0 || int(label) >= k {
			return Score{}, fmt.Errorf("example %d: label %d outside the %d classes", i, label, k)
		}
		row := outputs[i*k : (i+1)*k]
		top := row[0]
		for _, v := range row {
			top = math.Max(top, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(v - top)
		}
		loss += top + math.Log(sum) - row[label]
	}
	acc := nn.Accuracy(nn.ArgMaxRows(outputs, k), labels)
	return Score{Loss: loss / float64(len(labels)), Accuracy: acc}, nil
}

// addCompilations adds the graphs compiled since an earlier reading.
func (r *Result) addCompilations(earlier nn.CompileStats) {
	d := nn.Compilations().Sub(earlier)
	r.Compilations.Graphs += d.Graphs
	r.Compilations.Seconds += d.Seconds
}

// predictions returns every fold's outputs on d, reusing Evaluate's.
func (r *Result) predictions(d *nn.Data) ([][]float64, error) {
	compiled := nn.Compilations()
	defer r.addCompilations(compiled)
	var all [][]float64
	for _, f := range r.Folds {
		p := f.TestPredictions
		if d != r.test || p == nil {
			var err error
			if p, err = f.Model.Predict(d); err != nil {
				return nil, fmt.Errorf("fold %d: %w", f.Index+1, err)
			}
		}
		all = append(all, p)
	}
	return all, nil
}

// Best returns the index of the best model on the test set: the highest
// accuracy for classifiers (lowest loss on ties), the lowest loss otherwise.
// It returns -1 before Evaluate.
func (r *Result) Best() int {
	best := -1
	for i, f := range r.Folds {
		if f.Test == nil {
			return -1
		}
		if best < 0 || better(*f.Test, *r.Folds[best].Test) {
			best = i
		}
	}
	return best
}

func better(a, b Score) bool {
	if !math.IsNaN(a.Accuracy) && a.Accuracy != b.Accuracy {
		return a.Accuracy > b.Accuracy
	}
	return a.Loss < b.Loss
}

// EnsembleRegression returns the mean of the models' predictions over d
// (d.Len() rows of outputs, flattened) and, when d has targets, their MSE
// (NaN otherwise).
func (r *Result) EnsembleRegression(d *nn.Data) (mean []float64, mse float64, err error) {
	all, err := r.predictions(d)
	if err != nil {
		return nil, 0, fmt.Errorf("cv.EnsembleRegression: %w", err)
	}
	mean, err = MeanEnsemble(all)
	if err != nil {
		return nil, 0, fmt.Errorf("cv.EnsembleRegression: %w", err)
	}
	mse = math.NaN()
	if targets := d.Targets(); targets != nil {
		mse = MSE(mean, targets)
	}
	return mean, mse, nil
}

// EnsembleClassification returns the majority vote of the models over d, ties
// going to the best model (Result.Best, so Evaluate must run first), and its
// accuracy when d has labels (NaN otherwise).
func (r *Result) EnsembleClassification(d *nn.Data) (votes []int32, accuracy float64, err error) {
	best := r.Best()
	if best < 0 {
		return nil, 0, fmt.Errorf("cv.EnsembleClassification: call Evaluate first, to know the best model")
	}
	outputs, err := r.predictions(d)
	if err != nil {
		return nil, 0, fmt.Errorf("cv.EnsembleClassification: %w", err)
	}
	var all [][]int32
	for _, p := range outputs {
		all = append(all, nn.ArgMaxRows(p, r.Config.Spec.NumOutputs()))
	}
	votes, err = MajorityVote(all, best)
	if err != nil {
		return nil, 0, fmt.Errorf("cv.EnsembleClassification: %w", err)
	}
	accuracy = math.NaN()
	if labels := d.Labels(); labels != nil {
		accuracy = nn.Accuracy(votes, labels)
	}
	return votes, accuracy, nil
}
