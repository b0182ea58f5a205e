package homework

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/datatest"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/plot"
)

func smoke(t *testing.T, task, backendName string) Config {
	cfg, err := Preset(task, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Out = t.TempDir()
	cfg.Backend = backendName
	return cfg
}

func readSummary(t *testing.T, dir string) Summary {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return s
}

// checkFiles asserts every file of the results folder exists and is not empty.
func checkFiles(t *testing.T, dir string, names []string) {
	t.Helper()
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("results folder lacks %s", n)
		} else if fi.Size() == 0 {
			t.Errorf("%s is empty", n)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

var commonFiles = []string{FileStudyStats, FileStudyStatsJSON, FileBestParams, FileTrialsCSV, FileJournal, FileSummary, FileReport, FileConfig}

func figureFiles(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n+".png", n+".svg")
	}
	return out
}

var studyFigureNames = []string{plot.NameOptimizationHistory, plot.NameParamImportances, plot.NameContour, plot.NameSlice, plot.NameParallelCoordinate, plot.NameIntermediateValues}

func TestRegressionSmokeEndToEndAndResume(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	sum, err := Regression(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	dir := cfg.ResultsDir()
	files := append([]string{}, commonFiles...)
	files = append(files, figureFiles(studyFigureNames...)...)
	files = append(files, figureFiles(plot.NameDataBest, plot.NameDataMean, plot.NameModelPerformances, plot.NameLosses, plot.NameLossesForEachFold, plot.NameWeights)...)
	for _, h := range ActivationInputs {
		files = append(files, figureFiles(plot.ActivationsName(h))...)
	}
	files = append(files, plot.NameFit+".gif", "checkpoints/fold_00.ckpt", "checkpoints/fold_01.ckpt")
	checkFiles(t, dir, files)

	s := readSummary(t, dir)
	if s.StudyStats.Finished != cfg.Trials || len(s.Folds) != cfg.Folds {
		t.Errorf("summary: %d trials, %d folds; want %d, %d", s.StudyStats.Finished, len(s.Folds), cfg.Trials, cfg.Folds)
	}
	mse := s.Metrics["ensemble_test_mse"]
	if math.IsNaN(mse) || mse <= 0 || mse != sum.Metrics["ensemble_test_mse"] {
		t.Errorf("ensemble_test_mse %v (returned %v)", mse, sum.Metrics["ensemble_test_mse"])
	}
	report, _ := os.ReadFile(filepath.Join(dir, FileReport))
	for _, want := range []string{"ensemble_test_mse", "![", "data_best.png", "fit.gif", "finished trials"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// Rerunning the same study resumes it: no new trial for the same
	// budget, exactly the extra ones for a larger budget.
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if n := countTrials(t, dir); n != cfg.Trials {
		t.Errorf("rerun with the same budget: %d trials in the journal, want %d", n, cfg.Trials)
	}
	cfg.Trials += 2
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if n := countTrials(t, dir); n != cfg.Trials {
		t.Errorf("rerun with 2 more trials: %d trials in the journal, want %d", n, cfg.Trials)
	}
}

func countTrials(t *testing.T, dir string) int {
	t.Helper()
	st, err := journal.Open(filepath.Join(dir, FileJournal))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trials, err := st.Trials()
	if err != nil {
		t.Fatal(err)
	}
	return len(trials)
}

func TestClassificationSmokeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: trains LeNet5")
	}
	datatest.NeedFashionMNIST(t)
	// The default backend: XLA where the plugin is installed (CI), the
	// pure-Go one otherwise (slower).
	cfg := smoke(t, TaskClassification, "")
	sum, err := Classification(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	dir := cfg.ResultsDir()
	files := append([]string{}, commonFiles...)
	files = append(files, figureFiles(plot.NameOptimizationHistory, plot.NameSlice, plot.NameIntermediateValues)...)
	files = append(files, figureFiles(plot.NameModelPerformances, plot.NameConfusionBest, plot.NameConfusionVote, plot.NameLosses, plot.NameAccuracies,
		plot.NameWeights, plot.NameFiltersConv1, plot.NameFiltersConv2, plot.NameFeatureMapsConv1, plot.NameFeatureMapsConv2, plot.NameSamples)...)
	files = append(files, "checkpoints/fold_00.ckpt", "checkpoints/fold_01.ckpt")
	checkFiles(t, dir, files)
	acc := sum.Metrics["vote_test_accuracy"]
	// One epoch on 1,000 images: better than chance (0.1), far from good.
	if !(acc > 0.12 && acc <= 1) {
		t.Errorf("vote_test_accuracy %v: not better than chance", acc)
	}
	if s := readSummary(t, dir); s.StudyStats.Finished != cfg.Trials || len(s.Folds) != cfg.Folds {
		t.Errorf("summary: %d trials, %d folds", s.StudyStats.Finished, len(s.Folds))
	}
}

func TestBadConfigRefusedBeforeWork(t *testing.T) {
	cfg := smoke(t, TaskRegression, "go")
	cfg.Folds = 1
	if _, err := Regression(cfg, Options{Log: io.Discard}); err == nil || !strings.HasPrefix(err.Error(), "folds:") {
		t.Fatalf("k=1: %v", err)
	}
	if _, err := os.Stat(cfg.ResultsDir()); !os.IsNotExist(err) {
		t.Errorf("a refused configuration created %s", cfg.ResultsDir())
	}
}

func TestBuildOptModelReadsBestParams(t *testing.T) {
	cfg, _ := Preset(TaskRegression, "seed")
	best := map[string]any{
		ParamNLayers: 2, "n_units_l0": 216, "n_units_l1": 154, ParamBatchSize: 10, ParamEpochs: 180,
		ParamLearningRate: 0.00137, ParamWeightDecay: 7.5e-5, ParamOptimizer: "RMSprop",
	}
	m, err := BuildOptModel(TaskRegression, cfg.Space, best)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Spec.Hidden) != 2 || m.Spec.Hidden[0] != 216 || m.Spec.Hidden[1] != 154 {
		t.Errorf("hidden %v", m.Spec.Hidden)
	}
	h := m.Hyperparameters
	if h.BatchSize != 10 || h.Epochs != 180 || h.LearningRate != 0.00137 || h.Optimizer != "RMSprop" || h.Momentum != 0 {
		t.Errorf("hyperparameters %+v", h)
	}
	delete(best, "n_units_l1")
	if _, err := BuildOptModel(TaskRegression, cfg.Space, best); err == nil || !strings.Contains(err.Error(), "n_units_l1") {
		t.Errorf("missing parameter: %v", err)
	}
}
