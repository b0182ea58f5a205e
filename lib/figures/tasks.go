package figures

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// XY is a CSV dataset's points.
func XY(ds *data.CSVDataset) plot.XY {
	if ds == nil {
		return plot.XY{}
	}
	return plot.XY{X: ds.Inputs, Y: ds.Labels}
}

// Grid is n points evenly over every input of the datasets and 5% more on
// each side: where the regression's curves are drawn.
func Grid(n int, sets ...*data.CSVDataset) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ds := range sets {
		if ds != nil && ds.Len() > 0 {
			lo, hi = math.Min(lo, slices.Min(ds.Inputs)), math.Max(hi, slices.Max(ds.Inputs))
		}
	}
	if n < 2 || lo > hi {
		return nil
	}
	margin := 0.05 * (hi - lo)
	grid := make([]float64, n)
	for i := range grid {
		grid[i] = lo - margin + (hi-lo+2*margin)*float64(i)/float64(n-1)
	}
	return grid
}

// Data draws the regression's train and test points.
func Data(train, test *data.CSVDataset) (*plot.Figure, error) {
	return plot.Data(XY(train), XY(test))
}

// Curve is model m's predictions over xs.
func Curve(m *nn.Model, xs []float64) (plot.XY, error) {
	if m == nil {
		return plot.XY{}, errNoModel
	}
	p, err := m.Predict(nn.Inputs(xs))
	return plot.XY{X: xs, Y: p}, err
}

// DataBest draws the points with model m's curve over grid.
func DataBest(train, test *data.CSVDataset, m *nn.Model, grid []float64) (*plot.Figure, error) {
	c, err := Curve(m, grid)
	if err != nil {
		return nil, err
	}
	return plot.DataBest(XY(train), XY(test), c)
}

// predictions are every fold's model over grid.
func predictions(res *cv.Result, grid []float64) ([][]float64, error) {
	if res == nil {
		return nil, errNoCV
	}
	var preds [][]float64
	for _, f := range res.Folds {
		c, err := Curve(f.Model, grid)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f.Index+1, err)
		}
		preds = append(preds, c.Y)
	}
	return preds, nil
}

// DataMean draws the points with the mean of the folds' curves over grid.
func DataMean(train, test *data.CSVDataset, res *cv.Result, grid []float64) (*plot.Figure, error) {
	preds, err := predictions(res, grid)
	if err != nil {
		return nil, err
	}
	return plot.DataMean(XY(train), XY(test), grid, preds)
}

// Frames are snapshots over grid (nn.SnapshotEvery) as fit.gif's frames.
func Frames(snaps []nn.Snapshot, grid []float64) []plot.FitFrame {
	out := make([]plot.FitFrame, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, plot.FitFrame{Epoch: s.Epoch, Curve: plot.XY{X: grid, Y: s.Predictions}})
	}
	return out
}

// Fit is the animation of the points with the snapshots' curves (fit.gif).
func Fit(train, test *data.CSVDataset, snaps []nn.Snapshot, grid []float64) (*plot.Animation, error) {
	return plot.FitAnimation(XY(train), XY(test), Frames(snaps, grid))
}

// Regression is what the regression's figures are drawn from.
type Regression struct {
	Train, Test *data.CSVDataset
	// Grid is where curves are drawn (Grid).
	Grid []float64
	// CV is the cross-validation, scored on Test (cv.Result.Evaluate).
	CV *cv.Result
	// Snapshots are the last fold's curves over Grid (fit.gif).
	Snapshots []nn.Snapshot
	// ActivationInputs are the inputs x of the activation profiles.
	ActivationInputs []float64
}

// RegressionFigures draws every figure of the regression's results folder,
// in the seed's order, and fit.gif.
func RegressionFigures(r Regression) ([]*plot.Figure, []*plot.Animation, error) {
	if r.CV == nil || len(r.CV.Folds) == 0 {
		return nil, nil, errNoCV
	}
	loss, _, err := testScores(r.CV)
	if err != nil {
		return nil, nil, err
	}
	preds, err := predictions(r.CV, r.Grid)
	if err != nil {
		return nil, nil, err
	}
	best := r.CV.Best()
	in := plot.RegressionResults{Train: XY(r.Train), Test: XY(r.Test), Xs: r.Grid, Preds: preds,
		Best: plot.XY{X: r.Grid, Y: preds[best]}, Frames: Frames(r.Snapshots, r.Grid),
		TestLoss: loss, Folds: Histories(r.CV), Activations: map[float64][]plot.Activation{}}
	m := r.CV.Folds[best].Model
	if in.Layers, _, err = Layers(m); err != nil {
		return nil, nil, err
	}
	for _, x := range r.ActivationInputs {
		if in.Activations[x], err = ActivationsOf(m, x); err != nil {
			return nil, nil, err
		}
	}
	return plot.RegressionFigures(in)
}

// Classification is what the classification's figures are drawn from.
type Classification struct {
	// Test are the test images the cross-validation was scored on.
	Test *data.Images
	// CV is the cross-validation, scored on Test (cv.Result.Evaluate).
	CV *cv.Result
	// Votes is the folds' majority vote over Test
	// (cv.Result.EnsembleClassification).
	Votes []int32
	// Samples is how many test images the sample grid shows.
	Samples int
}

// ClassificationFigures draws every figure of the classification's results
// folder: performances, both confusion matrices, losses, accuracies, the
// best model's weights, filters and feature maps (of the first test image),
// and test images with its answers.
func ClassificationFigures(c Classification) ([]*plot.Figure, error) {
	if c.CV == nil || len(c.CV.Folds) == 0 {
		return nil, errNoCV
	}
	if c.Test == nil || c.Test.Len() == 0 {
		return nil, errors.New("figures: no test images")
	}
	loss, acc, err := testScores(c.CV)
	if err != nil {
		return nil, err
	}
	test := nn.FromImages(c.Test)
	m := c.CV.Folds[c.CV.Best()].Model
	in := plot.ClassificationResults{Classes: data.ClassNames[:], TestAcc: acc, TestLoss: loss, Folds: Histories(c.CV)}
	if in.ConfusionBest, err = Confusion(m, c.Test); err != nil {
		return nil, err
	}
	if len(c.Votes) != c.Test.Len() {
		return nil, fmt.Errorf("figures: %d votes for %d test images", len(c.Votes), c.Test.Len())
	}
	in.ConfusionVote = nn.ConfusionMatrix(c.Votes, labels(c.Test), data.NumClasses)
	var conv []plot.Layer
	if in.Linear, conv, err = Layers(m); err != nil {
		return nil, err
	}
	if len(conv) < 2 {
		return nil, fmt.Errorf("figures: model %s has %d convolutions, want 2", m.Spec.Kind, len(conv))
	}
	in.Conv1, in.Conv2 = conv[0], conv[1]
	one, err := test.Subset([]int{0})
	if err != nil {
		return nil, err
	}
	acts, err := m.Activations(one)
	if err != nil {
		return nil, err
	}
	if _, maps := activationsOf(acts); len(maps) >= 2 {
		in.Maps1, in.Maps2 = maps[0], maps[1]
	}
	in.Input = Image(c.Test, 0)
	n := min(c.Samples, c.Test.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	pred, err := m.PredictClasses(nn.FromImages(c.Test.Slice(idx)))
	if err != nil {
		return nil, err
	}
	for i := range idx {
		in.Samples = append(in.Samples, Image(c.Test, i))
		in.Labels = append(in.Labels, int(c.Test.Labels[i]))
		in.Predicted = append(in.Predicted, int(pred[i]))
	}
	return plot.ClassificationFigures(in)
}
