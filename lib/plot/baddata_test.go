package plot

import (
	"math"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/data"
)

// TestBadDataGivesErrors calls every figure function with broken data: each
// must return an error naming the problem, and none may panic.
func TestBadDataGivesErrors(t *testing.T) {
	nan := math.NaN()
	r := SyntheticRegression(1)
	c := SyntheticClassification(1)
	st := SyntheticRegressionStudy(1).Study
	good := History{Epochs: []int{1, 2}, TrainLoss: []float64{1, 0.5}, ValLoss: []float64{1, 0.6},
		TrainAcc: []float64{0.5, 0.6}, ValAcc: []float64{0.5, 0.7}}
	short := good
	short.Epochs = []int{1}
	withNaN := good
	withNaN.ValLoss = []float64{1, nan}
	onlyPruned := Study{Direction: "minimize", Trials: []Trial{{Number: 0, State: "PRUNED", Intermediate: map[int]float64{1: 1}}}}
	noSteps := Study{Direction: "minimize", Trials: []Trial{{Number: 0, State: "COMPLETE", Value: 1}}}
	nanStudy := Study{Direction: "minimize", Trials: []Trial{{Number: 0, State: "COMPLETE", Value: nan}}}
	badDir := st
	badDir.Direction = "up"
	square := [][]int{{1, 0}, {0, 1}}

	cases := []struct {
		name    string
		call    func() error
		mention string // a word the error must contain
	}{
		{"data empty", func() error { _, err := Data(XY{}, XY{}); return err }, "train"},
		{"data_best empty", func() error { _, err := DataBest(XY{}, XY{}, XY{}); return err }, "train"},
		{"data_best mismatched", func() error {
			_, err := DataBest(XY{X: []float64{1, 2}, Y: []float64{1}}, r.Test, r.Best)
			return err
		}, "y values"},
		{"data_best NaN curve", func() error {
			_, err := DataBest(r.Train, r.Test, XY{X: []float64{0, 1}, Y: []float64{0, nan}})
			return err
		}, "NaN"},
		{"data_mean no models", func() error { _, err := DataMean(r.Train, r.Test, r.Xs, nil); return err }, "no models"},
		{"data_mean short model", func() error {
			_, err := DataMean(r.Train, r.Test, r.Xs, [][]float64{{1, 2}})
			return err
		}, "model 1"},
		{"fit no frames", func() error { _, err := FitAnimation(r.Train, r.Test, nil); return err }, "no frames"},
		{"fit NaN frame", func() error {
			_, err := FitAnimation(r.Train, r.Test, []FitFrame{{Epoch: 5, Curve: XY{X: []float64{0, 1}, Y: []float64{nan, 0}}}})
			return err
		}, "frame 1"},
		{"performances empty", func() error { _, err := RegressionPerformances(nil); return err }, "no models"},
		{"performances NaN", func() error { _, err := RegressionPerformances([]float64{1, nan}); return err }, "NaN"},
		{"losses no folds", func() error { _, err := Losses(nil); return err }, "no folds"},
		{"losses ragged folds", func() error { _, err := Losses([]History{good, short}); return err }, "fold 2"},
		{"losses NaN", func() error { _, err := Losses([]History{good, withNaN}); return err }, "NaN"},
		{"losses no epochs", func() error { _, err := Losses([]History{{}}); return err }, "no epochs"},
		{"each fold no folds", func() error { _, err := LossesForEachFold(nil); return err }, "no folds"},
		{"accuracies missing", func() error {
			h := good
			h.ValAcc = nil
			_, err := Accuracies([]History{h})
			return err
		}, "ValAcc"},
		{"weights none", func() error { _, err := Weights(nil); return err }, "no layers"},
		{"weights shape", func() error {
			_, err := Weights([]Layer{{Name: "l", Weights: []float32{1, 2, 3}, Shape: []int{2, 2}}})
			return err
		}, "shape"},
		{"weights NaN", func() error {
			_, err := Weights([]Layer{{Name: "l", Weights: []float32{1, float32(nan)}}})
			return err
		}, "NaN"},
		{"activations none", func() error { _, err := Activations(1, nil); return err }, "no layers"},
		{"activations NaN x", func() error {
			_, err := Activations(nan, []Activation{{Layer: "a", Values: []float32{1}}})
			return err
		}, "NaN"},
		{"activations empty layer", func() error { _, err := Activations(1, []Activation{{Layer: "a"}}); return err }, "no activations"},
		{"cls performances mismatched", func() error {
			_, err := ClassificationPerformances([]float64{0.9, 0.8}, []float64{0.3})
			return err
		}, "losses"},
		{"confusion not square", func() error {
			_, err := ConfusionBest([][]int{{1, 2}, {3}}, []string{"a", "b"})
			return err
		}, "row 1"},
		{"confusion rows vs classes", func() error { _, err := ConfusionVote(square, []string{"a"}); return err }, "rows"},
		{"confusion negative", func() error {
			_, err := ConfusionBest([][]int{{1, -1}, {0, 1}}, []string{"a", "b"})
			return err
		}, "negative"},
		{"confusion all zero", func() error {
			_, err := ConfusionBest([][]int{{0, 0}, {0, 0}}, []string{"a", "b"})
			return err
		}, "zero"},
		{"filters 3-d", func() error {
			_, err := FiltersConv1(Layer{Name: "k", Weights: make([]float32, 8), Shape: []int{2, 2, 2}})
			return err
		}, "dimensions"},
		{"feature maps bad image", func() error {
			_, err := FeatureMapsConv1(Image{Pixels: []float32{1}, Height: 2, Width: 2}, c.Maps1)
			return err
		}, "pixels"},
		{"samples label out of range", func() error {
			_, err := Samples(c.Samples[:1], []int{12}, nil, data.ClassNames[:])
			return err
		}, "label 12"},
		{"samples mismatched", func() error { _, err := Samples(c.Samples[:2], []int{1}, nil, data.ClassNames[:]); return err }, "labels"},
		{"study no trials", func() error { _, err := OptimizationHistory(Study{Direction: "minimize"}); return err }, "no trials"},
		{"study direction", func() error { _, err := Slice(badDir); return err }, "direction"},
		{"study NaN value", func() error { _, err := ParallelCoordinate(nanStudy); return err }, "NaN"},
		{"history only pruned", func() error { _, err := OptimizationHistory(onlyPruned); return err }, "no complete"},
		{"slice only pruned", func() error { _, err := Slice(onlyPruned); return err }, "no complete"},
		{"parallel only pruned", func() error { _, err := ParallelCoordinate(onlyPruned); return err }, "no complete"},
		{"history only pruned, named", func() error { _, err := OptimizationHistory(onlyPruned); return err }, NameOptimizationHistory},
		{"slice NaN value, named", func() error { _, err := Slice(nanStudy); return err }, NameSlice},
		{"importances empty", func() error { _, err := ParamImportances(nil); return err }, "no importances"},
		{"importances negative", func() error { _, err := ParamImportances(map[string]float64{"lr": -1}); return err }, "lr"},
		{"contour unknown param", func() error { _, err := Contour(st, []string{"lr", "nope"}); return err }, "nope"},
		{"contour one param", func() error { _, err := Contour(st, []string{"lr"}); return err }, "2 parameters"},
		{"intermediate none", func() error { _, err := IntermediateValues(noSteps); return err }, "no intermediate"},
		{"HWIO shape", func() error {
			_, err := KernelFromHWIO(Layer{Name: "k", Weights: []float32{1}, Shape: []int{1}})
			return err
		}, "dimensions"},
		{"nil figure PNG", func() error { _, err := (*Figure)(nil).PNG(10, 10); return err }, "figure"},
		{"zero size PNG", func() error {
			f, _ := RegressionPerformances([]float64{1, 2})
			_, err := f.PNG(0, 5)
			return err
		}, "size"},
		{"nil animation", func() error { _, err := (*Animation)(nil).GIF(); return err }, "frames"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panicked: %v", p)
				}
			}()
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

// TestDegenerateButValidData draws figures from data that is legal but
// degenerate (one point, constant values): they must render, not fail.
func TestDegenerateButValidData(t *testing.T) {
	one := XY{X: []float64{1}, Y: []float64{2}}
	flat := XY{X: []float64{0, 1}, Y: []float64{2, 2}}
	figs := []func() (*Figure, error){
		func() (*Figure, error) { return DataBest(one, XY{}, flat) },
		func() (*Figure, error) { return RegressionPerformances([]float64{0}) },
		func() (*Figure, error) {
			return Losses([]History{{Epochs: []int{1}, TrainLoss: []float64{1}, ValLoss: []float64{1}}})
		},
		func() (*Figure, error) { return Weights([]Layer{{Name: "zeros", Weights: make([]float32, 4)}}) },
		func() (*Figure, error) {
			return Activations(0, []Activation{{Layer: "dead", Values: make([]float32, 3)}})
		},
		func() (*Figure, error) {
			return FiltersConv1(Layer{Name: "k", Weights: make([]float32, 25), Shape: []int{1, 1, 5, 5}})
		},
		func() (*Figure, error) { return ParamImportances(map[string]float64{"lr": 0}) },
	}
	for i, mk := range figs {
		f, err := mk()
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if _, err := f.PNG(200, 150); err != nil {
			t.Errorf("case %d (%s): PNG: %v", i, f.Name, err)
		}
		if _, err := f.SVG(); err != nil {
			t.Errorf("case %d (%s): SVG: %v", i, f.Name, err)
		}
	}
}

// TestStudyWithConditionalParams covers what a real search produces: a
// parameter only some trials sample (momentum, for SGD only) and one that is
// declared but never sampled. Every study figure must still render.
func TestStudyWithConditionalParams(t *testing.T) {
	sr := SyntheticRegressionStudy(5)
	s := sr.Study
	s.Params = append(append([]Param(nil), s.Params...),
		Param{Name: "momentum", Low: 0, High: 0.9}, Param{Name: "never", Low: 1, High: 2})
	s.Trials = append([]Trial(nil), s.Trials...)
	for i, tr := range s.Trials {
		if tr.CategoricalParams["optimizer"] == "SGD" {
			p := map[string]float64{"momentum": 0.1 * float64(i%9)}
			for k, v := range tr.Params {
				p[k] = v
			}
			s.Trials[i].Params = p
		}
	}
	imp := map[string]float64{"momentum": 0.6, "lr": 0.3, "optimizer": 0.1}
	figs, err := StudyFigures(StudyResults{Study: s, Importances: imp})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range figs {
		if _, err := f.PNG(300, 200); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if svg, err := f.SVG(); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		} else if strings.Contains(string(svg), ">never<") {
			t.Errorf("%s draws the never-sampled parameter", f.Name)
		}
		if f.Name == NameParallelCoordinate && !strings.Contains(f.Title, "dotted across a parameter the trial did not use") {
			t.Errorf("%s: title %q does not say how trials without momentum are drawn", f.Name, f.Title)
		}
	}
}

