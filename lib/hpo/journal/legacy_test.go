package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
)

// testdata/legacy_v1.journal is a journal of hw1's first format, written by the journal code
// of commit 74b7604 (the test in testdata/legacy_v1_gen_test.go.txt, run in a copy of that
// commit: LEGACY_OUT=dir go test ./lib/hpo -run TestGenerateLegacyFixture), with
// legacy_v1.golden.json, its trials as that code read them back: seed 21, an enqueued trial,
// eight trials of legacyObjective (trial 3 failed with a reason, some pruned), and a second
// enqueued trial left WAITING.

// legacyObjective is the fixture's objective: hpotest.MixedObjective, except that trial 3 fails.
func legacyObjective(t *hpo.Trial) (float64, error) {
	if t.Number() == 3 {
		if _, err := t.SuggestCategorical("kind", []string{"a", "b"}); err != nil {
			return 0, err
		}
		return 0, errors.New("diverged at epoch 2")
	}
	return hpotest.MixedObjective(t)
}

var (
	legacyEnqueuedA = map[string]any{"kind": "a", "x": 0.5, "lr": 0.01, "units": 32}
	legacyEnqueuedB = map[string]any{"kind": "b", "x": -1.0, "lr": 0.1, "units": 8, "depth": 4}
)

type legacyGolden struct {
	Number          int
	State           hpo.TrialState
	Value           *float64
	Params          map[string]any
	Intermediate    map[int]float64
	SystemAttrs     map[string]float64
	FailReason      string
	Fixed           map[string]any
	Start, Complete string
}

// convertedFixture converts a copy of a first-format journal and returns its trials.
func convertedFixture(t *testing.T, data []byte) []hpo.FrozenTrial {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.journal")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	trials, err := j.Trials()
	if err != nil {
		t.Fatal(err)
	}
	return trials
}

