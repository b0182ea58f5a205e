package homework

import (
	"fmt"
	"math"
	"slices"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// snapshotEvery is how often (in epochs) the last fold's curve is recorded
// for fit.gif, as the seed does.
const snapshotEvery = 5

// activationInputs are the inputs x = H of the activation profiles.
var activationInputs = []float64{-4, -1, 0, 2, 4}

// RegressionRun is the regression task, step by step, as the seed's
// NN_REG_OPTUNA_KFOLD.py: NewRegression, then RunStudy, RunCV and
// WriteResults (Regression does all of it).
type RegressionRun struct {
	run
	// Train and Test are the two CSV files.
	Train, Test *data.CSVDataset
	// Grid is the interval over which curves are drawn: all the data, and a
	// little more.
	Grid []float64
	// Frames are the last fold's predictions over Grid every 5 epochs.
	Frames []nn.Snapshot

	test *nn.Data
	// figs and anims cache Figures until the cross-validation runs again.
	figs  []*plot.Figure
	anims []*plot.Animation
}

// NewRegression validates cfg, chooses the backend, loads the data and
// creates the results folder.
func NewRegression(cfg Config, opts Options) (*RegressionRun, error) {
	rr := &RegressionRun{}
	if err := rr.init(TaskRegression, cfg, opts); err != nil {
		return nil, err
	}
	var err error
	rr.Train, rr.Test, err = data.LoadRegression(data.Options{Dir: cfg.DataDir, Log: rr.log})
	if err != nil {
		return nil, err
	}
	// The study trains on 80% of the training set and validates on 20%; the
	// cross-validation splits all of it.
	n := rr.Train.Len()
	if err := rr.open(n, n-n/5, n/5); err != nil {
		return nil, err
	}
	rr.test = nn.FromCSV(rr.Test)
	lo := math.Min(slices.Min(rr.Train.Inputs), slices.Min(rr.Test.Inputs))
	hi := math.Max(slices.Max(rr.Train.Inputs), slices.Max(rr.Test.Inputs))
	margin := 0.05 * (hi - lo)
	const points = 200
	for i := 0; i < points; i++ {
		rr.Grid = append(rr.Grid, lo-margin+(hi-lo+2*margin)*float64(i)/(points-1))
	}
	return rr, nil
}

// RunStudy searches the space on an 80/20 split of the training set,
// minimizing the validation loss, and builds the best model. A study of the
// same name resumes, once its trials and study.json agree with the
// configuration. With other workers on the study's storage it runs its share
// of the target and waits for theirs. It writes only the study's storage and
// study.json: WriteResults writes the study's statistics with the other
// results.
func (r *RegressionRun) RunStudy() error { return r.study(false) }

// RunTrials is RunStudy for a worker (RunWorker): it runs trials until the
// study's shared target is reached, without waiting for the other workers'
// trials or building the best model.
func (r *RegressionRun) RunTrials() error { return r.study(true) }

func (r *RegressionRun) study(worker bool) error {
	r.studyFigs = nil
	return r.timedStudy(worker, func() error {
		trainIdx, valIdx, err := data.Holdout(r.Train.Len(), 0.2, r.Config.Seed)
		if err != nil {
			return err
		}
		all := nn.FromCSV(r.Train)
		train, err := all.Subset(trainIdx)
		if err != nil {
			return err
		}
		val, err := all.Subset(valIdx)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.log, "study %q: %s, %d train / %d validation points\n", r.Config.Study, r.studyLine(worker), train.Len(), val.Len())
		return r.runStudy(train, val, worker)
	})
}

// RunCV trains the best model with k-fold cross-validation on the whole
// training set, records the last fold's curve every 5 epochs, and scores every
// model on the test set.
func (r *RegressionRun) RunCV() error {
	if err := r.studyDone(); err != nil {
		return err
	}
	r.figs, r.anims, r.Frames = nil, nil, nil
	return r.timedCV(func() error {
		hp := r.Best.Hyperparameters
		if r.Config.CVEpochs > 0 {
			hp.Epochs = r.Config.CVEpochs
		}
		grid := nn.Inputs(r.Grid)
		k := r.Config.Folds
		res, err := cv.Run(r.Backend.Backend, r.cvConfig(hp, func(fold int) []nn.Callback {
			if fold != k-1 {
				return nil
			}
			return []nn.Callback{nn.SnapshotEvery(snapshotEvery, grid, &r.Frames)}
		}), nn.FromCSV(r.Train))
		if r.ctx().Err() != nil {
			return r.interrupted("cross-validation")
		}
		if err != nil {
			return err
		}
		r.CV = res
		return res.Evaluate(r.test)
	})
}

