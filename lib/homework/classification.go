package homework

import (
	"fmt"
	"math"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// sampleImages is how many test images the sample grid shows.
const sampleImages = 20

// ClassificationRun is the classification task, step by step, as the seed's
// Hype_study_CNN.py: NewClassification, then RunStudy, RunCV and
// WriteResults (Classification does all of it).
type ClassificationRun struct {
	run
	// Train and Test are Fashion-MNIST's 60k and 10k images.
	Train, Test *data.Images
	// Votes is the majority vote over the test set, once RunCV has run.
	Votes []int32
	// VoteAccuracy is its test accuracy.
	VoteAccuracy float64

	test *nn.Data
	// figs caches Figures until the cross-validation runs again.
	figs []*plot.Figure
}

// NewClassification validates cfg, chooses the backend, loads Fashion-MNIST
// and creates the results folder.
func NewClassification(cfg Config, opts Options) (*ClassificationRun, error) {
	cr := &ClassificationRun{}
	if err := cr.init(TaskClassification, cfg, opts); err != nil {
		return nil, err
	}
	var err error
	cr.Train, cr.Test, err = data.LoadFashionMNIST(data.Options{Dir: cfg.DataDir, Log: cr.log})
	if err != nil {
		return nil, err
	}
	cvPoints := cr.Train.Len()
	if cfg.CVTrain > 0 {
		cvPoints = min(cvPoints, cfg.CVTrain)
	}
	if err := cr.open(cvPoints, cfg.StudyTrain, cfg.StudyVal); err != nil {
		return nil, err
	}
	cr.test = nn.FromImages(cr.Test)
	return cr, nil
}

// subset returns a seeded stratified subset of the training images.
func (r *ClassificationRun) subset(nTrain, nVal int) (train, val *nn.Data, err error) {
	ti, vi, err := data.StratifiedSubset(r.Train.Labels, nTrain, nVal, r.Config.Seed)
	if err != nil {
		return nil, nil, err
	}
	all := nn.FromImages(r.Train)
	if train, err = all.Subset(ti); err != nil {
		return nil, nil, err
	}
	if nVal > 0 {
		val, err = all.Subset(vi)
	}
	return train, val, err
}

// RunStudy searches the space on a stratified 10k/5k subset of the training
// images, maximizing the validation accuracy, and builds the best model. A
// study of the same name resumes (see RegressionRun.RunStudy).
func (r *ClassificationRun) RunStudy() error { return r.study(false) }

// RunTrials is RunStudy for a worker (RunWorker): it runs trials until the
// study's shared target is reached, without waiting for the other workers'
// trials or building the best model.
func (r *ClassificationRun) RunTrials() error { return r.study(true) }

func (r *ClassificationRun) study(worker bool) error {
	r.studyFigs = nil
	return r.timedStudy(worker, func() error {
		train, val, err := r.subset(r.Config.StudyTrain, r.Config.StudyVal)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.log, "study %q: %s, %d train / %d validation images\n", r.Config.Study, r.studyLine(worker), train.Len(), val.Len())
		return r.runStudy(train, val, worker)
	})
}

// RunCV trains the best model with k-fold cross-validation over the training
// images, scores every model on the 10k test images, and takes the majority
// vote (ties go to the best model).
func (r *ClassificationRun) RunCV() error {
	if err := r.studyDone(); err != nil {
		return err
	}
	r.figs = nil
	return r.timedCV(func() error {
		hp := r.Best.Hyperparameters
		if r.Config.CVEpochs > 0 {
			hp.Epochs = r.Config.CVEpochs
		}
		train := nn.FromImages(r.Train)
		if r.Config.CVTrain > 0 && r.Config.CVTrain < r.Train.Len() {
			var err error
			if train, _, err = r.subset(r.Config.CVTrain, 0); err != nil {
				return err
			}
		}
		res, err := cv.Run(r.Backend.Backend, r.cvConfig(hp, nil), train)
		if r.ctx().Err() != nil {
			return r.interrupted("cross-validation")
		}
		if err != nil {
			return err
		}
		r.CV = res
		if err := res.Evaluate(r.test); err != nil {
			return err
		}
		r.Votes, r.VoteAccuracy, err = res.EnsembleClassification(r.test)
		return err
	})
}

