package main

// One study shared by several hw1 processes through --storage, as on several machines: each
// process has its own results folder, and they meet only in the storage (a PostgreSQL
// database, or a journal file). The README's "One study, many machines" is what these tests
// run: processes without --worker each write the results, a --worker only runs trials.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/hpo/pgstorage"
)

// requireOptunaEnv turns a missing Optuna into a failure (the Makefile's unit tests set it).
const requireOptunaEnv = "HW1_REQUIRE_OPTUNA"

var venv struct {
	once sync.Once
	path string
	err  error
}

// optunaPython returns the project venv's interpreter once it imports Optuna 5.0.0 and
// psycopg2, skipping the test without them (failing it under $HW1_REQUIRE_OPTUNA).
func optunaPython(t *testing.T) string {
	t.Helper()
	venv.once.Do(func() {
		wd, err := os.Getwd()
		if err != nil {
			venv.err = err
			return
		}
		root, err := data.FindRepoRoot(wd)
		if err != nil {
			venv.err = err
			return
		}
		venv.path = filepath.Join(root, ".venv", "bin", "python")
		out, err := exec.Command(venv.path, "-c", "import optuna, psycopg2; print(optuna.__version__)").CombinedOutput()
		switch {
		case err != nil:
			venv.err = fmt.Errorf("%s cannot import optuna and psycopg2 (scripts/setup.sh installs them): %v: %s", venv.path, err, bytes.TrimSpace(out))
		case string(bytes.TrimSpace(out)) != "5.0.0":
			venv.err = fmt.Errorf("%s has Optuna %s, these tests are for 5.0.0", venv.path, bytes.TrimSpace(out))
		}
	})
	if venv.err != nil {
		if os.Getenv(requireOptunaEnv) == "" {
			t.Skipf("%v (set %s=1 to fail instead)", venv.err, requireOptunaEnv)
		}
		t.Fatalf("%v, and %s is set", venv.err, requireOptunaEnv)
	}
	return venv.path
}

// optunaView is what testdata/optuna_trials.py prints.
type optunaView struct {
	Optuna    string `json:"optuna"`
	Direction string `json:"direction"`
	Trials    []struct {
		Number int            `json:"number"`
		State  string         `json:"state"`
		Value  *float64       `json:"value"`
		Params map[string]any `json:"params"`
	} `json:"trials"`
}

// loadWithOptuna opens the study with optuna.load_study and returns what it sees.
func loadWithOptuna(t *testing.T, storage, study string) optunaView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, optunaPython(t), filepath.Join("testdata", "optuna_trials.py"), storage, study)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("optuna.load_study(study_name=%q, storage=%s): %v\n%s", study, storage, err, stderr.Bytes())
	}
	var v optunaView
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		t.Fatalf("optuna_trials.py printed %q: %v", stdout.Bytes(), err)
	}
	return v
}

