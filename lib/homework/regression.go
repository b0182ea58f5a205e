package homework

import (
	"math"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/figures"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// snapshotEvery is how often (in epochs) the last fold's curve is recorded
// for fit.gif, as the seed does.
const snapshotEvery = 5

// gridPoints is how many points the curves are drawn over.
const gridPoints = 200

// ActivationInputs are the inputs x = H of the regression's activation
// profiles (activations_x_H; summary.json lists them).
var ActivationInputs = []float64{-4, -1, 0, 2, 4}

// RegressionTask is the regression's part of a Run, the seed's
// NN_REG_OPTUNA_KFOLD.py: the two CSV files, the study on an 80/20 split of
// the training set, 5 folds of all of it, the mean of the models.
type RegressionTask struct {
	// Train and Test are the two CSV files.
	Train, Test *data.CSVDataset
	// Grid is the interval over which curves are drawn: all the data, and a
	// little more.
	Grid []float64
	// Frames are the last fold's predictions over Grid every 5 epochs.
	Frames []nn.Snapshot
	// EnsembleTestMSE is the test MSE of the mean of the k models'
	// predictions, once RunCV has run.
	EnsembleTestMSE float64

	test *nn.Data
}

// NewRegression validates cfg, chooses the backend, loads the data and
// creates the results folder.
func NewRegression(cfg Config, opts Options) (*Run, error) {
	t := &RegressionTask{EnsembleTestMSE: math.NaN()}
	r, err := newRun(TaskRegression, t, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.Regression = t
	return r, nil
}

func (t *RegressionTask) load(r *Run) (cvPoints, studyTrain, studyVal int, err error) {
	t.Train, t.Test, err = data.LoadRegression(data.Options{Dir: r.Config.DataDir, Log: r.log})
	if err != nil {
		return 0, 0, 0, err
	}
	t.test = nn.FromCSV(t.Test)
	t.Grid = figures.Grid(gridPoints, t.Train, t.Test)
	// The study trains on 80% of the training set and validates on 20%; the
	// cross-validation splits all of it.
	n := t.Train.Len()
	return n, n - n/5, n / 5, nil
}

func (t *RegressionTask) studySets(r *Run) (train, val *nn.Data, unit string, err error) {
	trainIdx, valIdx, err := data.Holdout(t.Train.Len(), 0.2, r.Config.Seed)
	if err != nil {
		return nil, nil, "", err
	}
	all := nn.FromCSV(t.Train)
	if train, err = all.Subset(trainIdx); err != nil {
		return nil, nil, "", err
	}
	val, err = all.Subset(valIdx)
	return train, val, "points", err
}

func (t *RegressionTask) cvSet(*Run) (*nn.Data, error) {
	t.Frames, t.EnsembleTestMSE = nil, math.NaN()
	return nn.FromCSV(t.Train), nil
}

// foldCallbacks snapshot the last fold's curve every 5 epochs (fit.gif).
func (t *RegressionTask) foldCallbacks(r *Run) func(fold int) []nn.Callback {
	grid, k := nn.Inputs(t.Grid), r.Config.Folds
	return func(fold int) []nn.Callback {
		if fold != k-1 {
			return nil
		}
		return []nn.Callback{nn.SnapshotEvery(snapshotEvery, grid, &t.Frames)}
	}
}

func (t *RegressionTask) scored(r *Run) error {
	if err := r.CV.Evaluate(t.test); err != nil {
		return err
	}
	_, mse, err := r.CV.EnsembleRegression(t.test)
	t.EnsembleTestMSE = mse
	return err
}

func (t *RegressionTask) figures(r *Run) ([]*plot.Figure, []*plot.Animation, error) {
	return figures.RegressionFigures(figures.Regression{Train: t.Train, Test: t.Test, Grid: t.Grid,
		CV: r.CV, Snapshots: t.Frames, ActivationInputs: ActivationInputs})
}

func (t *RegressionTask) metrics(r *Run, s *Summary) error {
	s.Metrics["ensemble_test_mse"] = t.EnsembleTestMSE
	s.Metrics["best_model_test_mse"] = r.CV.Folds[r.CV.Best()].Test.Loss
	s.ActivationInputs = ActivationInputs
	return nil
}

// Regression runs the whole regression task and returns its summary.
func Regression(cfg Config, opts Options) (*Summary, error) {
	r, err := NewRegression(cfg, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return RunAll(r)
}
