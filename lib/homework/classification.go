package homework

import (
	"fmt"
	"math"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/figures"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// sampleImages is how many test images the sample grid shows.
const sampleImages = 20

// ClassificationTask is the classification's part of a Run, the seed's
// Hype_study_CNN.py: Fashion-MNIST, the study on a stratified 10k/5k
// subset, k folds of the training images, the majority vote.
type ClassificationTask struct {
	// Train and Test are Fashion-MNIST's 60k and 10k images.
	Train, Test *data.Images
	// Votes is the majority vote over the test set, once RunCV has run.
	Votes []int32
	// VoteAccuracy is its test accuracy.
	VoteAccuracy float64

	test *nn.Data
}

// NewClassification validates cfg, chooses the backend, loads Fashion-MNIST
// and creates the results folder.
func NewClassification(cfg Config, opts Options) (*Run, error) {
	t := &ClassificationTask{VoteAccuracy: math.NaN()}
	r, err := newRun(TaskClassification, t, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.Classification = t
	return r, nil
}

func (t *ClassificationTask) load(r *Run) (cvPoints, studyTrain, studyVal int, err error) {
	t.Train, t.Test, err = data.LoadFashionMNIST(data.Options{Dir: r.Config.DataDir, Log: r.log})
	if err != nil {
		return 0, 0, 0, err
	}
	t.test = nn.FromImages(t.Test)
	cvPoints = t.Train.Len()
	if r.Config.CVTrain > 0 {
		cvPoints = min(cvPoints, r.Config.CVTrain)
	}
	return cvPoints, r.Config.StudyTrain, r.Config.StudyVal, nil
}

// subset returns a seeded stratified subset of the training images.
func (t *ClassificationTask) subset(r *Run, nTrain, nVal int) (train, val *nn.Data, err error) {
	ti, vi, err := data.StratifiedSubset(t.Train.Labels, nTrain, nVal, r.Config.Seed)
	if err != nil {
		return nil, nil, err
	}
	all := nn.FromImages(t.Train)
	if train, err = all.Subset(ti); err != nil {
		return nil, nil, err
	}
	if nVal > 0 {
		val, err = all.Subset(vi)
	}
	return train, val, err
}

func (t *ClassificationTask) studySets(r *Run) (train, val *nn.Data, unit string, err error) {
	train, val, err = t.subset(r, r.Config.StudyTrain, r.Config.StudyVal)
	return train, val, "images", err
}

func (t *ClassificationTask) cvSet(r *Run) (*nn.Data, error) {
	t.Votes, t.VoteAccuracy = nil, math.NaN()
	if r.Config.CVTrain > 0 && r.Config.CVTrain < t.Train.Len() {
		train, _, err := t.subset(r, r.Config.CVTrain, 0)
		return train, err
	}
	return nn.FromImages(t.Train), nil
}

func (t *ClassificationTask) foldCallbacks(*Run) func(fold int) []nn.Callback { return nil }

func (t *ClassificationTask) scored(r *Run) error {
	if err := r.CV.Evaluate(t.test); err != nil {
		return err
	}
	var err error
	t.Votes, t.VoteAccuracy, err = r.CV.EnsembleClassification(t.test)
	return err
}

func (t *ClassificationTask) figures(r *Run) ([]*plot.Figure, []*plot.Animation, error) {
	figs, err := figures.ClassificationFigures(figures.Classification{Test: t.Test, CV: r.CV, Votes: t.Votes, Samples: sampleImages})
	return figs, nil, err
}

func (t *ClassificationTask) metrics(r *Run, s *Summary) error {
	if math.IsNaN(t.VoteAccuracy) {
		return fmt.Errorf("majority vote has no accuracy")
	}
	s.Metrics["vote_test_accuracy"] = t.VoteAccuracy
	best := r.CV.Folds[r.CV.Best()].Test
	s.Metrics["best_model_test_accuracy"] = best.Accuracy
	s.Metrics["best_model_test_loss"] = best.Loss
	mean := 0.0
	for _, f := range r.CV.Folds {
		mean += f.Test.Accuracy
	}
	s.Metrics["mean_model_test_accuracy"] = mean / float64(len(r.CV.Folds))
	return nil
}

// Classification runs the whole classification task and returns its summary.
func Classification(cfg Config, opts Options) (*Summary, error) {
	r, err := NewClassification(cfg, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return RunAll(r)
}
