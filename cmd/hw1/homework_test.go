package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/nn"
)

// TestStudySecondsAddUpAcrossProcesses: two processes of hw1 on one results
// folder, the second resuming the first's study with more trials. Without
// --backend the regression runs on the pure-Go backend and says why; each
// logs the graphs its study and cross-validation compiled; the second's
// summary.json reports the seconds of both runs of the study and the
// padding of its --config.
func TestStudySecondsAddUpAcrossProcesses(t *testing.T) {
	bin := hw1Binary(t)
	data := regressionDataDir(t)
	t.Setenv(backend.EnvVar, "")
	out := t.TempDir()
	args := []string{"regression", "--preset", "smoke", "--quiet", "--out", out}
	p := start(t, bin, data, args...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, p.stderr.String())
	}
	log := p.stderr.String()
	for _, want := range []string{
		"backend: go (pure Go): the default for the regression task",
		`study "regression_smoke": done in `,
		"cross-validation: done in ",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the first run's log lacks %q:\n%s", want, log)
		}
	}
	if strings.Count(log, ", compiled ") != 2 {
		t.Errorf("want one line of compiled graphs for the study and one for the CV:\n%s", log)
	}
	dir := filepath.Join(out, "regression_smoke_results")
	first := summaryOf(t, dir)
	// The closing lines (lib/notebook's tables) say what summary.json says.
	printed := regexp.MustCompile(` {2,}`).ReplaceAllString(p.stdout.String(), " ")
	st := first.StudyStats
	for _, want := range []string{
		`regression study "regression_smoke" (preset smoke, backend go)`,
		fmt.Sprintf("\nfinished trials %d\npruned trials %d\ncomplete trials %d\nfailed trials %d\n", st.Finished, st.Pruned, st.Complete, st.Failed),
		fmt.Sprintf("\nbest value %.4g (trial %d)\n", *st.BestValue, st.BestNumber),
		fmt.Sprintf("\n%d (best) ", first.BestFold),
		fmt.Sprintf("\nensemble test mse %.4f\n", first.Metrics["ensemble_test_mse"]),
		"\nresults " + first.ResultsDir + "\n",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("the first run's summary lacks %q:\n%s", want, p.stdout.String())
		}
	}
	if folds := strings.Count(printed, " (best) "); folds != 1 || len(first.Folds) != 2 {
		t.Errorf("%d folds in summary.json, %d marked best in:\n%s", len(first.Folds), folds, p.stdout.String())
	}

	cfg := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(cfg, []byte(`{"padding": {"batch_bits": 2, "width_bits": 1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p = start(t, bin, data, append(args, "--trials", "6", "--config", cfg)...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), " s over 2 runs), compiled ") {
		t.Errorf("the second run's log does not add up the study's runs:\n%s", p.stderr.String())
	}
	second := summaryOf(t, dir)
	if first.StudyRuns != 1 || second.StudyRuns != 2 {
		t.Errorf("study_runs %d then %d, want 1 then 2", first.StudyRuns, second.StudyRuns)
	}
	if s1, s2 := first.Timings["study_seconds"], second.Timings["study_seconds"]; !(s1 > 0 && s2 > s1) {
		t.Errorf("study_seconds %v then %v: the second does not add its run to the first's", s1, s2)
	}
	if c1, c2 := first.Compilations["study"], second.Compilations["study"]; c2.Graphs < c1.Graphs || c1.Graphs == 0 {
		t.Errorf("the study's compilations %+v then %+v", c1, c2)
	}
	if want := (homework.PaddingRecord{Setting: "buckets", Padding: nn.Padding{BatchBits: 2, WidthBits: 1}}); second.Padding != want {
		t.Errorf("padding %+v, want %+v", second.Padding, want)
	}
	if first.Padding.Setting != "auto" || first.Backend != "go" {
		t.Errorf("first run: padding %+v, backend %s", first.Padding, first.Backend)
	}
}

func summaryOf(t *testing.T, dir string) homework.Summary {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, homework.FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	var s homework.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}
