package homework

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/datatest"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/nn"
)

// snapshot maps every file of a results folder but the study's own (the
// journal, which grows with every trial, study.json, and study_timings.json,
// which adds up the time of every run of the study) to its checksum.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == FileJournal || rel == FileStudy || rel == FileStudyTimings {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for name, sum := range before {
		if after[name] != sum {
			t.Errorf("%s: %s changed or removed", what, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: %s appeared", what, name)
		}
	}
}

func journalTrials(t *testing.T, dir string) []hpo.FrozenTrial {
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
	return trials
}

func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// TestRefusedResumeLeavesEverythingAsItWas: a resume that cannot go on
// (another seed, another space, more folds than points) is refused before
// any trial, naming the field, and neither the results nor the journal
// change. Before, config.json was rewritten at once and the trials ran.
func TestRefusedResumeLeavesEverythingAsItWas(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	dir := cfg.ResultsDir()
	before := snapshot(t, dir)
	trials := len(journalTrials(t, dir))
	studyTime, err := os.ReadFile(filepath.Join(dir, FileStudyTimings))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*Config)
	}{
		{"seed", "seed", func(c *Config) { c.Seed = 7 }},
		{"epochs range", "space.epochs", func(c *Config) { c.Space.Epochs.High = 20 }},
		{"one optimizer, another", "space.momentum", func(c *Config) { c.Space.Optimizers = []string{"SGD"} }},
		{"fixed activation", "space.activation", func(c *Config) { c.Space.Activation = "tanh" }},
		{"folds over the points", "folds", func(c *Config) { c.Folds = 101 }},
	} {
		c := cfg
		c.Space.Optimizers = slices.Clone(cfg.Space.Optimizers)
		c.Trials += 2
		tc.edit(&c)
		_, err := Regression(c, Options{Log: io.Discard})
		if got := fieldOf(err); got != tc.field {
			t.Errorf("%s: error %v names field %q, want %q", tc.name, err, got, tc.field)
		}
		if n := len(journalTrials(t, dir)); n != trials {
			t.Errorf("%s: %d trials in the journal after the refusal, want %d", tc.name, n, trials)
		}
		sameSnapshot(t, tc.name, before, snapshot(t, dir))
		if now, _ := os.ReadFile(filepath.Join(dir, FileStudyTimings)); !bytes.Equal(now, studyTime) {
			t.Errorf("%s: the refused run changed %s", tc.name, FileStudyTimings)
		}
	}
}

func TestFoldsOverThePointsRefusedBeforeTheFolderExists(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	cfg.Folds = 101
	_, err := NewRegression(cfg, Options{Log: io.Discard})
	if fieldOf(err) != "folds" || !strings.Contains(err.Error(), "100 training points") {
		t.Fatalf("101 folds of 100 points: %v", err)
	}
	if _, err := os.Stat(cfg.ResultsDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused run created %s", cfg.ResultsDir())
	}
}

// TestFailedRunLeavesTheResultsAsTheyWere: a run that fails after its study
// (here in the cross-validation) keeps the trials it ran in the journal but
// replaces none of the results. Before, config.json and the study's files
// were rewritten and disagreed with summary.json.
func TestFailedRunLeavesTheResultsAsTheyWere(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	dir := cfg.ResultsDir()
	before := snapshot(t, dir)
	cfg.Trials += 2
	failing := func(int) []nn.Callback {
		return []nn.Callback{func(*nn.Model, nn.EpochStats) error { return errors.New("injected failure") }}
	}
	if _, err := Regression(cfg, Options{Log: io.Discard, FoldCallbacks: failing}); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("run with a failing fold: %v", err)
	}
	if n := len(journalTrials(t, dir)); n != cfg.Trials {
		t.Errorf("%d trials in the journal, want %d (the study's trials are kept)", n, cfg.Trials)
	}
	sameSnapshot(t, "failed run", before, snapshot(t, dir))
}

