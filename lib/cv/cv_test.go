package cv

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/nn"
)

func TestMajorityVote(t *testing.T) {
	predictions := [][]int32{
		{1, 2, 3, 4, 0, 7},
		{1, 2, 5, 6, 0, 8},
		{1, 3, 5, 4, 9, 9},
		{2, 3, 3, 6, 9, 8},
	}
	// Example by example: 1 wins 3-1; 2 and 3 tie 2-2; 3 and 5 tie; 4 and 6
	// tie; 0 and 9 tie; 8 wins 2-1-1.
	const best = 2
	want := []int32{1, 3, 5, 4, 9, 8}
	got, err := MajorityVote(predictions, best)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("MajorityVote(best=%d) = %v, want %v", best, got, want)
	}
	// Another best model changes only the ties.
	got, _ = MajorityVote(predictions, 0)
	if want := []int32{1, 2, 3, 4, 0, 8}; !slices.Equal(got, want) {
		t.Errorf("MajorityVote(best=0) = %v, want %v", got, want)
	}
	// On a tie the best model's label wins even when it is not one of the
	// tied labels: the seed takes "the prediction of the best network".
	got, _ = MajorityVote([][]int32{{1}, {1}, {2}, {2}, {3}}, 4)
	if got[0] != 3 {
		t.Errorf("tie of 1 and 2 with best model saying 3 gave %d, want 3", got[0])
	}
	if _, err := MajorityVote(predictions, 4); err == nil {
		t.Error("best out of range accepted")
	}
	if _, err := MajorityVote([][]int32{{1, 2}, {1}}, 0); err == nil {
		t.Error("ragged predictions accepted")
	}
}

