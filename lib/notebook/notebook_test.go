package notebook

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/datatest"
	"github.com/dlworkbench/hw1/lib/backend"
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
		md := SpaceTable(cfg).Markdown()
		if !strings.Contains(md, "learning rate | [0.0001, 0.01] (log scale)") || strings.Contains(md, "hidden layers") == (task == homework.TaskClassification) {
			t.Errorf("%s space:\n%s", task, md)
		}
	}
	m := homework.Model{Spec: nn.MLP([]int{216, 154}, nil, "relu"), Hyperparameters: nn.Hyperparameters{Epochs: 180, BatchSize: 10, LearningRate: 0.00137, Optimizer: "RMSprop"}}
	if md := ModelTable(m).Markdown(); !strings.Contains(md, "[216 154]") || !strings.Contains(md, "| learning rate | 0.00137 |") || strings.Contains(md, "momentum") {
		t.Errorf("model:\n%s", md)
	}
	acc := 0.9
	sum := &homework.Summary{Task: homework.TaskRegression, BestFold: 1, Metrics: map[string]float64{"ensemble_test_mse": 0.25},
		Folds: []homework.FoldSummary{{Fold: 0}, {Fold: 1, ValAccuracy: &acc}}, ActivationInputs: []float64{-1, 2.5}}
	if md := FoldsTable(sum).Markdown(); !strings.Contains(md, "| 1 (best) |") || !strings.Contains(md, "0.9000") {
		t.Errorf("folds:\n%s", md)
	}
	sum.Folds[1].ValAccuracy = nil
	if md := FoldsTable(sum).Markdown(); strings.Contains(md, "acc") || !strings.HasPrefix(md, "| fold | epochs | val loss | test loss | seconds |\n") {
		t.Errorf("folds without accuracies:\n%s", md)
	}
	if md := MetricsTable(sum).Markdown(); !strings.Contains(md, "| ensemble test mse | 0.2500 |") {
		t.Errorf("metrics:\n%s", md)
	}
	res := Results(sum)
	if len(res) != len(RegressionResults)+3 || res[len(res)-2].Name != plot.ActivationsName(2.5) || res[len(res)-1].Name != plot.NameFit {
		t.Errorf("results %v", res)
	}
	train := &data.CSVDataset{Inputs: []float64{-1, 3}, Labels: []float64{0, math.Pi}}
	if md := RegressionDataTable(train, train).Markdown(); !strings.Contains(md, "| train | 2 | [-1.00, 3.00] | [0.00, 3.14] |") {
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
	tables, err := StudyTables(s)
	if err != nil {
		t.Fatal(err)
	}
	md := tables[0].Markdown() + tables[1].Markdown()
	if !strings.Contains(md, "| complete trials | 1 |") || !strings.Contains(md, "| best value | 0.125 (trial 0) |") || !strings.Contains(md, "| lr |") {
		t.Errorf("tables:\n%s", md)
	}
	trials, err := TrialsTable(s, 5)
	if md := trials.Markdown(); err != nil || !strings.Contains(md, "| 0 | complete | 0.125 | lr=") {
		t.Errorf("trials (%v):\n%s", err, md)
	}
}

// TestTableRendering: one table, two renderings. The markdown keeps a "|"
// of a cell inside it; the text aligns the columns, prints no header of
// empty cells and leaves no padding at the end of a line.
func TestTableRendering(t *testing.T) {
	tb := Table{Title: "Two runs:", Header: []string{"run", "value"}, Rows: [][]string{{"a|b", "1"}, {"longer name", "22"}}, Note: "Best: a|b."}
	if got, want := tb.Markdown(), "Two runs:\n\n| run | value |\n|---|---|\n| a\\|b | 1 |\n| longer name | 22 |\n\nBest: a|b.\n"; got != want {
		t.Errorf("markdown:\n%q\nwant\n%q", got, want)
	}
	if got, want := tb.Text(), "Two runs:\nrun          value\na|b          1\nlonger name  22\nBest: a|b.\n"; got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	kv := Table{Header: []string{"", ""}, Rows: [][]string{{"seconds", "1.5"}, {"storage", ""}}}
	var b bytes.Buffer
	if err := WriteText(&b, kv, kv); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "seconds  1.5\nstorage\n\nseconds  1.5\nstorage\n"; got != want {
		t.Errorf("two tables as text:\n%q\nwant\n%q", got, want)
	}
}

// spaces are the runs of spaces between two columns of a table's text.
var spaces = regexp.MustCompile(` {2,}`)

