package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quick mode's contract with `make bench-quick`: the output ends with
// exactly the three ratio lines, each the median project time over the
// median PyTorch time.
func TestQuickTableEndsWithTheRatioLines(t *testing.T) {
	lines := `{"bench":"lenet5","side":"pytorch","batch":64,"train_epoch_s":[10],"train_images":60000,"load_avg_1m":1}
{"bench":"lenet5","side":"pytorch","batch":64,"train_epoch_s":[30],"train_images":60000,"load_avg_1m":1}
{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[8],"extrapolated_from_steps":300}
{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[12]}
{"bench":"lenet5","side":"project","backend":"go","batch":64,"train_epoch_s":[100]}
{"bench":"regression_cv","side":"pytorch","seconds":9}
not json: ignored
{"bench":"regression_cv","side":"project","backend":"xla","seconds":4.5}
`
	out := runTable(t, lines, "--quick")
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{"lenet5_epoch_ratio_xla=0.50", "lenet5_epoch_ratio_go=5.00", "regression_cv_ratio_xla=0.50"}
	if len(got) < 3 || strings.Join(got[len(got)-3:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("last lines:\n%s\nwant:\n%s", strings.Join(got[max(0, len(got)-3):], "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(out, "(extrapolated from 300 steps)") {
		t.Errorf("an extrapolated epoch is not marked:\n%s", out)
	}
}

// A missing side gives NA, never a made-up ratio.
func TestQuickTableSaysNAWhenASideIsMissing(t *testing.T) {
	out := runTable(t, `{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[8]}`+"\n", "--quick")
	for _, l := range []string{"lenet5_epoch_ratio_xla=NA", "lenet5_epoch_ratio_go=NA", "regression_cv_ratio_xla=NA"} {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("missing %q in:\n%s", l, out)
		}
	}
}

func TestBadLineIsAnErrorNamingTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"bench\":1}\n{broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := tableMain([]string{path})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func runTable(t *testing.T, jsonl string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(path, []byte(jsonl), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	runErr := tableMain(append(args, path))
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if runErr != nil {
		t.Fatal(runErr)
	}
	return string(out)
}

// The noisy rule: a run is noisy when the 1-minute load at its start
// exceeded half its cores; lines without the start load fall back on the
// load at their end, and a run that cannot be checked is noisy.
func TestNoisyRun(t *testing.T) {
	for _, c := range []struct {
		line  string
		noisy bool
	}{
		{`{"load_avg_1m_start":1.01,"cores":2,"load_avg_1m":0.1}`, true},
		{`{"load_avg_1m_start":1.0,"cores":2,"load_avg_1m":5}`, false}, // exactly half: not exceeded; the end load does not count
		{`{"load_avg_1m_start":0.2,"cores":16}`, false},
		{`{"load_avg_1m_start":8.5,"cores":16}`, true},
		{`{"load_avg_1m":0.5,"cpus":2}`, false},      // an older PyTorch line: end load, os.cpu_count()
		{`{"load_avg_1m":1.5,"gomaxprocs":2}`, true}, // an older project line
		{`{"load_avg_1m_start":0.1}`, true},          // no core count
		{`{"cores":2}`, true},                        // no load
		{`{"load_avg_1m_start":-1,"cores":2}`, true}, // /proc/loadavg unreadable
	} {
		var l map[string]any
		if err := json.Unmarshal([]byte(c.line), &l); err != nil {
			t.Fatal(err)
		}
		if got := noisyRun(l); got != c.noisy {
			t.Errorf("noisyRun(%s) = %v, want %v", c.line, got, c.noisy)
		}
	}
}

// A verdict reads "noisy" when any run of its line, on either side, started
// above half the cores; the others keep yes / no.
func TestNoisyVerdicts(t *testing.T) {
	quiet := `"load_avg_1m_start":0.3,"cores":2,"load_avg_1m":1.9`
	loaded := `"load_avg_1m_start":1.7,"cores":2,"load_avg_1m":2.5`
	lines := `{"bench":"regression_cv","side":"pytorch","seconds":10,"cpu_s":12,` + quiet + `}
{"bench":"regression_cv","side":"pytorch","seconds":11,"cpu_s":12,` + loaded + `}
{"bench":"regression_cv","side":"project","backend":"xla","seconds":5,"cpu_s":6,` + quiet + `}
{"bench":"regression_cv","side":"project","backend":"go","seconds":20,"cpu_s":30,` + quiet + `}
{"bench":"lenet5","side":"pytorch","batch":64,"train_epoch_s":[10],"train_epoch_cpu_s":[18],"train_images":60000,` + quiet + `}
{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[8],"train_epoch_cpu_s":[30],` + quiet + `}
{"bench":"lenet5","side":"project","backend":"go","batch":64,"train_epoch_s":[50],"train_epoch_cpu_s":[80],` + loaded + `}
`
	out := runTable(t, lines, "--quick")
	row := func(key, quantity, be string) []string {
		for _, l := range strings.Split(out, "\n") {
			cells := strings.Split(l, " | ")
			if len(cells) > 8 && strings.TrimPrefix(cells[0], "| ") == key && cells[1] == quantity && cells[2] == be {
				return cells
			}
		}
		t.Fatalf("no row %s / %s / %s in:\n%s", key, quantity, be, out)
		return nil
	}
	for _, c := range []struct{ key, quantity, be, met string }{
		{"regression_cv", "5-fold CV x 180 epochs, wall s", "xla", "noisy"}, // PyTorch's second run was loaded
		{"regression_cv", "5-fold CV x 180 epochs, wall s", "go", "noisy"},
		{"lenet5 b64", "train epoch 60k, wall s", "xla", "yes"},
		{"lenet5 b64", "train epoch 60k, CPU s", "xla", "**no**"}, // 30/18 > 1.2
		{"lenet5 b64", "train epoch 60k, wall s", "go", "noisy"},  // 5.0 > 3, but its run was loaded
	} {
		if got := row(c.key, c.quantity, c.be)[7]; got != c.met {
			t.Errorf("%s / %s / %s: met %q, want %q", c.key, c.quantity, c.be, got, c.met)
		}
	}
	if got := row("lenet5 b64", "train epoch 60k, wall s", "go")[9]; got != "1.7 (2.2) |" {
		t.Errorf("load column %q, want the highest load at a start and the median at the ends", got)
	}
	// The quick lines stay exactly as they are, last; the noisy ones are
	// announced on lines of their own before them.
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{
		"noisy: lenet5_epoch_ratio_go: 1 of 2 runs started above half the cores (highest 1-minute load at a start 1.70, 2 cores)",
		"noisy: regression_cv_ratio_xla: 1 of 3 runs started above half the cores (highest 1-minute load at a start 1.70, 2 cores)",
		"lenet5_epoch_ratio_xla=0.80", "lenet5_epoch_ratio_go=5.00", "regression_cv_ratio_xla=0.48",
	}
	if len(got) < len(want) || strings.Join(got[len(got)-len(want):], "\n") != strings.Join(want, "\n") {
		t.Fatalf("last lines:\n%s\nwant:\n%s", strings.Join(got[max(0, len(got)-len(want)):], "\n"), strings.Join(want, "\n"))
	}
}

// The study items end the table with their ratio lines in any mode, when
// they ran, on the backends they ran on; the quick lines stay last.
func TestStudyRatioLines(t *testing.T) {
	quiet := `"load_avg_1m_start":0.3,"cores":2`
	lines := `{"bench":"regression_study","side":"pytorch","trials":50,"seconds":100,` + quiet + `}
{"bench":"regression_study","side":"project","backend":"xla","trials":50,"seconds":50,"compile_graphs":12,"compile_s":3.5,` + quiet + `}
{"bench":"classification_study","side":"pytorch","trials":2,"seconds":40,` + quiet + `}
{"bench":"classification_study","side":"project","backend":"xla","trials":2,"seconds":30,` + quiet + `}
{"bench":"classification_study","side":"project","backend":"go","trials":2,"seconds":120,` + quiet + `}
`
	out := runTable(t, lines)
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{"regression_study_ratio_xla=0.50", "classification_study_ratio_xla=0.75", "classification_study_ratio_go=3.00"}
	if strings.Join(got[len(got)-3:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("last lines:\n%s\nwant:\n%s", strings.Join(got[len(got)-3:], "\n"), strings.Join(want, "\n"))
	}
	for _, s := range []string{"| 2-trial study 10k/5k, wall s | go |", "| 50-trial study, wall s | xla |", "| graphs compiled | xla | 12 |"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	if strings.Contains(out, "regression_study_ratio_go") {
		t.Errorf("a ratio line for a backend that did not run:\n%s", out)
	}
	quick := strings.Split(strings.TrimRight(runTable(t, lines, "--quick"), "\n"), "\n")
	if strings.Join(quick[len(quick)-4:], "\n") != "classification_study_ratio_go=3.00\nlenet5_epoch_ratio_xla=NA\nlenet5_epoch_ratio_go=NA\nregression_cv_ratio_xla=NA" {
		t.Errorf("quick mode does not end with its three lines:\n%s", strings.Join(quick[len(quick)-4:], "\n"))
	}
}

// The homework item has its own section, with the trial counts of the run in
// its names and the cut sizes of a smoke run said.
func TestHomeworkSection(t *testing.T) {
	lines := `{"bench":"homework","side":"pytorch","regression_trials":2,"regression_study_s":4,"seed_total_h":3,"max_epochs":1,"load_avg_1m_start":0.1,"cores":2}
{"bench":"homework","side":"project","backend":"xla","regression_trials":2,"regression_study_s":2,"seed_total_h":1.5,"max_epochs":1,"load_avg_1m_start":0.1,"cores":2}
`
	out := runTable(t, lines)
	if !strings.HasPrefix(out, "The homework under the seed preset") {
		t.Errorf("the homework section alone should start the output, without an empty main table:\n%s", out)
	}
	for _, s := range []string{"epochs capped at 1", "| homework | regression: first 2 trials, wall s | xla | 2 | 4 | 0.50 |", "| whole homework extrapolated, wall h | xla | 1.50 | 3 | 0.50 |"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
}

// The homework on the default backends is its own side, with the target of
// the issue (the extrapolated run no slower than PyTorch's) and a ratio line;
// a cut of the classification alone is said.
func TestHomeworkDefaultBackends(t *testing.T) {
	lines := `{"bench":"homework","side":"pytorch","seed_total_s":3600,"seed_total_h":1,"classification_max_epochs":30,"load_avg_1m_start":0.1,"cores":2}
{"bench":"homework","side":"project","backend":"default","seed_total_s":2700,"seed_total_h":0.75,"classification_max_epochs":30,"load_avg_1m_start":0.1,"cores":2}
`
	out := runTable(t, lines)
	for _, s := range []string{"classification epochs capped at 30", "| whole homework extrapolated, wall h | default | 0.75 | 1 | 0.75 | <= 1 | yes |", "homework_ratio_default=0.75"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
}

// A study item run over several seeds sums, per side, the per-seed medians
// over runs of the seeds every side ran; the ratio line is the ratio of the
// sums, each seed has its own line, and a seed that one side lacks counts on
// no side.
func TestSeededStudies(t *testing.T) {
	quiet := `"load_avg_1m_start":0.3,"cores":2,"trials":50`
	line := func(side, backend string, seed int, seconds, epochs float64) string {
		b, _ := json.Marshal(map[string]any{"bench": "regression_study", "side": side, "backend": backend, "seed": seed, "seconds": seconds, "epochs_run": epochs})
		return strings.TrimSuffix(string(b), "}") + "," + quiet + "}\n"
	}
	lines := line("pytorch", "", 0, 10, 1000) + line("pytorch", "", 0, 30, 1000) + // seed 0: median 20
		line("project", "xla", 0, 30, 2000) +
		line("pytorch", "", 1, 40, 3000) + line("project", "xla", 1, 10, 3000) +
		line("pytorch", "", 2, 99, 9999) // seed 2: PyTorch only, left out
	out := runTable(t, lines)
	if !strings.HasSuffix(out, "regression_study_ratio_xla=0.67\n") { // (30+10)/(20+40)
		t.Errorf("the ratio is not that of the sums over seeds 0 and 1:\n%s", out)
	}
	for _, s := range []string{
		"| 50-trial study x 2 seeds (sum), wall s | xla | 40 | 60 | 0.67 |",
		"| epochs trained (all trials) | xla | 5000 | 4000 |",
		"| wall ms per epoch trained | xla | 8 | 15 | 0.53 |",
		"| 2/3 |",
		"| regression_study | 0 | xla | 30 (2000) | 20 (1000) | 1.50 |",
		"| regression_study | 1 | xla | 10 (3000) | 40 (3000) | 0.25 |",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	if strings.Contains(out, "| regression_study | 2 |") {
		t.Errorf("seed 2, which the project did not run, has a line:\n%s", out)
	}
}