// TestRerunReplacesTheOutputsAsOneUnit: a 2-fold rerun after a 3-fold run
// leaves no third checkpoint, no figure and no temporary file of earlier
// runs, and no dead stage; a file of the user's stays.
func TestRerunReplacesTheOutputsAsOneUnit(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	cfg.Folds = 3
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	dir := cfg.ResultsDir()
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "fold_02.ckpt")); err != nil {
		t.Fatal(err)
	}
	planted := map[string]bool{ // name: kept
		"old_figure.png":                  false,
		"old_figure.svg":                  false,
		".summary.json.tmp-123":           false,
		"checkpoints/.fold_00.ckpt.tmp-9": false,
		".staging-dead/summary.json":      false,
		"notes.txt":                       true,
	}
	for name := range planted {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Folds = 2
	sum, err := Regression(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for name, kept := range planted {
		_, err := os.Stat(filepath.Join(dir, name))
		if exists := err == nil; exists != kept {
			t.Errorf("%s: exists %v after the rerun, want %v", name, exists, kept)
		}
	}
	checkConsistent(t, dir, sum)
}

// checkConsistent asserts that the results folder holds exactly the outputs
// that its summary.json lists, and nothing hidden.
func checkConsistent(t *testing.T, dir string, sum *Summary) {
	t.Helper()
	want := map[string]bool{FileConfig: true, FileSummary: true, FileReport: true, FileStudyStats: true,
		FileStudyStatsJSON: true, FileBestParams: true, FileTrialsCSV: true}
	for _, f := range append(slices.Clone(sum.Figures), sum.Checkpoints...) {
		want[f] = true
	}
	got := map[string]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") {
				t.Errorf("hidden folder %s left", rel)
			}
			return nil
		}
		if runOutput(rel) {
			got[rel] = true
		} else if strings.HasPrefix(d.Name(), ".") {
			t.Errorf("hidden file %s left", rel)
		}
		return nil
	})
	for f := range want {
		if !got[f] {
			t.Errorf("summary.json lists %s, the folder lacks it", f)
		}
	}
	for f := range got {
		if !want[f] {
			t.Errorf("%s is not an output of the run summary.json describes", f)
		}
	}
}