// Figures draws the classification's figures (model_performances, the two
// confusion matrices, losses, accuracies, weights, filters and feature maps
// of both convolutions, sample images).
func (r *ClassificationRun) Figures() ([]*plot.Figure, error) {
	if err := r.cvDone(); err != nil {
		return nil, err
	}
	if r.figs != nil {
		return r.figs, nil
	}
	best := r.CV.Best()
	bestModel := r.CV.Folds[best].Model
	in := plot.ClassificationResults{Classes: data.ClassNames[:], Folds: histories(r.CV)}
	for _, f := range r.CV.Folds {
		in.TestAcc = append(in.TestAcc, f.Test.Accuracy)
		in.TestLoss = append(in.TestLoss, f.Test.Loss)
	}
	pred, err := bestModel.PredictClasses(r.test)
	if err != nil {
		return nil, err
	}
	labels := r.test.Labels()
	in.ConfusionBest = nn.ConfusionMatrix(pred, labels, len(data.ClassNames))
	in.ConfusionVote = nn.ConfusionMatrix(r.Votes, labels, len(data.ClassNames))

	weights, err := bestModel.Weights()
	if err != nil {
		return nil, err
	}
	for _, w := range weights {
		switch len(w.Shape) {
		case 2:
			in.Linear = append(in.Linear, plot.Layer{Name: w.Layer, Weights: w.Weights, Shape: w.Shape})
		case 4:
			k := kernelOIHW(w)
			if w.Layer == "conv1" {
				in.Conv1 = k
			} else {
				in.Conv2 = k
			}
		}
	}

	// Feature maps of the first test image.
	one, err := r.test.Subset([]int{0})
	if err != nil {
		return nil, err
	}
	in.Input = image(r.Test, 0)
	acts, err := bestModel.Activations(one)
	if err != nil {
		return nil, err
	}
	for _, a := range acts {
		switch a.Layer {
		case "conv1":
			in.Maps1 = mapsCHW(a)
		case "conv2":
			in.Maps2 = mapsCHW(a)
		}
	}
	for i := 0; i < sampleImages && i < r.Test.Len(); i++ {
		in.Samples = append(in.Samples, image(r.Test, i))
		in.Labels = append(in.Labels, int(r.Test.Labels[i]))
		in.Predicted = append(in.Predicted, int(pred[i]))
	}
	figs, err := plot.ClassificationFigures(in)
	if err == nil {
		r.figs = figs
	}
	return figs, err
}

// kernelOIHW turns a [kh, kw, Cin, Cout] kernel into the [out, in, h, w]
// layout of the figures (PyTorch's).
func kernelOIHW(w nn.LayerWeights) plot.Layer {
	kh, kw, cin, cout := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	out := make([]float32, len(w.Weights))
	for h := 0; h < kh; h++ {
		for x := 0; x < kw; x++ {
			for i := 0; i < cin; i++ {
				for o := 0; o < cout; o++ {
					out[((o*cin+i)*kh+h)*kw+x] = w.Weights[((h*kw+x)*cin+i)*cout+o]
				}
			}
		}
	}
	return plot.Layer{Name: w.Layer, Weights: out, Shape: []int{cout, cin, kh, kw}}
}

// mapsCHW turns one example's [1, H, W, C] activations into [C, H, W].
func mapsCHW(a nn.Activation) plot.Layer {
	h, w, c := a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float32, h*w*c)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				out[(ch*h+y)*w+x] = a.Values[(y*w+x)*c+ch]
			}
		}
	}
	return plot.Layer{Name: a.Layer, Weights: out, Shape: []int{c, h, w}}
}

func image(im *data.Images, i int) plot.Image {
	size := im.Rows * im.Cols
	px := make([]float32, size)
	for j, p := range im.Pixels[i*size : (i+1)*size] {
		px[j] = float32(p) / 255
	}
	return plot.Image{Pixels: px, Height: im.Rows, Width: im.Cols}
}

// WriteResults draws every figure and writes them, the checkpoints,
// config.json, the study's files, summary.json and report.md into the results
// folder, replacing those of an earlier run as one unit (or, when it fails,
// leaving the folder as it was).
func (r *ClassificationRun) WriteResults() (*Summary, error) {
	if err := r.cvDone(); err != nil {
		return nil, err
	}
	var sum *Summary
	err := r.timed("results", func() error {
		figs, err := r.Figures()
		if err != nil {
			return err
		}
		studyFigs, err := r.StudyFigures()
		if err != nil {
			return err
		}
		if math.IsNaN(r.VoteAccuracy) {
			return fmt.Errorf("majority vote has no accuracy")
		}
		sum, err = r.writeResults(append(studyFigs, figs...), nil, func(s *Summary) error {
			s.Metrics["vote_test_accuracy"] = r.VoteAccuracy
			best := r.CV.Folds[r.CV.Best()].Test
			s.Metrics["best_model_test_accuracy"] = best.Accuracy
			s.Metrics["best_model_test_loss"] = best.Loss
			mean := 0.0
			for _, f := range r.CV.Folds {
				mean += f.Test.Accuracy
			}
			s.Metrics["mean_model_test_accuracy"] = mean / float64(len(r.CV.Folds))
			return nil
		})
		return err
	})
	return sum, err
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