func TestMeanEnsemble(t *testing.T) {
	got, err := MeanEnsemble([][]float64{{1, 2, 3}, {3, 2, 1}, {2, 5, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []float64{2, 3, 1}) {
		t.Errorf("mean = %v, want [2 3 1]", got)
	}
	if _, err := MeanEnsemble(nil); err == nil {
		t.Error("no predictions accepted")
	}
	if m := MSE([]float64{1, 2}, []float64{0, 4}); m != 2.5 {
		t.Errorf("MSE = %g, want 2.5", m)
	}
}

func wave(n int, phase float64) *nn.Data {
	var xs, ys []float64
	for i := range n {
		x := -3 + 6*(float64(i)+phase)/float64(n)
		xs = append(xs, x)
		ys = append(ys, math.Sin(x)+x/3)
	}
	d, err := nn.NewRegressionData(xs, ys, []int{1})
	if err != nil {
		panic(err)
	}
	return d
}

// TestRun trains 3 folds of a small MLP and checks what the seed's script
// relies on: every fold kept with its history, disjoint validation parts that
// cover the training set, test scores, a best model, and an ensemble at least
// as good as the average single model.
func TestRun(t *testing.T) {
	cfg := Config{
		Spec:            nn.MLP([]int{16, 16}, nil, nn.ActivationTanh),
		Hyperparameters: nn.Hyperparameters{Epochs: 40, BatchSize: 8, LearningRate: 0.01, Optimizer: nn.OptimizerAdam},
		Folds:           3, Seed: 5, Progress: nn.ProgressOff,
	}
	snapshots := 0
	cfg.Callbacks = func(fold int) []nn.Callback {
		if fold != cfg.Folds-1 {
			return nil
		}
		return []nn.Callback{func(m *nn.Model, s nn.EpochStats) error {
			if s.Epoch%5 == 0 {
				if _, err := m.Predict(nn.Inputs([]float64{-1, 0, 1})); err != nil {
					return err
				}
				snapshots++
			}
			return nil
		}}
	}
	train, test := wave(60, 0), wave(30, 0.5)
	res, err := Run(backend.Go().Backend, cfg, train)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Folds) != 3 || snapshots != 8 {
		t.Fatalf("%d folds, %d snapshots; want 3 and 8", len(res.Folds), snapshots)
	}
	seen := map[int]bool{}
	for _, f := range res.Folds {
		if len(f.History.Epochs) != 40 || math.IsNaN(f.Validation.Loss) {
			t.Errorf("fold %d: %d epochs, validation %v", f.Index, len(f.History.Epochs), f.Validation)
		}
		for _, i := range f.Val {
			if seen[i] {
				t.Errorf("example %d in two validation parts", i)
			}
			seen[i] = true
		}
	}
	if len(seen) != train.Len() {
		t.Errorf("validation parts cover %d of %d examples", len(seen), train.Len())
	}
	if res.Best() != -1 {
		t.Error("Best before Evaluate")
	}
	if _, _, err := res.EnsembleClassification(test); err == nil {
		t.Error("a vote before Evaluate")
	}
	if err := res.Evaluate(test); err != nil {
		t.Fatal(err)
	}
	best := res.Best()
	var meanSingle float64
	for _, f := range res.Folds {
		meanSingle += f.Test.Loss / 3
		if f.Test.Loss < res.Folds[best].Test.Loss {
			t.Errorf("fold %d beats the best fold %d", f.Index, best)
		}
	}
	_, mse, err := res.EnsembleRegression(test)
	if err != nil {
		t.Fatal(err)
	}
	// The mean of predictions is never worse than the mean of the losses
	// (squared error is convex).
	if mse > meanSingle+1e-9 {
		t.Errorf("ensemble MSE %g above the mean single MSE %g", mse, meanSingle)
	}
	if meanSingle > 0.2 {
		t.Errorf("mean test MSE %g: the folds did not learn", meanSingle)
	}
}

func TestRunRejects(t *testing.T) {
	cfg := Config{Spec: nn.MLP([]int{4}, nil, ""), Folds: 0,
		Hyperparameters: nn.Hyperparameters{Epochs: 1, BatchSize: 4, LearningRate: 0.1, Optimizer: "SGD"}}
	if _, err := Run(backend.Go().Backend, cfg, wave(10, 0)); err == nil || !strings.Contains(err.Error(), "folds") {
		t.Errorf("folds 0: %v", err)
	}
	cfg.Folds = 20
	if _, err := Run(backend.Go().Backend, cfg, wave(10, 0)); err == nil {
		t.Error("20 folds of 10 examples accepted")
	}
}

func TestScorePredictions(t *testing.T) {
	spec := nn.LeNet5(0.5, 0.3)
	d, err := nn.NewImageData(make([]uint8, 2*784), []int32{3, 0}, []int{28, 28, 1})
	if err != nil {
		t.Fatal(err)
	}
	logits := make([]float64, 20)
	logits[3] = math.Log(4) // example 0: p(3) = 4/13, predicted 3
	logits[10+2] = 1        // example 1: predicted 2, label 0: p(0) = 1/(9+e)
	s, err := ScorePredictions(spec, logits, d)
	if err != nil {
		t.Fatal(err)
	}
	wantLoss := (math.Log(13.0/4) + math.Log(9+math.E)) / 2
	if math.Abs(s.Loss-wantLoss) > 1e-12 || s.Accuracy != 0.5 {
		t.Errorf("score %+v, want loss %g accuracy 0.5", s, wantLoss)
	}
	if _, err := ScorePredictions(spec, logits[:10], d); err == nil {
		t.Error("too few outputs accepted")
	}
}

// TestRunPaddingAndCompilations: Config.Padding reaches every fold's model,
// and the result counts the graphs compiled to train and score the folds (a
// hidden width no other test uses, so its graphs are new to this process).
func TestRunPaddingAndCompilations(t *testing.T) {
	padding := nn.Padding{BatchBits: 2, WidthBits: 0}
	cfg := Config{Spec: nn.MLP([]int{13}, nil, "tanh"), Folds: 2, Seed: 5, Padding: &padding,
		Hyperparameters: nn.Hyperparameters{Epochs: 2, BatchSize: 7, LearningRate: 0.01, Optimizer: "Adam"}}
	res, err := Run(backend.Go().Backend, cfg, wave(30, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Folds {
		if f.Model.Padding != padding {
			t.Errorf("fold %d: padding %+v, want %+v", f.Index, f.Model.Padding, padding)
		}
	}
	trained := res.Compilations
	if trained.Graphs <= 0 || trained.Seconds <= 0 {
		t.Errorf("training compiled %+v, want some graphs", trained)
	}
	if err := res.Evaluate(wave(11, 0.5)); err != nil {
		t.Fatal(err)
	}
	if res.Compilations.Graphs < trained.Graphs {
		t.Errorf("Evaluate lowered the count: %+v after %+v", res.Compilations, trained)
	}
}
