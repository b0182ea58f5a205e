package homework

import (
	"fmt"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// task is what a task adds to the steps every Run takes: its data, how the
// study and the cross-validation use them, its test scores, its figures and
// metrics. Regression and Classification are the two.
type task interface {
	// load reads the data and says how many examples the cross-validation
	// and the study's two sets hold (checked before the folder is made).
	load(r *Run) (cvPoints, studyTrain, studyVal int, err error)
	// studySets are the study's training and validation sets, and what
	// an example is called in the log ("points", "images").
	studySets(r *Run) (train, val *nn.Data, unit string, err error)
	// cvSet is the cross-validation's training set.
	cvSet(r *Run) (*nn.Data, error)
	// foldCallbacks are the task's own per-fold callbacks (or nil).
	foldCallbacks(r *Run) func(fold int) []nn.Callback
	// scored scores the cross-validation on the test set (and ensembles).
	scored(r *Run) error
	// figures draws the task's figures of the results folder.
	figures(r *Run) ([]*plot.Figure, []*plot.Animation, error)
	// metrics adds the task's numbers to the summary.
	metrics(r *Run, s *Summary) error
}

// New validates cfg, chooses the backend, loads the data of cfg.Task and
// creates the results folder.
func New(cfg Config, opts Options) (*Run, error) {
	switch cfg.Task {
	case TaskRegression:
		return NewRegression(cfg, opts)
	case TaskClassification:
		return NewClassification(cfg, opts)
	}
	return nil, fieldErr("task", "%q, want %s or %s", cfg.Task, TaskRegression, TaskClassification)
}

// newRun builds the run of one task: validation, backend, data, results
// folder.
func newRun(name string, t task, cfg Config, opts Options) (*Run, error) {
	r := &Run{task: t}
	if err := r.init(name, cfg, opts); err != nil {
		return nil, err
	}
	cvPoints, studyTrain, studyVal, err := t.load(r)
	if err != nil {
		return nil, err
	}
	if err := r.open(cvPoints, studyTrain, studyVal); err != nil {
		return nil, err
	}
	return r, nil
}

// RunStudy searches the task's space (the seed's Hype_Sel): on an 80/20
// split of the training set minimizing the validation loss for the
// regression, on a stratified 10k/5k subset of the training images
// maximizing the validation accuracy for the classification. A study of the
// same name resumes, once its trials and study.json agree with the
// configuration. With other workers on the study's storage it runs its
// share of the target and waits for theirs. It writes only the study's
// storage and study.json: WriteResults writes the study's statistics with
// the other results.
func (r *Run) RunStudy() error { return r.study(false) }

// RunTrials is RunStudy for a worker (RunWorker): it runs trials until the
// study's shared target is reached, without waiting for the other workers'
// trials.
func (r *Run) RunTrials() error { return r.study(true) }

func (r *Run) study(worker bool) error {
	// A new study invalidates what was built on the last one: its best
	// model (runStudy), the cross-validation and its figures, so that
	// WriteResults cannot commit an old CV beside a new study.
	r.studyFigs, r.figs, r.animations, r.CV = nil, nil, nil, nil
	return r.timedStudy(worker, func() error {
		train, val, unit, err := r.task.studySets(r)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.log, "study %q: %s, %d train / %d validation %s\n", r.Config.Study, r.studyLine(worker), train.Len(), val.Len(), unit)
		return r.runStudy(train, val, worker)
	})
}

// BuildOptModel is the seed's build_opt_model: the network and training of
// the study's best trial (the package function BuildOptModel over the
// task's space), kept in Best for RunCV.
func (r *Run) BuildOptModel() (Model, error) {
	if r.Study == nil {
		return Model{}, fmt.Errorf("the study has not run yet: call RunStudy first")
	}
	best, err := r.bestParams()
	if err != nil {
		return Model{}, err
	}
	m, err := BuildOptModel(r.Config.Task, r.Config.Space, best)
	if err != nil {
		return Model{}, fmt.Errorf("study %q: best trial: %w", r.Config.Study, err)
	}
	r.Best = m
	return m, nil
}

// RunCV trains the best model (BuildOptModel's, built now if it was not)
// with k-fold cross-validation over the training set and scores every
// model on the test set: the regression also records the last fold's curve
// every 5 epochs and the mean of the models; the classification takes the
// majority vote (ties go to the best model).
func (r *Run) RunCV() error {
	if r.Study == nil {
		return fmt.Errorf("the study has not run yet: call RunStudy first")
	}
	if r.Best.Spec.Kind == "" {
		if _, err := r.BuildOptModel(); err != nil {
			return err
		}
	}
	r.figs, r.animations, r.CV = nil, nil, nil
	return r.timedCV(func() error {
		hp := r.Best.Hyperparameters
		if r.Config.CVEpochs > 0 {
			hp.Epochs = r.Config.CVEpochs
		}
		train, err := r.task.cvSet(r)
		if err != nil {
			return err
		}
		res, err := cv.Run(r.Backend.Backend, r.cvConfig(hp, r.task.foldCallbacks(r)), train)
		if r.ctx().Err() != nil {
			return r.interrupted("cross-validation")
		}
		if err != nil {
			return err
		}
		r.CV = res
		return r.task.scored(r)
	})
}

// Figures draws the task's figures of the results folder (lib/figures):
// data_best, data_mean, model_performances, losses, losses_for_each_fold,
// weights, activations and fit.gif for the regression; model_performances,
// both confusion matrices, losses, accuracies, weights, filters and feature
// maps of both convolutions and sample images for the classification.
func (r *Run) Figures() ([]*plot.Figure, []*plot.Animation, error) {
	if err := r.cvDone(); err != nil {
		return nil, nil, err
	}
	if r.figs != nil {
		return r.figs, r.animations, nil
	}
	figs, anims, err := r.task.figures(r)
	if err == nil {
		r.figs, r.animations = figs, anims
	}
	return figs, anims, err
}

// WriteResults draws every figure and writes them, the checkpoints,
// config.json, the study's files, summary.json and report.md into the results
// folder, replacing those of an earlier run as one unit (or, when it fails,
// leaving the folder as it was).
func (r *Run) WriteResults() (*Summary, error) {
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
		sum, err = r.writeResults(append(studyFigs, figs...), anims, func(s *Summary) error { return r.task.metrics(r, s) })
		return err
	})
	return sum, err
}
