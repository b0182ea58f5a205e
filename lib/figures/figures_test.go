package figures_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/figures"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// smallStudy runs n trials of a real study by Ask and Tell: a log-scale
// float, an int and a categorical parameter, three intermediate values each.
func smallStudy(t *testing.T, n int) *hpo.Study {
	t.Helper()
	s, err := hpo.NewStudy(hpo.WithName("figures-test"), hpo.WithSampler(hpo.NewRandomSampler(3)))
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		tr, err := s.Ask()
		if err != nil {
			t.Fatal(err)
		}
		lr, _ := tr.SuggestFloat("lr", 1e-4, 1e-1, hpo.Log())
		units, _ := tr.SuggestInt("units", 4, 64)
		opt, _ := tr.SuggestCategorical("optimizer", []string{"Adam", "SGD"})
		v := math.Abs(math.Log10(lr)+2) + float64(units)/100
		if opt == "SGD" {
			v += 0.5
		}
		for step := 1; step <= 3; step++ {
			if err := tr.Report(step, v+1/float64(step)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Tell(tr, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// render draws every figure, as Save does: a figure is drawn only then.
func render(t *testing.T, figs []*plot.Figure) {
	t.Helper()
	for _, f := range figs {
		if png, err := f.PNG(400, 300); err != nil || len(png) == 0 {
			t.Errorf("%s: %d bytes: %v", f.Name, len(png), err)
		}
	}
}

func names(figs []*plot.Figure) []string {
	var out []string
	for _, f := range figs {
		out = append(out, f.Name)
	}
	return out
}

func TestStudyOf(t *testing.T) {
	s := smallStudy(t, 6)
	ps, err := figures.StudyOf(s, figures.Objective("validation loss"))
	if err != nil {
		t.Fatal(err)
	}
	if ps.Name != "figures-test" || ps.Direction != "minimize" || ps.Objective != "validation loss" || len(ps.Trials) != 6 {
		t.Fatalf("study %q %q %q with %d trials", ps.Name, ps.Direction, ps.Objective, len(ps.Trials))
	}
	trials, _ := s.Trials()
	for i, pt := range ps.Trials {
		want, _ := trials[i].Param("optimizer")
		if pt.CategoricalParams["optimizer"] != want {
			t.Errorf("trial %d: optimizer %q, want %v", i, pt.CategoricalParams["optimizer"], want)
		}
		if _, ok := pt.Params["optimizer"]; ok {
			t.Errorf("trial %d: the categorical parameter is also a number", i)
		}
		if pt.Params["lr"] != trials[i].Params["lr"] || len(pt.Intermediate) != 3 || pt.State != "COMPLETE" {
			t.Errorf("trial %d: %+v", i, pt)
		}
	}
	byName := map[string]plot.Param{}
	for _, p := range ps.Params {
		byName[p.Name] = p
	}
	if p := byName["lr"]; !p.Log || p.Low != 1e-4 || p.High != 1e-1 {
		t.Errorf("lr: %+v", p)
	}
	if p := byName["optimizer"]; !slices.Equal(p.Choices, []string{"Adam", "SGD"}) {
		t.Errorf("optimizer: %+v", p)
	}
}

func TestStudyFigures(t *testing.T) {
	s := smallStudy(t, 8)
	figs, err := figures.StudyFigures(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{plot.NameOptimizationHistory, plot.NameParamImportances, plot.NameContour,
		plot.NameSlice, plot.NameParallelCoordinate, plot.NameIntermediateValues}
	if got := names(figs); !slices.Equal(got, want) {
		t.Errorf("figures %v, want %v", got, want)
	}
	render(t, figs)
	for _, f := range []func(*hpo.Study, ...figures.Option) (*plot.Figure, error){
		figures.OptimizationHistory, figures.IntermediateValues, figures.Slice, figures.ParallelCoordinate,
	} {
		if _, err := f(s); err != nil {
			t.Error(err)
		}
	}
	if f, err := figures.Contour(s, []string{"lr", "units"}); err != nil || f.Name != plot.NameContour {
		t.Errorf("contour of lr and units: %v", err)
	}
	if _, err := figures.Contour(s, nil); err != nil {
		t.Errorf("contour of the most important: %v", err)
	}
	if _, err := figures.ParamImportances(s); err != nil {
		t.Error(err)
	}
}

// TestYoungStudy: one complete trial has no importances: the figures that
// need none are drawn, the error says why the others are not.
func TestYoungStudy(t *testing.T) {
	s := smallStudy(t, 1)
	figs, err := figures.StudyFigures(s)
	if !errors.Is(err, figures.ErrNoImportances) {
		t.Fatalf("error %v, want ErrNoImportances", err)
	}
	if got := names(figs); !slices.Contains(got, plot.NameOptimizationHistory) || slices.Contains(got, plot.NameContour) {
		t.Errorf("figures %v", got)
	}
	if _, err := figures.OptimizationHistory(nil); err == nil {
		t.Error("a nil study: no error")
	}
}

// sine is n noisy-free points of sin(x) over [-3, 3].
func sine(n int) *data.CSVDataset {
	d := &data.CSVDataset{}
	for i := range n {
		x := -3 + 6*float64(i)/float64(n-1)
		d.Inputs, d.Labels = append(d.Inputs, x), append(d.Labels, math.Sin(x))
	}
	return d
}

func TestRegressionFigures(t *testing.T) {
	be := backend.Go()
	train, test := sine(30), sine(11)
	grid := figures.Grid(50, train, test)
	if len(grid) != 50 || grid[0] >= -3 || grid[49] <= 3 {
		t.Fatalf("grid %v..%v", grid[0], grid[len(grid)-1])
	}
	var snaps []nn.Snapshot
	res, err := cv.Run(be.Backend, cv.Config{Spec: nn.MLP([]int{8, 4}, nil, "relu"), Folds: 2, Seed: 1,
		Hyperparameters: nn.Hyperparameters{Epochs: 4, BatchSize: 10, LearningRate: 0.01, Optimizer: "Adam"},
		Callbacks: func(fold int) []nn.Callback {
			if fold == 1 {
				return []nn.Callback{nn.SnapshotEvery(2, nn.Inputs(grid), &snaps)}
			}
			return nil
		}, Progress: nn.ProgressOff}, nn.FromCSV(train))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := figures.RegressionPerformances(res); err == nil {
		t.Error("performances before Evaluate: no error")
	}
	if err := res.Evaluate(nn.FromCSV(test)); err != nil {
		t.Fatal(err)
	}
	xs := []float64{-1, 2}
	figs, anims, err := figures.RegressionFigures(figures.Regression{Train: train, Test: test, Grid: grid, CV: res, Snapshots: snaps, ActivationInputs: xs})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{plot.NameDataBest, plot.NameDataMean, plot.NameModelPerformances, plot.NameLosses,
		plot.NameLossesForEachFold, plot.NameWeights, plot.ActivationsName(-1), plot.ActivationsName(2)}
	if got := names(figs); !slices.Equal(got, want) {
		t.Errorf("figures %v, want %v", got, want)
	}
	render(t, figs)
	if len(anims) != 1 || anims[0].Name != plot.NameFit {
		t.Errorf("animations %v", anims)
	}
	m := res.Folds[res.Best()].Model
	acts, err := figures.Activations(m, xs...)
	if err != nil || len(acts) != 2 || acts[1].Name != plot.ActivationsName(2) {
		t.Fatalf("activations: %v", err)
	}
	dense, conv, err := figures.Layers(m)
	if err != nil || len(dense) != 3 || len(conv) != 0 || !slices.Equal(dense[0].Shape, []int{1, 8}) {
		t.Fatalf("layers %+v %+v: %v", dense, conv, err)
	}
	for _, f := range []func() (*plot.Figure, error){
		func() (*plot.Figure, error) { return figures.Data(train, test) },
		func() (*plot.Figure, error) { return figures.DataBest(train, test, m, grid) },
		func() (*plot.Figure, error) { return figures.DataMean(train, test, res, grid) },
		func() (*plot.Figure, error) { return figures.Losses(res) },
		func() (*plot.Figure, error) { return figures.LossesForEachFold(res) },
		func() (*plot.Figure, error) { return figures.RegressionPerformances(res) },
		func() (*plot.Figure, error) { return figures.Weights(m) },
	} {
		if _, err := f(); err != nil {
			t.Error(err)
		}
	}
	if _, err := figures.Filters(m); err == nil {
		t.Error("filters of an MLP: no error")
	}
	if a, err := figures.Fit(train, test, snaps, grid); err != nil || len(a.Frames) != len(snaps) {
		t.Errorf("fit: %v", err)
	}
}

// images are n synthetic 28x28 images, labels cycling over the classes.
func images(n int) *data.Images {
	im := &data.Images{N: n, Rows: 28, Cols: 28}
	for i := range n {
		for p := range 28 * 28 {
			im.Pixels = append(im.Pixels, uint8((p*7+i*31)%256))
		}
		im.Labels = append(im.Labels, uint8(i%data.NumClasses))
	}
	return im
}

func TestClassificationFigures(t *testing.T) {
	be := backend.Go()
	train, test := images(40), images(20)
	res, err := cv.Run(be.Backend, cv.Config{Spec: nn.LeNet5(0.1, 0.1), Folds: 2, Seed: 1,
		Hyperparameters: nn.Hyperparameters{Epochs: 1, BatchSize: 10, LearningRate: 0.01, Optimizer: "Adam"},
		Progress:        nn.ProgressOff}, nn.FromImages(train))
	if err != nil {
		t.Fatal(err)
	}
	td := nn.FromImages(test)
	if err := res.Evaluate(td); err != nil {
		t.Fatal(err)
	}
	votes, _, err := res.EnsembleClassification(td)
	if err != nil {
		t.Fatal(err)
	}
	figs, err := figures.ClassificationFigures(figures.Classification{Test: test, CV: res, Votes: votes, Samples: 6})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{plot.NameModelPerformances, plot.NameConfusionBest, plot.NameConfusionVote, plot.NameLosses,
		plot.NameAccuracies, plot.NameWeights, plot.NameFiltersConv1, plot.NameFiltersConv2,
		plot.NameFeatureMapsConv1, plot.NameFeatureMapsConv2, plot.NameSamples}
	if got := names(figs); !slices.Equal(got, want) {
		t.Errorf("figures %v, want %v", got, want)
	}
	render(t, figs)
	m := res.Folds[res.Best()].Model
	_, conv, err := figures.Layers(m)
	if err != nil || len(conv) != 2 || !slices.Equal(conv[0].Shape, []int{6, 1, 5, 5}) {
		t.Fatalf("kernels %v: %v", conv, err)
	}
	filters, err := figures.Filters(m)
	if err != nil || !slices.Equal(names(filters), []string{plot.NameFiltersConv1, plot.NameFiltersConv2}) {
		t.Errorf("filters %v: %v", names(filters), err)
	}
	maps, err := figures.FeatureMaps(m, test, 3)
	if err != nil || !slices.Equal(names(maps), []string{plot.NameFeatureMapsConv1, plot.NameFeatureMapsConv2}) {
		t.Errorf("feature maps %v: %v", names(maps), err)
	}
	counts, err := figures.Confusion(m, test)
	total := 0
	for _, row := range counts {
		for _, c := range row {
			total += c
		}
	}
	if err != nil || len(counts) != data.NumClasses || total != test.Len() {
		t.Errorf("confusion of %d answers: %v", total, err)
	}
	if _, err := figures.ConfusionVote(votes[:3], test); err == nil {
		t.Error("a vote of 3 answers for 20 images: no error")
	}
	if _, err := figures.Samples(test, figures.FirstOfEachClass(test, 1), m); err != nil {
		t.Error(err)
	}
	if idx := figures.FirstOfEachClass(test, 2); len(idx) != 20 || test.Labels[idx[2]] != 1 {
		t.Errorf("first of each class: %v", idx)
	}
	if _, err := figures.Accuracies(res); err != nil {
		t.Error(err)
	}
	if _, err := figures.ClassificationPerformances(res); err != nil {
		t.Error(err)
	}
}