// stagedRun makes a results folder holding the outputs of an "old" run and
// a sealed stage of a "new" one.
func stagedRun(t *testing.T) (*results, *stage) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "s_results")
	res, err := openResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileSummary, "old.png", "checkpoints/fold_02.ckpt", FileJournal} {
		p := res.path(name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := res.stage()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileSummary, FileConfig, "new.png", "checkpoints/fold_00.ckpt"} {
		if err := st.write(name, []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.seal(); err != nil {
		t.Fatal(err)
	}
	return res, st
}

func checkNewRun(t *testing.T, res *results) {
	t.Helper()
	for name, want := range map[string]string{FileSummary: "new", FileConfig: "new", "new.png": "new",
		"checkpoints/fold_00.ckpt": "new", FileJournal: "old", "old.png": "", "checkpoints/fold_02.ckpt": ""} {
		raw, err := os.ReadFile(res.path(name))
		if string(raw) != want || (want == "" && err == nil) {
			t.Errorf("%s: %q (%v), want %q", name, raw, err, want)
		}
	}
	if entries, _ := filepath.Glob(res.path(".*")); len(entries) > 0 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestCommitCutShortIsFinished: a crash after the stage became .commit, with
// half of its files moved, is finished by the next opening of the folder.
func TestCommitCutShortIsFinished(t *testing.T) {
	res, st := stagedRun(t)
	st.lock.Close() // the process dies: its lock goes
	if err := os.Rename(st.dir, res.path(commitDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(res.path(commitDir), FileSummary), res.path(FileSummary)); err != nil {
		t.Fatal(err)
	}
	if _, err := openResults(res.dir); err != nil {
		t.Fatal(err)
	}
	checkNewRun(t, res)
}

// TestStageOfALiveRunIsKept: opening the folder (another process on the
// same study) leaves a live stage alone and removes a dead one; the stage
// then commits.
func TestStageOfALiveRunIsKept(t *testing.T) {
	res, st := stagedRun(t)
	dead := res.path(stagingPrefix + "dead")
	if err := os.MkdirAll(dead, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := openResults(res.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.dir); err != nil {
		t.Fatalf("the live stage was removed: %v", err)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Error("the dead stage was kept")
	}
	if err := st.commit(); err != nil {
		t.Fatal(err)
	}
	checkNewRun(t, res)
}

// TestTimeoutStopsTheRunningTrial: 10^5 epochs and a 1 s timeout; before,
// the trial ran them all (minutes), the timeout only kept the next trial
// from starting.
func TestTimeoutStopsTheRunningTrial(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	cfg.Space.Epochs = IntRange{Low: nn.MaxEpochs, High: nn.MaxEpochs}
	cfg.Trials, cfg.TimeoutSeconds = 3, 1
	r, err := NewRegression(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.RunStudy(); err == nil || !strings.Contains(err.Error(), "timeout_seconds") {
		t.Fatalf("RunStudy: %v", err)
	}
	trials := journalTrials(t, cfg.ResultsDir())
	if len(trials) != 1 {
		t.Fatalf("%d trials, want 1 (the timeout is past once it stops)", len(trials))
	}
	tr := trials[0]
	if tr.State != hpo.Failed || !strings.HasPrefix(tr.FailReason, "interrupted by the study's timeout") || len(tr.Intermediate) >= nn.MaxEpochs {
		t.Errorf("trial 0: %s %q after %d epochs", tr.State, tr.FailReason, len(tr.Intermediate))
	}
}

// TestInterruptedStudyRecordsTheRunningTrial: cancelling Options.Context
// while a trial trains fails that trial with reason "interrupted...", starts
// no other, and returns ErrInterrupted.
func TestInterruptedStudyRecordsTheRunningTrial(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	cfg.Space.Epochs = IntRange{Low: nn.MaxEpochs, High: nn.MaxEpochs}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := NewRegression(cfg, Options{Log: io.Discard, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		// Cancel once trial 0 has reported an epoch to the journal.
		for ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			st, err := journal.Open(filepath.Join(cfg.ResultsDir(), FileJournal))
			if err != nil {
				continue
			}
			if tr, err := st.Trial(0); err == nil && len(tr.Intermediate) > 0 {
				cancel()
			}
			st.Close()
		}
	}()
	err = r.RunStudy()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("RunStudy: %v", err)
	}
	trials := journalTrials(t, cfg.ResultsDir())
	if len(trials) != 1 {
		t.Fatalf("%d trials after the interrupt, want 1", len(trials))
	}
	if tr := trials[0]; tr.State != hpo.Failed || !strings.HasPrefix(tr.FailReason, "interrupted") {
		t.Errorf("trial 0: %s %q", tr.State, tr.FailReason)
	}
	if _, err := os.Stat(filepath.Join(cfg.ResultsDir(), FileSummary)); err == nil {
		t.Error("an interrupted run wrote summary.json")
	}
}

func TestConfigBoundsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"timeout_seconds", func(c *Config) { c.TimeoutSeconds = math.NaN() }},
		{"timeout_seconds", func(c *Config) { c.TimeoutSeconds = math.Inf(1) }},
		{"timeout_seconds", func(c *Config) { c.TimeoutSeconds = -1 }},
		{"space.learning_rate", func(c *Config) { c.Space.LearningRate.High = math.NaN() }},
		{"space.dropout", func(c *Config) { c.Space.Dropout.Low = math.Inf(-1) }},
		{"space.epochs", func(c *Config) { c.Space.Epochs.High = 1_000_000_000_000 }},
		{"cv_epochs", func(c *Config) { c.CVEpochs = nn.MaxEpochs + 1 }},
		{"space.n_units", func(c *Config) { c.Space.NUnits = IntRange{Low: 100_000_000, High: 100_000_000} }},
		{"space.n_layers", func(c *Config) { c.Space.NLayers.High = 1_000_000_000 }},
	} {
		cfg, _ := Preset(TaskRegression, "smoke")
		tc.edit(&cfg)
		err := cfg.Validate()
		if fieldOf(err) != tc.field {
			t.Errorf("want field %s: %v", tc.field, err)
		}
	}
}

func TestConfigFileHoldsOneObject(t *testing.T) {
	cfg, _ := Preset(TaskRegression, "smoke")
	path := filepath.Join(t.TempDir(), "over.json")
	for body, want := range map[string]string{
		"{\"trials\": 3}\n{\"trials\": 5}\n": "line 2: a second JSON value",
		"{\"trials\": 3}\n\n  7":             "line 3: a second JSON value",
		"{\"trials\": 3}   ":                 "",
		"{\n\"trials\": 3,\n}":               "line 3: invalid character",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := LoadOverrides(&cfg, path)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", body, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), path+" "+want)):
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

// TestInterruptRecordsTheRunningTrialAtOnce: Interrupt (a second Ctrl-C,
// just before the process exits) records the trial as interrupted while its
// training still runs, so no trial is left RUNNING.
func TestInterruptRecordsTheRunningTrialAtOnce(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	cfg.Space.Epochs = IntRange{Low: nn.MaxEpochs, High: nn.MaxEpochs}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := NewRegression(cfg, Options{Log: io.Discard, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan error)
	go func() { done <- r.RunStudy() }()
	path := filepath.Join(cfg.ResultsDir(), FileJournal)
	trial0 := func() hpo.FrozenTrial {
		st, err := journal.Open(path)
		if err != nil {
			return hpo.FrozenTrial{}
		}
		defer st.Close()
		tr, _ := st.Trial(0)
		return tr
	}
	for deadline := time.Now().Add(30 * time.Second); len(trial0().Intermediate) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("trial 0 did not start training within 30 s")
		}
	}
	if err := r.Interrupt(); err != nil {
		t.Fatal(err)
	}
	if tr := trial0(); tr.State != hpo.Failed || !strings.HasPrefix(tr.FailReason, hpo.ReasonInterrupted) {
		t.Errorf("trial 0 after Interrupt: %s %q", tr.State, tr.FailReason)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("RunStudy after Interrupt: no error")
	}
}