// TestFirstFormatJournalIsConverted: a journal of hw1's first format is converted once, on
// open, with one message and a backup holding the original; the converted journal is in
// Optuna's format and holds the trials the first format's code read back (golden file).
func TestFirstFormatJournalIsConverted(t *testing.T) {
	warn := quietJournalWarnings(t)
	original, err := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	if err != nil {
		t.Fatal(err)
	}
	var golden []legacyGolden
	if data, err := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.golden.json")); err != nil || json.Unmarshal(data, &golden) != nil {
		t.Fatalf("golden file: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "study.journal")
	os.WriteFile(path, original, 0o644)
	j, err := Open(path, WithStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(warn.String(), "converted it to Optuna's JournalStorage format"); n != 1 {
		t.Fatalf("%d conversion messages, want 1:\n%s", n, warn)
	}
	backups, _ := filepath.Glob(path + ".bak-*")
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	if b, _ := os.ReadFile(backups[0]); !bytes.Equal(b, original) {
		t.Fatal("the backup does not hold the original journal")
	}
	if !strings.Contains(warn.String(), backups[0]) {
		t.Errorf("the message does not name the backup %s: %s", backups[0], warn)
	}
	f, _ := os.Open(path)
	format, _ := detectFormat(f)
	f.Close()
	if format != formatOptuna {
		t.Fatal("the converted journal is not in Optuna's format")
	}
	if j.StudyName() != "regression_smoke" {
		t.Fatalf("study %q, want the name the opener gave", j.StudyName())
	}
	trials, _ := j.Trials()
	if len(trials) != len(golden) {
		t.Fatalf("%d trials after the conversion, the first format held %d", len(trials), len(golden))
	}
	for i, g := range golden {
		tr := trials[i]
		value := math.NaN()
		if g.Value != nil {
			value = *g.Value
		}
		start, complete := "", ""
		if !tr.DatetimeStart.IsZero() {
			start = goldenTime(tr.DatetimeStart)
		}
		if !tr.DatetimeComplete.IsZero() {
			complete = goldenTime(tr.DatetimeComplete)
		}
		if g.State == hpo.Waiting {
			g.Start = "" // Optuna keeps no time for a WAITING trial
		}
		if tr.Number != g.Number || tr.State != g.State || !(tr.Value == value || math.IsNaN(tr.Value) && math.IsNaN(value)) ||
			fmt.Sprint(tr.ExternalParams()) != fmt.Sprint(g.Params) || !reflect.DeepEqual(tr.Intermediate, g.Intermediate) ||
			!reflect.DeepEqual(tr.SystemAttrs, g.SystemAttrs) || tr.FailReason != g.FailReason ||
			fmt.Sprint(tr.FixedParams) != fmt.Sprint(g.Fixed) || start != g.Start || complete != g.Complete {
			t.Errorf("trial %d after the conversion:\n%s %v %v %v %v %q %v %s %s\nthe first format:\n%s %v %v %v %v %q %v %s %s", i,
				tr.State, tr.Value, tr.ExternalParams(), tr.Intermediate, tr.SystemAttrs, tr.FailReason, tr.FixedParams, start, complete,
				g.State, value, g.Params, g.Intermediate, g.SystemAttrs, g.FailReason, g.Fixed, g.Start, g.Complete)
		}
	}
	// The seeded study goes on as the uninterrupted one (TestFirstFormatJournalGoesOn, with
	// lib/hpo/samplers' TPE, which wrote it).
	j.Close()
	j, err = Open(path, WithStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n := strings.Count(warn.String(), "converted it"); n != 1 {
		t.Fatalf("%d conversion messages after reopening, want 1 (converted once)", n)
	}
}

// goldenTime is the golden file's spelling of a time (UTC, microseconds, Z).
func goldenTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// TestFirstFormatConvertedOnceByConcurrentOpens: workers that open a first-format journal at
// once all open it; it is converted once.
func TestFirstFormatConvertedOnceByConcurrentOpens(t *testing.T) {
	warn := quietJournalWarnings(t)
	original, _ := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	path := filepath.Join(t.TempDir(), "study.journal")
	os.WriteFile(path, original, 0o644)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	counts := make([]int, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			j, err := Open(path)
			if err != nil {
				errs[i] = err
				return
			}
			defer j.Close()
			trials, err := j.Trials()
			counts[i], errs[i] = len(trials), err
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range counts {
		if n != 9 {
			t.Fatalf("opener %d sees %d trials, want 9", i, n)
		}
	}
	backups, _ := filepath.Glob(path + ".bak-*")
	if n := strings.Count(warn.String(), "converted it"); n != 1 || len(backups) != 1 {
		t.Fatalf("%d conversion messages and backups %v, want one of each", n, backups)
	}
}

// TestFirstFormatDeadWorkerFailedAfterConversion: a trial that a dead process of this host
// left RUNNING in a first-format journal is failed as "worker ... died" once converted.
func TestFirstFormatDeadWorkerFailedAfterConversion(t *testing.T) {
	quietJournalWarnings(t)
	original, _ := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` to get a dead pid from")
	}
	host, _ := os.Hostname()
	line := fmt.Sprintf(`{"op":"create","n":9,"worker":"%s:%d","id":"zz","t":"2026-01-02T03:04:05Z"}`+"\n", host, dead.Process.Pid)
	trials := convertedFixture(t, append(append([]byte{}, original...), line...))
	if len(trials) != 10 || trials[9].State != hpo.Failed || !strings.Contains(trials[9].FailReason, "died") {
		t.Fatalf("the dead worker's trial after the conversion: %d trials, %s %q", len(trials), trials[9].State, trials[9].FailReason)
	}
}

// TestWithDefaultStudy: WithDefaultStudy names the study of a new journal and of a
// converted one, and does not rename the one study a journal holds.
func TestJournalDefaultStudy(t *testing.T) {
	quietJournalWarnings(t)
	dir := t.TempDir()
	name := func(path string) string {
		t.Helper()
		j, err := Open(path, WithDefaultStudy("regression_smoke"))
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if _, err := hpo.NewStudy(hpo.WithStorage(j)); err != nil {
			t.Fatal(err)
		}
		return j.StudyName()
	}
	fresh := filepath.Join(dir, "fresh.journal")
	if got := name(fresh); got != "regression_smoke" {
		t.Errorf("a new journal's study: %q", got)
	}
	old := filepath.Join(dir, "old.journal")
	j, _ := Open(old)
	hpo.NewStudy(hpo.WithStorage(j))
	j.Close()
	if got := name(old); got != DefaultJournalStudy {
		t.Errorf("a journal holding study %q opened as %q", DefaultJournalStudy, got)
	}
	legacy := filepath.Join(dir, "legacy.journal")
	data, _ := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	os.WriteFile(legacy, data, 0o644)
	if got := name(legacy); got != "regression_smoke" {
		t.Errorf("a converted journal's study: %q", got)
	}
}