// storedTrials reads the study from Go.
func storedTrials(t *testing.T, storage, study string) []hpo.FrozenTrial {
	t.Helper()
	var s hpo.Storage
	var err error
	if strings.HasPrefix(storage, "postgresql://") {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// No heartbeats: a reader fails nobody's trials.
		s, err = pgstorage.Open(ctx, storage, study, pgstorage.WithHeartbeat(0, 0))
	} else {
		s, err = journal.Open(storage, journal.WithStudy(study))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// ranTrials lists the trials a process ran, from its log lines ("trial 3 (4/8): ...").
func ranTrials(stderr string) []int {
	var out []int
	for _, m := range regexp.MustCompile(`(?m)^trial (\d+) \(`).FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// sameNumber compares a parameter as Go and Optuna give it: numbers by value (JSON makes
// Optuna's ints float64), labels as strings.
func sameNumber(goValue, pyValue any) bool {
	switch g := goValue.(type) {
	case int:
		p, ok := pyValue.(float64)
		return ok && float64(g) == p
	case float64:
		p, ok := pyValue.(float64)
		return ok && g == p
	}
	return fmt.Sprint(goValue) == fmt.Sprint(pyValue)
}

// TestSharedStudyTwoMachines starts together two `hw1 regression --preset smoke --storage S
// --study s --trials 8` processes and one with --worker, each with its own results folder as
// on three machines, on a PostgreSQL database and on a journal file. The study ends with
// exactly 8 complete or pruned trials numbered 0-7, no two with the same parameters, every
// process ran some of them, both results folders hold the same 8 trials, the worker's holds
// only study.json, and optuna.load_study sees the same trials. A worker with another seed or
// search space than the study's is then refused, naming the flag or field, and adds nothing.
func TestSharedStudyTwoMachines(t *testing.T) {
	bin := hw1Binary(t)
	dataDir := regressionDataDir(t)
	optunaPython(t)
	for _, kind := range []string{"postgresql", "journal"} {
		t.Run(kind, func(t *testing.T) {
			var storage string
			if kind == "postgresql" {
				// A password that trust authentication ignores: it must appear in no output.
				storage = strings.Replace(pgtest.Database(t), "postgresql://postgres@", "postgresql://postgres:s3cret-pw@", 1)
			} else {
				storage = filepath.Join(t.TempDir(), "shared.journal")
			}
			root := t.TempDir()
			out := func(machine string) string { return filepath.Join(root, machine) }
			args := func(machine string, extra ...string) []string {
				return append([]string{"regression", "--preset", "smoke", "--backend", "go", "--quiet",
					"--storage", storage, "--study", "s", "--trials", "8", "--out", out(machine)}, extra...)
			}
			procs := map[string]*proc{}
			for _, m := range []string{"a", "b", "w"} {
				var extra []string
				if m == "w" {
					extra = []string{"--worker"}
				}
				procs[m] = start(t, bin, dataDir, args(m, extra...)...)
			}
			ran := map[string][]int{}
			for m, p := range procs {
				if code := p.wait(t); code != 0 {
					t.Fatalf("machine %s exited %d\n%s", m, code, p.stderr.String())
				}
				if strings.Contains(p.stderr.String()+p.stdout.String(), "s3cret-pw") {
					t.Errorf("machine %s printed the database password:\n%s%s", m, p.stdout.String(), p.stderr.String())
				}
				ran[m] = ranTrials(p.stderr.String())
			}
			t.Logf("trials run by a: %v, b: %v, the worker: %v", ran["a"], ran["b"], ran["w"])

			ts := storedTrials(t, storage, "s")
			if len(ts) != 8 {
				t.Fatalf("the study has %d trials, want 8", len(ts))
			}
			for i, tr := range ts {
				if tr.Number != i || (tr.State != hpo.Complete && tr.State != hpo.Pruned) {
					t.Errorf("trial at %d: number %d, %s; want number %d, complete or pruned", i, tr.Number, tr.State, i)
				}
			}
			checkNoRepeats(t, ts)
			all := slices.Concat(ran["a"], ran["b"], ran["w"])
			slices.Sort(all)
			if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6, 7}) {
				t.Errorf("the processes ran trials %v between them, want 0-7 once each", all)
			}
			for m, r := range ran {
				if len(r) == 0 {
					// A smoke trial takes milliseconds: on a busy machine a process that
					// starts late may find the target reached. Not an error, but the
					// test then shows less.
					t.Logf("machine %s ran no trial", m)
				}
			}

			// The two results folders describe the same study: every trial, whoever ran it.
			csvA, err := os.ReadFile(filepath.Join(out("a"), "s_results", homework.FileTrialsCSV))
			if err != nil {
				t.Fatal(err)
			}
			csvB, err := os.ReadFile(filepath.Join(out("b"), "s_results", homework.FileTrialsCSV))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(csvA, csvB) {
				t.Errorf("the results folders' trials.csv differ:\n%s\n---\n%s", csvA, csvB)
			}
			if rows := bytes.Count(csvA, []byte("\n")); rows != 9 {
				t.Errorf("trials.csv has %d lines, want a header and 8 trials:\n%s", rows, csvA)
			}
			for _, m := range []string{"a", "b"} {
				cfg, err := os.ReadFile(filepath.Join(out(m), "s_results", homework.FileConfig))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(cfg, []byte("s3cret-pw")) {
					t.Errorf("machine %s: config.json holds the database password:\n%s", m, cfg)
				}
			}
			entries, err := os.ReadDir(filepath.Join(out("w"), "s_results"))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != homework.FileStudy {
					t.Errorf("the worker's results folder holds %s; a worker writes only %s", e.Name(), homework.FileStudy)
				}
			}
			// The worker's report lists the trials its log says it ran.
			report := procs["w"].stdout.String()
			line := regexp.MustCompile(`(?m)^ran here +(\d+):(.*)$`).FindStringSubmatch(report)
			if !strings.Contains(report, `regression study "s" (worker)`) || line == nil {
				t.Errorf("the worker's report:\n%s", report)
			} else {
				var reported []int
				for _, f := range strings.Fields(line[2]) {
					n, _ := strconv.Atoi(f)
					reported = append(reported, n)
				}
				logged := slices.Sorted(slices.Values(ran["w"]))
				if line[1] != strconv.Itoa(len(reported)) || !slices.Equal(slices.Sorted(slices.Values(reported)), logged) {
					t.Errorf("the worker's report says it ran %s: %v; its log, %v", line[1], reported, logged)
				}
			}

			// SQLAlchemy 2.1 reads postgresql:// as psycopg 3; the venv has psycopg2, and hw1
			// reads either spelling (the README gives Optuna's users this one).
			py := loadWithOptuna(t, strings.Replace(storage, "postgresql://", "postgresql+psycopg2://", 1), "s")
			if py.Direction != "MINIMIZE" || len(py.Trials) != len(ts) {
				t.Fatalf("Optuna %s sees a study to %s with %d trials, want MINIMIZE with %d", py.Optuna, py.Direction, len(py.Trials), len(ts))
			}
			for i, pt := range py.Trials {
				gt := ts[i]
				if pt.Number != gt.Number || pt.State != strings.ToUpper(string(gt.State)) {
					t.Errorf("trial %d: Optuna sees number %d %s, Go %d %s", i, pt.Number, pt.State, gt.Number, gt.State)
				}
				if pt.Value == nil || *pt.Value != gt.Value {
					t.Errorf("trial %d: Optuna sees value %v, Go %v", i, pt.Value, gt.Value)
				}
				params := gt.ExternalParams()
				if len(pt.Params) != len(params) {
					t.Errorf("trial %d: Optuna sees params %v, Go %v", i, pt.Params, params)
				}
				for k, v := range params {
					if !sameNumber(v, pt.Params[k]) {
						t.Errorf("trial %d param %s: Optuna sees %v, Go %v", i, k, pt.Params[k], v)
					}
				}
			}

			// Refused mixes: from a new machine, which has no study.json, the storage's trials
			// still tell the seed and the space.
			refused := map[string]struct {
				extra []string
				want  string
			}{
				"seed":  {[]string{"--worker", "--seed", "7"}, `--seed: 7, but study "s" was created with seed 42`},
				"space": {[]string{"--worker", "--config", writeConfig(t, `{"space": {"n_units": {"low": 8, "high": 64}}}`)}, "space.n_units: parameter \"n_units_l0\""},
			}
			for name, c := range refused {
				p := start(t, bin, dataDir, args("new-"+name, c.extra...)...)
				code := p.wait(t)
				if code != 2 || !strings.Contains(p.stderr.String(), c.want) {
					t.Errorf("a worker with another %s: exit %d, want 2 and %q:\n%s", name, code, c.want, p.stderr.String())
				}
			}
			// A worker that comes once the target is reached runs nothing and ends well.
			late := start(t, bin, dataDir, args("late", "--worker")...)
			if code := late.wait(t); code != 0 || len(ranTrials(late.stderr.String())) > 0 || !strings.Contains(late.stderr.String(), `study "s" already has 8 trials`) {
				t.Errorf("a late worker: exit %d, want 0 and no trial:\n%s", code, late.stderr.String())
			}
			if n := len(storedTrials(t, storage, "s")); n != 8 {
				t.Errorf("after the refused and late workers the study has %d trials, want 8", n)
			}
		})
	}
}

