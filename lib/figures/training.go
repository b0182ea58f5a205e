package figures

import (
	"errors"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// History is one training run's epochs as lib/plot reads them.
func History(h *nn.History) plot.History {
	var out plot.History
	if h == nil {
		return out
	}
	for _, e := range h.Epochs {
		out.Epochs = append(out.Epochs, e.Epoch)
		out.TrainLoss = append(out.TrainLoss, e.TrainLoss)
		out.ValLoss = append(out.ValLoss, e.ValLoss)
		out.TrainAcc = append(out.TrainAcc, e.TrainAccuracy)
		out.ValAcc = append(out.ValAcc, e.ValAccuracy)
	}
	return out
}

// Histories are the histories of the cross-validation's folds, in order.
func Histories(res *cv.Result) []plot.History {
	if res == nil {
		return nil
	}
	out := make([]plot.History, len(res.Folds))
	for i, f := range res.Folds {
		out[i] = History(f.History)
	}
	return out
}

var errNoCV = errors.New("figures: no cross-validation result")

// foldsFigure draws a figure of the folds' histories.
func foldsFigure(res *cv.Result, draw func([]plot.History) (*plot.Figure, error)) (*plot.Figure, error) {
	if res == nil {
		return nil, errNoCV
	}
	return draw(Histories(res))
}

// Losses draws the training and validation losses averaged over the folds.
func Losses(res *cv.Result) (*plot.Figure, error) { return foldsFigure(res, plot.Losses) }

// LossesForEachFold draws each fold's validation loss.
func LossesForEachFold(res *cv.Result) (*plot.Figure, error) {
	return foldsFigure(res, plot.LossesForEachFold)
}

// Accuracies draws the training and validation accuracies averaged over the
// folds (classification).
func Accuracies(res *cv.Result) (*plot.Figure, error) { return foldsFigure(res, plot.Accuracies) }

// testScores are the folds' test losses and accuracies (Result.Evaluate).
func testScores(res *cv.Result) (loss, acc []float64, err error) {
	if res == nil {
		return nil, nil, errNoCV
	}
	for _, f := range res.Folds {
		if f.Test == nil {
			return nil, nil, errors.New("figures: the folds have no test scores: call Result.Evaluate first")
		}
		loss, acc = append(loss, f.Test.Loss), append(acc, f.Test.Accuracy)
	}
	return loss, acc, nil
}

// RegressionPerformances draws each fold's test loss (after
// Result.Evaluate), the best one marked.
func RegressionPerformances(res *cv.Result) (*plot.Figure, error) {
	loss, _, err := testScores(res)
	if err != nil {
		return nil, err
	}
	return plot.RegressionPerformances(loss)
}

// ClassificationPerformances draws each fold's test accuracy and loss
// (after Result.Evaluate).
func ClassificationPerformances(res *cv.Result) (*plot.Figure, error) {
	loss, acc, err := testScores(res)
	if err != nil {
		return nil, err
	}
	return plot.ClassificationPerformances(acc, loss)
}
