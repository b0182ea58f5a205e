package notebook

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

func TestConfig(t *testing.T) {
	t.Setenv("HW1_PRESET", "smoke")
	t.Setenv("HW1_OUT", "")
	t.Setenv("GONB_DIR", "/nb/notebooks")
	t.Setenv("HW1_STORAGE", "")
	cfg, err := Config(homework.TaskRegression)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Preset != "smoke" || cfg.Out != filepath.Join("/nb", "out") || cfg.Task != homework.TaskRegression {
		t.Errorf("preset %q, out %q, task %q", cfg.Preset, cfg.Out, cfg.Task)
	}
	t.Setenv("HW1_PRESET", "")
	if Preset() != DefaultPreset {
		t.Errorf("preset without $HW1_PRESET: %q", Preset())
	}
	t.Setenv("HW1_PRESET", "nonesuch")
	if _, err := Config(homework.TaskRegression); err == nil {
		t.Error("an unknown preset: no error")
	}
}

// TestTerminal: outside a notebook the helpers print what they would show.
func TestTerminal(t *testing.T) {
	var out bytes.Buffer
	old := Out
	Out = &out
	defer func() { Out = old }()
	Markdown("| a | b |")
	fig, err := plot.Data(plot.XY{X: []float64{0, 1}, Y: []float64{1, 0}}, plot.XY{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Show(fig, nil); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "| a | b |") || !strings.Contains(got, "figure data: Regression data") {
		t.Errorf("printed %q", got)
	}
	if Log(3) == nil || LiveLossCurves() != nil {
		t.Error("a terminal's log and live curves")
	}
}

func TestTables(t *testing.T) {
	for _, task := range []string{homework.TaskRegression, homework.TaskClassification} {
		cfg, err := homework.Preset(task, "seed")
		if err != nil {
			t.Fatal(err)
		}
		md := SpaceTable(cfg)
		if !strings.Contains(md, "learning rate | [0.0001, 0.01] (log scale)") || strings.Contains(md, "hidden layers") == (task == homework.TaskClassification) {
			t.Errorf("%s space:\n%s", task, md)
		}
	}
	m := homework.Model{Spec: nn.MLP([]int{216, 154}, nil, "relu"), Hyperparameters: nn.Hyperparameters{Epochs: 180, BatchSize: 10, LearningRate: 0.00137, Optimizer: "RMSprop"}}
	if md := ModelTable(m); !strings.Contains(md, "[216 154]") || !strings.Contains(md, "| learning rate | 0.00137 |") || strings.Contains(md, "momentum") {
		t.Errorf("model:\n%s", md)
	}
	acc := 0.9
	sum := &homework.Summary{Task: homework.TaskRegression, BestFold: 1, Metrics: map[string]float64{"ensemble_test_mse": 0.25},
		Folds: []homework.FoldSummary{{Fold: 0}, {Fold: 1, ValAccuracy: &acc}}, ActivationInputs: []float64{-1, 2.5}}
	if md := FoldsTable(sum); !strings.Contains(md, "| 1 (best) |") || !strings.Contains(md, "0.9000") {
		t.Errorf("folds:\n%s", md)
	}
	if md := MetricsTable(sum); !strings.Contains(md, "| ensemble test mse | 0.2500 |") {
		t.Errorf("metrics:\n%s", md)
	}
	res := Results(sum)
	if len(res) != len(RegressionResults)+3 || res[len(res)-2].Name != plot.ActivationsName(2.5) || res[len(res)-1].Name != plot.NameFit {
		t.Errorf("results %v", res)
	}
	train := &data.CSVDataset{Inputs: []float64{-1, 3}, Labels: []float64{0, math.Pi}}
	if md := RegressionDataTable(train, train); !strings.Contains(md, "| train | 2 | [-1.00, 3.00] | [0.00, 3.14] |") {
		t.Errorf("data:\n%s", md)
	}
}

func TestStudyTables(t *testing.T) {
	s, err := hpo.NewStudy()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.Ask()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.SuggestFloat("lr", 1e-4, 1e-2, hpo.Log()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tell(tr, 0.125, nil); err != nil {
		t.Fatal(err)
	}
	md, err := StudyTables(s)
	if err != nil || !strings.Contains(md, "| complete trials | 1 |") || !strings.Contains(md, "| best value | 0.125 (trial 0) |") || !strings.Contains(md, "| lr |") {
		t.Errorf("tables (%v):\n%s", err, md)
	}
	md, err = TrialsTable(s, 5)
	if err != nil || !strings.Contains(md, "| 0 | complete | 0.125 | lr=") {
		t.Errorf("trials (%v):\n%s", err, md)
	}
}