// writeConfig writes a --config file for the test.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSharedStudyKilledWorker kills (SIGKILL) a --worker in the middle of a trial of a study in
// PostgreSQL. Its heartbeats stop; the run that writes the results, started at once, runs its
// share of the target and waits for the dead trial until its heartbeat is older than the
// grace period (6 s at heartbeat_seconds 3), fails it, runs it again with the same
// parameters, and ends with exactly its target of complete or pruned trials, numbered
// without gaps.
func TestSharedStudyKilledWorker(t *testing.T) {
	bin := hw1Binary(t)
	dataDir := regressionDataDir(t)
	url := pgtest.Database(t)
	// Trials of a few tenths of a second, so that the kill lands in one, and that the run
	// finishes its share before the dead trial's heartbeat is stale; a short CV.
	cfg := writeConfig(t, `{"heartbeat_seconds": 3, "cv_epochs": 5, "space": {"epochs": {"low": 150, "high": 200}}}`)
	root := t.TempDir()
	args := func(machine string, extra ...string) []string {
		return append([]string{"regression", "--preset", "smoke", "--backend", "go", "--quiet", "--config", cfg,
			"--storage", url, "--study", "s", "--trials", "2", "--out", filepath.Join(root, machine)}, extra...)
	}
	w := start(t, bin, dataDir, args("w", "--worker")...)
	deadline := time.Now().Add(30 * time.Second)
	for !slices.ContainsFunc(storedTrials(t, url, "s"), func(tr hpo.FrozenTrial) bool { return tr.State == hpo.Running }) {
		if w.exited() || time.Now().After(deadline) {
			w.cmd.Process.Kill()
			t.Fatalf("the worker started no trial:\n%s", w.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.cmd.Process.Kill()
	w.wait(t)
	var killed []hpo.FrozenTrial
	for _, tr := range storedTrials(t, url, "s") {
		if tr.State == hpo.Running {
			killed = append(killed, tr)
		}
	}
	if len(killed) != 1 {
		t.Fatalf("after the kill %d trials are running, want the killed worker's one:\n%s", len(killed), w.stderr.String())
	}
	dead := killed[0]

	a := start(t, bin, dataDir, args("a")...)
	if code := a.wait(t); code != 0 {
		t.Fatalf("the run exited %d\n%s", code, a.stderr.String())
	}
	if want := fmt.Sprintf("trial %d failed", dead.Number); !strings.Contains(a.stderr.String(), want) {
		t.Errorf("the run's log does not say %q:\n%s", want, a.stderr.String())
	}
	if strings.Contains(a.stderr.String(), "waiting for trial") {
		t.Logf("the run waited for the dead trial, then failed it")
	} else {
		t.Logf("the run failed the dead trial before its last trial (a slow machine): the wait was not exercised")
	}
	ts := storedTrials(t, url, "s")
	counted, again := 0, -1
	for i, tr := range ts {
		if tr.Number != i {
			t.Fatalf("trial %d at position %d", tr.Number, i)
		}
		switch {
		case tr.State == hpo.Complete || tr.State == hpo.Pruned:
			counted++
			// The kill may come before the trial drew all its parameters: the
			// rerun has those it drew, and draws the rest.
			if tr.Number > dead.Number && sameDrawn(dead.ExternalParams(), tr.ExternalParams()) {
				again = tr.Number
			}
		case tr.Number == dead.Number && tr.State == hpo.Failed:
		default:
			t.Errorf("trial %d is %s", tr.Number, tr.State)
		}
	}
	if counted != 2 {
		t.Errorf("%d complete or pruned trials, want the target, 2", counted)
	}
	if ts[dead.Number].State != hpo.Failed {
		t.Errorf("the killed trial %d is %s, want %s", dead.Number, ts[dead.Number].State, hpo.Failed)
	}
	if again < 0 {
		t.Errorf("no later trial ran the killed trial's parameters %v again", dead.ExternalParams())
	}
	csv, err := os.ReadFile(filepath.Join(root, "a", "s_results", homework.FileTrialsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rows := bytes.Count(csv, []byte("\n")); rows != len(ts)+1 {
		t.Errorf("trials.csv has %d lines, want a header and the study's %d trials", rows, len(ts))
	}
}

// TestStorageRefusedNamingTheFlag: a --storage that can be no storage (another URL scheme, a
// folder, a journal in a folder that does not exist) and a heartbeat out of bounds are
// refused with exit 2, naming the flag or the field of the config file.
func TestStorageRefusedNamingTheFlag(t *testing.T) {
	dataDir := regressionDataDir(t)
	dir := t.TempDir()
	heartbeat := writeConfig(t, `{"heartbeat_seconds": 0.01}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--storage", "sqlite:///study.db"}, `--storage: URL scheme "sqlite" is not a storage here`},
		{[]string{"--storage", dir + "/"}, `--storage: "` + dir + `/" names a folder`},
		{[]string{"--storage", dir}, "--storage: " + dir + " is a folder"},
		{[]string{"--storage", filepath.Join(dir, "missing", "s.journal")}, "folder " + filepath.Join(dir, "missing") + " does not exist"},
		{[]string{"--config", heartbeat}, "config file " + heartbeat + ": heartbeat_seconds: 0.01, want 0"},
	} {
		args := append([]string{"regression", "--preset", "smoke", "--backend", "go", "--quiet", "--data-dir", dataDir, "--out", filepath.Join(dir, "out")}, tc.args...)
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) > 0 {
		t.Errorf("refused runs wrote %v", entries)
	}
}

// sameDrawn tells whether every parameter of drawn has the same value in rerun.
func sameDrawn(drawn, rerun map[string]any) bool {
	for k, v := range drawn {
		if w, ok := rerun[k]; !ok || fmt.Sprint(w) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}