// Figures draws the regression's figures (data_best, data_mean, fit.gif,
// model_performances, losses, losses_for_each_fold, weights, activations).
func (r *RegressionRun) Figures() ([]*plot.Figure, []*plot.Animation, error) {
	if err := r.cvDone(); err != nil {
		return nil, nil, err
	}
	if r.figs != nil {
		return r.figs, r.anims, nil
	}
	best := r.CV.Best()
	grid := nn.Inputs(r.Grid)
	in := plot.RegressionResults{
		Train: plot.XY{X: r.Train.Inputs, Y: r.Train.Labels},
		Test:  plot.XY{X: r.Test.Inputs, Y: r.Test.Labels},
		Xs:    r.Grid,
		Folds: histories(r.CV),
	}
	for i, f := range r.CV.Folds {
		p, err := f.Model.Predict(grid)
		if err != nil {
			return nil, nil, err
		}
		in.Preds = append(in.Preds, p)
		in.TestLoss = append(in.TestLoss, f.Test.Loss)
		if i == best {
			in.Best = plot.XY{X: r.Grid, Y: p}
		}
	}
	for _, s := range r.Frames {
		in.Frames = append(in.Frames, plot.FitFrame{Epoch: s.Epoch, Curve: plot.XY{X: r.Grid, Y: s.Predictions}})
	}
	bestModel := r.CV.Folds[best].Model
	weights, err := bestModel.Weights()
	if err != nil {
		return nil, nil, err
	}
	for _, w := range weights {
		in.Layers = append(in.Layers, plot.Layer{Name: w.Layer, Weights: w.Weights, Shape: w.Shape})
	}
	in.Activations = map[float64][]plot.Activation{}
	for _, h := range activationInputs {
		acts, err := bestModel.Activations(nn.Inputs([]float64{h}))
		if err != nil {
			return nil, nil, err
		}
		for _, a := range acts {
			v := make([]float64, len(a.Values))
			for i, x := range a.Values {
				v[i] = float64(x)
			}
			in.Activations[h] = append(in.Activations[h], plot.Activation{Layer: a.Layer, Values: v})
		}
	}
	figs, anims, err := plot.RegressionFigures(in)
	if err == nil {
		r.figs, r.anims = figs, anims
	}
	return figs, anims, err
}

// EnsembleTestMSE is the test MSE of the mean of the k models' predictions.
func (r *RegressionRun) EnsembleTestMSE() (float64, error) {
	if err := r.cvDone(); err != nil {
		return math.NaN(), err
	}
	_, mse, err := r.CV.EnsembleRegression(r.test)
	return mse, err
}

// WriteResults draws every figure and writes them, the checkpoints,
// config.json, the study's files, summary.json and report.md into the results
// folder, replacing those of an earlier run as one unit (or, when it fails,
// leaving the folder as it was).
func (r *RegressionRun) WriteResults() (*Summary, error) {
	if err := r.cvDone(); err != nil {
		return nil, err
	}
	var sum *Summary
	err := r.timed("results", func() error {
		figs, anims, err := r.Figures()
		if err != nil {
			return err
		}
		studyFigs, err := r.StudyFigures()
		if err != nil {
			return err
		}
		mse, err := r.EnsembleTestMSE()
		if err != nil {
			return err
		}
		sum, err = r.writeResults(append(studyFigs, figs...), anims, func(s *Summary) error {
			s.Metrics["ensemble_test_mse"] = mse
			s.Metrics["best_model_test_mse"] = r.CV.Folds[r.CV.Best()].Test.Loss
			return nil
		})
		return err
	})
	return sum, err
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