// TestSummaryTables: hw1's closing lines hold every number of the summary
// that it printed with its own code before: the trials by state, the best
// value, each fold's test loss and accuracy with the best fold marked, the
// metrics, the seconds, the graphs compiled, the storage and the results
// folder; and a worker's, the trials it ran.
func TestSummaryTables(t *testing.T) {
	best, acc0, acc1 := 0.8125, 0.75, 0.8
	sum := &homework.Summary{
		Task: homework.TaskClassification, Study: "c", Preset: "smoke", Backend: "go",
		StudyStats:   hpo.Stats{Finished: 3, Pruned: 1, Complete: 2, BestNumber: 2, BestValue: &best},
		Folds:        []homework.FoldSummary{{Fold: 0, TestLoss: 0.5, TestAccuracy: &acc0}, {Fold: 1, TestLoss: 0.25, TestAccuracy: &acc1}},
		BestFold:     1,
		Metrics:      map[string]float64{"vote_test_accuracy": 0.8125},
		Timings:      map[string]float64{"study_seconds": 1, "cv_seconds": 2.5},
		Compilations: map[string]nn.CompileStats{"study": {Graphs: 3, Seconds: 0.5}},
		Storage:      "postgresql://u@h/db",
		ResultsDir:   "/out/c_results",
	}
	var b bytes.Buffer
	if err := WriteText(&b, SummaryTables(sum)...); err != nil {
		t.Fatal(err)
	}
	// Columns are checked in TestTableRendering: here, the cells in order.
	text := spaces.ReplaceAllString(b.String(), " ")
	for _, want := range []string{
		`classification study "c" (preset smoke, backend go)` + "\n",
		"finished trials 3\n", "pruned trials 1\n", "complete trials 2\n", "failed trials 0\n",
		"best value 0.8125 (trial 2)\n",
		"\n0 0 0.0000 - 0.5000 0.7500 0.0\n",
		"\n1 (best) 0 0.0000 - 0.2500 0.8000 0.0\n",
		"vote test accuracy 0.8125\n",
		"seconds 3.5\n", "compiled study 3 graphs in 0.5 s\n", "storage postgresql://u@h/db\n", "results /out/c_results\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the summary lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	rep := &homework.WorkerReport{Task: homework.TaskRegression, Study: "s", Storage: "/j", Ran: []int{1, 4}, StudyStats: hpo.Stats{Finished: 5, Running: 1, BestNumber: -1}}
	if err := WriteText(&b, WorkerTables(rep)...); err != nil {
		t.Fatal(err)
	}
	text = spaces.ReplaceAllString(b.String(), " ")
	for _, want := range []string{`regression study "s" (worker)` + "\n", "running trials 1\n", "ran here 2: 1 4\n", "storage /j\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the worker's report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "best value") {
		t.Errorf("a best value without a complete trial:\n%s", text)
	}
}

// TestCellHelpers runs the regression's smoke preset through the helpers
// the notebooks' cells call, as the cells do, each step a fresh run: the
// set-up lines name the preset's budget and the folder; Reopen runs the
// study the first time and finds every trial the second, training none
// again; ShowSavedResults shows the summary WriteResults saved, every
// figure from its file.
func TestCellHelpers(t *testing.T) {
	datatest.NeedRegression(t)
	out := t.TempDir()
	t.Setenv("HW1_PRESET", "smoke")
	t.Setenv("HW1_OUT", out)
	t.Setenv("HW1_STORAGE", "")
	t.Setenv(backend.EnvVar, "")
	var shown bytes.Buffer
	old := Out
	Out = &shown
	defer func() { Out = old }()
	task := homework.TaskRegression
	cfg, err := homework.Preset(task, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Out = out

	if err := ShowSetup(task); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("preset \"smoke\": %d trials, %d folds; results in %s\nbackend: go", cfg.Trials, cfg.Folds, cfg.ResultsDir())
	if !strings.HasPrefix(shown.String(), want) {
		t.Errorf("set-up lines %q, want them to start with %q", shown.String(), want)
	}
	if err := ShowSavedResults(task); err == nil {
		t.Error("results shown before any were written")
	}

	first, st := reopenedTrials(t, task, nil)
	if done := st.Complete + st.Pruned; done != cfg.Trials {
		t.Fatalf("the first Reopen left %d complete or pruned trials, want the preset's %d", done, cfg.Trials)
	}
	var sum *homework.Summary
	second, _ := reopenedTrials(t, task, func(r *homework.Run) {
		if _, err := r.BuildOptModel(); err != nil {
			t.Fatal(err)
		}
		if err := r.RunCV(); err != nil {
			t.Fatal(err)
		}
		if sum, err = r.WriteResults(); err != nil {
			t.Fatal(err)
		}
	})
	if len(second) != len(first) {
		t.Fatalf("the second Reopen has %d trials, the first %d", len(second), len(first))
	}
	for i := range first {
		if a, b := first[i], second[i]; a.Number != b.Number || a.State != b.State || !a.DatetimeStart.Equal(b.DatetimeStart) {
			t.Errorf("trial %d: %d %s started %v, then %d %s started %v: trained again", i, a.Number, a.State, a.DatetimeStart, b.Number, b.State, b.DatetimeStart)
		}
	}

	shown.Reset()
	if err := ShowSavedResults(task); err != nil {
		t.Fatal(err)
	}
	text := shown.String()
	if !strings.Contains(text, "ensemble test mse") {
		t.Errorf("the saved results lack the metrics:\n%s", text)
	}
	for _, f := range Results(sum) {
		if !strings.Contains(text, f.Caption+": "+filepath.Join(sum.ResultsDir, f.Name)) {
			t.Errorf("the saved results do not show %s (%s):\n%s", f.Name, f.Caption, text)
		}
	}
}

// reopenedTrials opens the task's run with Reopen, then runs then (when
// not nil) on it, and returns the study's trials and numbers.
func reopenedTrials(t *testing.T, task string, then func(*homework.Run)) ([]hpo.FrozenTrial, hpo.Stats) {
	t.Helper()
	r, err := Reopen(task, homework.Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if then != nil {
		then(r)
	}
	trials, err := r.Study.Trials()
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Study.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return trials, st
}