// A trial whose training diverged reports NaN before it fails (and a pruned
// one may have reported NaN last): that is data, and every study figure is
// still drawn, leaving those points out.
func TestDivergedTrialsDoNotStopTheStudyFigures(t *testing.T) {
	s := SyntheticRegressionStudy(1)
	n := len(s.Study.Trials)
	nan := math.NaN()
	s.Study.Trials = append(s.Study.Trials,
		Trial{Number: n, State: "FAIL", Params: s.Study.Trials[0].Params, Intermediate: map[int]float64{0: 3, 1: 2, 2: nan}},
		Trial{Number: n + 1, State: "PRUNED", Params: s.Study.Trials[0].Params, Intermediate: map[int]float64{0: 4, 1: math.Inf(1)}},
		Trial{Number: n + 2, State: "PRUNED", Params: s.Study.Trials[0].Params, Intermediate: map[int]float64{0: nan}})
	figs, err := StudyFigures(s)
	if err != nil {
		t.Fatalf("study figures with diverged trials: %v", err)
	}
	if len(figs) != 6 {
		t.Errorf("%d study figures, want 6", len(figs))
	}
	if v, ok := lastFinite(s.Study.Trials[n+1]); !ok || v != 4 {
		t.Errorf("lastFinite of a trial that ended on +Inf = %v, %v; want 4, true", v, ok)
	}
	if _, ok := lastFinite(s.Study.Trials[n+2]); ok {
		t.Errorf("lastFinite of a trial with only NaN found a value")
	}
	// Failed trials are left out of the intermediate values, as Optuna's
	// figure leaves them (a diverged one would stretch the axis to 1e20).
	onlyFailed := Study{Name: "f", Direction: "minimize", Trials: []Trial{
		{Number: 0, State: "COMPLETE", Value: 1},
		{Number: 1, State: "FAIL", Intermediate: map[int]float64{0: 1e20}}}}
	if _, err := IntermediateValues(onlyFailed); err == nil || !strings.Contains(err.Error(), "no intermediate values") {
		t.Errorf("intermediate values of a study whose only reports are a failed trial's: %v, want no intermediate values", err)
	}
}
