package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// The interop tests run Optuna itself (testdata/optuna_journal.py) with the project venv's
// Python, where scripts/setup.sh installs the pinned Optuna. They skip when it is missing,
// unless HW1_REQUIRE_OPTUNA is set.

func optunaPython(t *testing.T) string {
	t.Helper()
	py, _ := filepath.Abs(filepath.Join("..", "..", "..", ".venv", "bin", "python"))
	if out, err := exec.Command(py, "-c", "import optuna; print(optuna.__version__)").CombinedOutput(); err != nil {
		if os.Getenv("HW1_REQUIRE_OPTUNA") != "" {
			t.Fatalf("HW1_REQUIRE_OPTUNA is set but %s cannot import optuna (run scripts/setup.sh): %v\n%s", py, err, out)
		}
		t.Skipf("no Optuna in %s (scripts/setup.sh installs it; HW1_REQUIRE_OPTUNA=1 makes this a failure)", py)
	}
	return py
}

func runOptuna(t *testing.T, py string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(py, append([]string{filepath.Join("..", "testdata", "optuna_journal.py")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("optuna_journal.py %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// optunaTrial is a trial as Optuna's load_study gives it (optuna_journal.py dump).
type optunaTrial struct {
	Number           int
	State            string
	Values           []any
	Params           map[string]any
	ParamTypes       map[string]string `json:"param_types"`
	Distributions    map[string]string
	Intermediate     map[string]any
	SystemAttrs      map[string]any `json:"system_attrs"`
	UserAttrs        map[string]any `json:"user_attrs"`
	DatetimeStart    *string        `json:"datetime_start"`
	DatetimeComplete *string        `json:"datetime_complete"`
}

type optunaStudy struct {
	Direction string
	Trials    []optunaTrial
}

func optunaLoad(t *testing.T, py, path, study string) optunaStudy {
	t.Helper()
	var s optunaStudy
	out := runOptuna(t, py, "dump", path, study)
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("optuna dump: %v\n%s", err, out)
	}
	return s
}

func sameNumber(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// compareWithOptuna checks that Optuna loads the trials Go has: numbers, states, values,
// parameters with their distributions, intermediate values, hw1's system attributes, reasons
// and times.
func compareWithOptuna(t *testing.T, gos []hpo.FrozenTrial, py optunaStudy) {
	t.Helper()
	if len(gos) != len(py.Trials) {
		t.Fatalf("Go has %d trials, Optuna loads %d", len(gos), len(py.Trials))
	}
	for i, g := range gos {
		p := py.Trials[i]
		pv := math.NaN()
		if len(p.Values) > 0 {
			pv = hpotest.DumpFloat(p.Values[0])
		}
		if p.Number != g.Number || p.State != string(g.State) || !sameNumber(pv, g.Value) {
			t.Errorf("trial %d: Go %d %s %v, Optuna %d %s %v", i, g.Number, g.State, g.Value, p.Number, p.State, pv)
		}
		if a, b := fmt.Sprint(g.ExternalParams()), fmt.Sprint(p.Params); a != b {
			t.Errorf("trial %d parameters: Go %s, Optuna %s", i, a, b)
		}
		for name, d := range g.Distributions {
			if pd, err := ParseOptunaDistribution(p.Distributions[name]); err != nil || !pd.Equal(d) {
				t.Errorf("trial %d parameter %q: Go %s, Optuna %s (%v)", i, name, d, p.Distributions[name], err)
			}
		}
		if len(g.Intermediate) != len(p.Intermediate) {
			t.Errorf("trial %d: Go has %d intermediate values, Optuna %d", i, len(g.Intermediate), len(p.Intermediate))
		}
		for step, v := range g.Intermediate {
			if pv, ok := p.Intermediate[strconv.Itoa(step)]; !ok || !sameNumber(hpotest.DumpFloat(pv), v) {
				t.Errorf("trial %d step %d: Go %v, Optuna %v", i, step, v, pv)
			}
		}
		for k, v := range g.SystemAttrs {
			if pv, ok := p.SystemAttrs[k]; !ok || !sameNumber(hpotest.DumpFloat(pv), v) {
				t.Errorf("trial %d system attribute %q: Go %v, Optuna %v", i, k, v, pv)
			}
		}
		if reason, _ := p.SystemAttrs[attrFailReason].(string); reason != g.FailReason {
			t.Errorf("trial %d reason: Go %q, Optuna %q", i, g.FailReason, reason)
		}
		checkTime := func(what string, gt time.Time, pt *string) {
			want := ""
			if !gt.IsZero() {
				want = OptunaTime(gt)
			}
			got := ""
			if pt != nil {
				got = *pt
			}
			if got != want {
				t.Errorf("trial %d %s: Go %q, Optuna %q", i, what, want, got)
			}
		}
		checkTime("datetime_start", g.DatetimeStart, p.DatetimeStart)
		checkTime("datetime_complete", g.DatetimeComplete, p.DatetimeComplete)
	}
}

// interopObjective is legacyObjective (trial 3 fails) with a NaN intermediate value in trial
// 6 and an infinite value in trial 7, the values JSON has no words for.
func interopObjective(t *hpo.Trial) (float64, error) {
	v, err := legacyObjective(t)
	if err != nil {
		return v, err
	}
	switch t.Number() {
	case 6:
		if err := t.Report(9, math.NaN()); err != nil {
			return 0, err
		}
	case 7:
		return math.Inf(1), nil
	}
	return v, nil
}

// TestOptunaLoadsAStudyWrittenByGo: optuna.load_study reads a journal hw1 wrote with the same
// trials, states, parameters (and Optuna's own JSON of their distributions), values,
// intermediate values, reasons and times; a trial left running is RUNNING there too.
func TestOptunaLoadsAStudyWrittenByGo(t *testing.T) {
	py := optunaPython(t)
	path := filepath.Join(t.TempDir(), "study.journal")
	j, err := Open(path, WithStudy("go-study"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(3))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueTrial(legacyEnqueuedA); err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), interopObjective, hpo.NTrials(9)); err != nil {
		t.Fatal(err)
	}
	running, err := s.Ask()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := running.SuggestFloat("x", -3, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueTrial(legacyEnqueuedB); err != nil {
		t.Fatal(err)
	}
	gos, _ := j.Trials()
	states := map[hpo.TrialState]int{}
	for _, tr := range gos {
		states[tr.State]++
	}
	if states[hpo.Complete] == 0 || states[hpo.Pruned] == 0 || states[hpo.Failed] != 1 || states[hpo.Running] != 1 || states[hpo.Waiting] != 1 {
		t.Fatalf("the study should hold every state: %v", states)
	}
	py1 := optunaLoad(t, py, path, "go-study")
	if py1.Direction != "MINIMIZE" {
		t.Errorf("Optuna's direction %s", py1.Direction)
	}
	compareWithOptuna(t, gos, py1)
	// Optuna's JSON of every distribution is the one hw1 wrote, byte for byte.
	for _, p := range py1.Trials {
		for name, js := range p.Distributions {
			d, _ := ParseOptunaDistribution(js)
			if mine, _ := OptunaDistributionJSON(d); mine != js {
				t.Errorf("parameter %q: hw1 writes %s, Optuna %s", name, mine, js)
			}
		}
	}
	if fixed := py1.Trials[len(py1.Trials)-1].SystemAttrs[attrFixedParams]; fmt.Sprint(fixed) != fmt.Sprint(map[string]any{"depth": 4, "kind": "b", "lr": 0.1, "units": 8, "x": -1}) {
		t.Errorf("the WAITING trial's fixed_params in Optuna: %v", fixed)
	}
}

// TestGoContinuesAStudyBegunByOptuna: a seeded study begun by Optuna (an enqueued trial, five
// trials with one pruned, a trial left WAITING) is read by hw1 as Optuna reads it, continued
// by a Go worker (which runs the WAITING trial first, with its fixed parameters), and
// reloaded by Optuna with every trial; the Go trials keep Python's choice types.
func TestGoContinuesAStudyBegunByOptuna(t *testing.T) {
	py := optunaPython(t)
	path := filepath.Join(t.TempDir(), "study.journal")
	runOptuna(t, py, "begin", path, "py-study")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.StudyName() != "py-study" {
		t.Fatalf("opened study %q, want the journal's one study", j.StudyName())
	}
	before, _ := j.Trials()
	compareWithOptuna(t, before, optunaLoad(t, py, path, "py-study"))
	if len(before) != 6 || before[2].State != hpo.Pruned || before[5].State != hpo.Waiting {
		t.Fatalf("Optuna's study as hw1 reads it: %d trials, trial 2 %s, trial 5 %s", len(before), before[2].State, before[5].State)
	}
	obj := func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", -2, 2)
		if err != nil {
			return 0, err
		}
		units, err := tr.SuggestInt("units", 4, 64, hpo.Step(4))
		if err != nil {
			return 0, err
		}
		opt, err := tr.SuggestCategorical("opt", []string{"adam", "sgd"})
		if err != nil {
			return 0, err
		}
		width, err := hpo.SuggestChoice(tr, "width", []int{16, 32, 64})
		if err != nil {
			return 0, err
		}
		v := x*x + math.Abs(float64(units-32))/32 + float64(width)/64
		if opt == "sgd" {
			v += 0.5
		}
		for step := 0; step < 3; step++ {
			if err := tr.Report(step, v+1/float64(step+1)); err != nil {
				return 0, err
			}
		}
		return v, nil
	}
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(5))), hpo.WithPruner(hpo.NopPruner{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), obj, hpo.NTrials(4)); err != nil {
		t.Fatal(err)
	}
	gos, _ := j.Trials()
	after := optunaLoad(t, py, path, "py-study")
	compareWithOptuna(t, gos, after)
	if len(gos) != 9 {
		t.Fatalf("%d trials after Go's four, want 9", len(gos))
	}
	if enq := gos[5]; enq.State != hpo.Complete || fmt.Sprint(enq.ExternalParams()) != "map[opt:sgd units:8 width:64 x:-1]" {
		t.Fatalf("the trial Optuna left WAITING: %s %v, want it run with its fixed parameters", enq.State, enq.ExternalParams())
	}
	for _, p := range after.Trials[5:] {
		if p.State != "COMPLETE" || p.ParamTypes["width"] != "int" || p.ParamTypes["units"] != "int" || p.ParamTypes["opt"] != "str" {
			t.Errorf("Go's trial %d in Optuna: %s, parameter types %v (want Python's own: width int)", p.Number, p.State, p.ParamTypes)
		}
		if p.Distributions["width"] != after.Trials[0].Distributions["width"] {
			t.Errorf("Go's trial %d: width drawn from %s, Optuna's trials from %s", p.Number, p.Distributions["width"], after.Trials[0].Distributions["width"])
		}
	}
}

// TestGoAndOptunaWorkersShareAJournal: a Go worker and a Python Optuna worker append to one
// journal at the same time, ten trials each; the study ends with twenty trials numbered 0-19,
// all complete, ten of each worker, in both views, and no lock file left behind.
func TestGoAndOptunaWorkersShareAJournal(t *testing.T) {
	py := optunaPython(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "study.journal")
	j, err := Open(path, WithStudy("shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(hpo.NewRandomSampler(11)), hpo.WithPruner(hpo.NopPruner{}))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("..", "testdata", "optuna_journal.py"), "worker", path, "shared", "10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Start once Optuna has begun its first trial (importing Optuna takes a while), so that
	// both write at once.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		trials, err := j.Trials()
		if err != nil {
			t.Fatal(err)
		}
		if len(trials) > 0 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the Optuna worker exited before its first trial: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the Optuna worker began no trial within 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	obj := func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", -3, 3)
		time.Sleep(20 * time.Millisecond)
		return x * x, err
	}
	if err := s.Optimize(context.Background(), obj, hpo.NTrials(10)); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("the Optuna worker: %v\n%s", err, stderr.String())
	}
	gos, _ := j.Trials()
	pys := optunaLoad(t, py, path, "shared")
	compareWithOptuna(t, gos, pys)
	if len(gos) != 20 {
		t.Fatalf("%d trials, want 20", len(gos))
	}
	var goNumbers, pyNumbers []int
	for i, tr := range gos {
		if tr.Number != i || tr.State != hpo.Complete {
			t.Fatalf("trial at %d: number %d, %s", i, tr.Number, tr.State)
		}
		_, byGo := tr.SystemAttrs[attrWorker]
		byOptuna := pys.Trials[i].UserAttrs["writer"] == "optuna"
		switch {
		case byGo && !byOptuna:
			goNumbers = append(goNumbers, i)
		case byOptuna && !byGo:
			pyNumbers = append(pyNumbers, i)
		default:
			t.Fatalf("trial %d: written by Go %v, by Optuna %v", i, byGo, byOptuna)
		}
	}
	if len(goNumbers) != 10 || len(pyNumbers) != 10 {
		t.Fatalf("Go ran trials %v, Optuna %v; want ten each", goNumbers, pyNumbers)
	}
	if goNumbers[0] > pyNumbers[9] || pyNumbers[0] > goNumbers[9] {
		t.Fatalf("the workers did not run at the same time: Go ran %v, Optuna %v", goNumbers, pyNumbers)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.lock*"))
	if len(left) > 0 {
		t.Fatalf("lock files left behind: %v", left)
	}
	t.Logf("Go ran trials %v, Optuna %v", goNumbers, pyNumbers)
}

// TestOptunaLoadsAConvertedJournal: a journal of hw1's first format, converted, is loaded by
// Optuna with the trials hw1 reads from it.
func TestOptunaLoadsAConvertedJournal(t *testing.T) {
	py := optunaPython(t)
	quietJournalWarnings(t)
	original, _ := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	path := filepath.Join(t.TempDir(), "study.journal")
	os.WriteFile(path, original, 0o644)
	j, err := Open(path, WithStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	gos, _ := j.Trials()
	compareWithOptuna(t, gos, optunaLoad(t, py, path, "regression_smoke"))
}

// TestJournalHoldsSeveralStudies: studies share a journal as in Optuna (trial_ids over the
// file, numbers per study); a storage opens one by name, and Open without a name
// refuses a journal of several.
func TestJournalHoldsSeveralStudies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.journal")
	open := func(name string) (*hpo.Study, *Storage) {
		j, err := Open(path, WithStudy(name))
		if err != nil {
			t.Fatal(err)
		}
		dir := hpo.Minimize
		if name == "b" {
			dir = hpo.Maximize
		}
		s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))), hpo.WithDirection(dir))
		if err != nil {
			t.Fatal(err)
		}
		return s, j
	}
	a, ja := open("a")
	defer ja.Close()
	b, jb := open("b")
	defer jb.Close()
	for _, step := range []struct {
		s *hpo.Study
		n int
	}{{a, 2}, {b, 3}, {a, 1}} {
		if err := step.s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(step.n)); err != nil {
			t.Fatal(err)
		}
	}
	ta, _ := a.Trials()
	tb, _ := b.Trials()
	if len(ta) != 3 || len(tb) != 3 || ta[2].Number != 2 || tb[2].Number != 2 {
		t.Fatalf("study a has %d trials, b %d; want 3 each, numbered from 0", len(ta), len(tb))
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("Open without a name on a journal of two studies: %v", err)
	}
	if py := optunaPythonOrEmpty(); py != "" {
		pa, pb := optunaLoad(t, py, path, "a"), optunaLoad(t, py, path, "b")
		compareWithOptuna(t, ta, pa)
		compareWithOptuna(t, tb, pb)
		if pb.Direction != "MAXIMIZE" {
			t.Errorf("study b in Optuna: %s", pb.Direction)
		}
	}
}

// optunaPythonOrEmpty is the venv's Python if it has Optuna, else "".
func optunaPythonOrEmpty() string {
	py, _ := filepath.Abs(filepath.Join("..", "..", "..", ".venv", "bin", "python"))
	if exec.Command(py, "-c", "import optuna").Run() != nil {
		return ""
	}
	return py
}

// TestOptunaJSONDetails: floats are written as Python's repr writes them, Python's special
// floats are read, and distributions of every form Optuna has written are read.
func TestOptunaJSONDetails(t *testing.T) {
	for v, want := range map[float64]string{0.5: "0.5", 3: "3.0", 1e-05: "1e-05", 1e16: "1e+16", 1e15: "1000000000000000.0",
		0.0001: "0.0001", 123456789012345678: "1.2345678901234568e+17", -2: "-2.0", math.Inf(-1): "-Infinity"} {
		if got := string(appendPyFloat(nil, v)); got != want {
			t.Errorf("%v is written %s, Python writes %s", v, got, want)
		}
	}
	if got := string(appendPyFloat(nil, math.Copysign(0, -1))); got != "-0.0" {
		t.Errorf("-0.0 is written %s", got)
	}
	m, err := decodeOptunaFields([]byte(`{"a":NaN,"b":-Infinity,"c":"NaN and Infinity","d":[Infinity]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := m.float("a")
	b, _ := m.float("b")
	c, _ := m.str("c")
	d, _, _ := m.values("d")
	if !math.IsNaN(a) || !math.IsInf(b, -1) || c != "NaN and Infinity" || !math.IsInf(d, 1) {
		t.Fatalf("decoded %v %v %q %v", a, b, c, d)
	}
	for js, want := range map[string]hpo.Distribution{
		`{"name": "CategoricalDistribution", "attributes": {"choices": [16, 32, "a", 1.5, true, null, 1000000]}}`: hpo.CategoricalDistribution("16", "32", "a", "1.5", "true", "<nil>", "1000000"),
		`{"name": "UniformDistribution", "attributes": {"low": 0.0, "high": 1.0}}`:                                hpo.FloatDistribution(0, 1, false, 0),
		`{"name": "LogUniformDistribution", "attributes": {"low": 0.001, "high": 1.0}}`:                           hpo.FloatDistribution(0.001, 1, true, 0),
		`{"name": "DiscreteUniformDistribution", "attributes": {"low": 0.0, "high": 1.0, "q": 0.25}}`:             hpo.FloatDistribution(0, 1, false, 0.25),
		`{"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 128}}`:                            hpo.IntDistribution(1, 128, true, 1),
		`{"type": "int", "low": 1, "high": 9, "step": 2}`:                                                         hpo.IntDistribution(1, 9, false, 2),
		`{"type": "float", "low": 1e-05, "high": 0.1, "log": true}`:                                               hpo.FloatDistribution(1e-5, 0.1, true, 0),
	} {
		got, err := ParseOptunaDistribution(js)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: read %v (%v), want %v", js, got, err, want)
		}
	}
	for _, bad := range []string{`{"name": "Nope", "attributes": {}}`, `{"name": "FloatDistribution", "attributes": {"low": 2.0, "high": 1.0}}`, `not json`} {
		if _, err := ParseOptunaDistribution(bad); err == nil {
			t.Errorf("%s was read", bad)
		}
	}
}

// TestStaleHW1LockIsRemovedAtOnce: Optuna's lock file left by an hw1 process that died
// holding it does not hold up the next writer.
func TestStaleHW1LockIsRemovedAtOnce(t *testing.T) {
	warn := quietJournalWarnings(t)
	path := filepath.Join(t.TempDir(), "study.journal")
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(1)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	lock, _ := newOptunaLock(path, warn)
	if err := os.Symlink(lock.target, path+".lock"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	s, j = openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
	defer j.Close()
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(1)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second || !strings.Contains(warn.String(), "died holding it") {
		t.Fatalf("writing after a dead hw1 process's lock took %v; warnings %q", took, warn)
	}
	if _, err := os.Lstat(path + ".lock"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the lock is still there: %v", err)
	}
}

// TestOptunaLockIsWaitedFor: a lock that another (Optuna) process holds is waited for while
// the journal keeps changing and taken as soon as it is released; one whose journal has not
// changed for the grace period is forcibly released, as Optuna does.
func TestOptunaLockIsWaitedFor(t *testing.T) {
	warn := quietJournalWarnings(t)
	saved := optunaLockGrace
	optunaLockGrace = 300 * time.Millisecond
	t.Cleanup(func() { optunaLockGrace = saved })
	path := filepath.Join(t.TempDir(), "study.journal")
	_, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
	defer j.Close()
	hold := func() {
		// Optuna's link points to the path it was given.
		if err := os.Symlink(path, path+".lock"); err != nil {
			t.Fatal(err)
		}
	}
	write := func() (time.Duration, error) {
		start := time.Now()
		_, err := j.RegisterWorker()
		return time.Since(start), err
	}
	// Another hw1 storage, which reads while the writer waits.
	reader, err := Open(path, WithStudy(j.StudyName()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// A live holder: the journal changes (Optuna's appends) for 700 ms, then it releases.
	hold()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			now := time.Now()
			os.Chtimes(path, now, now)
		}
		os.Remove(path + ".lock")
	}()
	// Meanwhile the reader reads at once: the waiting writer holds no flock.
	readTook := make(chan time.Duration, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		start := time.Now()
		reader.Trials()
		readTook <- time.Since(start)
	}()
	took, err := write()
	<-done
	if err != nil || took < 650*time.Millisecond || strings.Contains(warn.String(), "forcibly") {
		t.Fatalf("a write under a live holder's lock: %v after %v; warnings %q", err, took, warn)
	}
	if r := <-readTook; r > 100*time.Millisecond {
		t.Errorf("a read while a writer waited for Optuna's lock took %v", r)
	}
	// A dead holder: nothing changes, so after the grace period the lock is broken.
	hold()
	took, err = write()
	if err != nil || took < optunaLockGrace || !strings.Contains(warn.String(), "forcibly releasing") {
		t.Fatalf("a write under a stale lock: %v after %v; warnings %q", err, took, warn)
	}
	left, _ := filepath.Glob(path + ".lock*")
	sort.Strings(left)
	if len(left) > 0 {
		t.Fatalf("lock files left: %v", left)
	}
}

// TestReplayIgnoresWhatOptunaIgnores: lines that Optuna's protocol leaves in a journal and its
// replay ignores are not damage, and are ignored here too: a second start of an enqueued trial
// (two workers popped it at once; the first wins), and a parameter whose distribution the
// study refuses (its writer got the error). Optuna reads the journal the same way.
func TestReplayIgnoresWhatOptunaIgnores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.journal")
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueTrial(map[string]any{"x": 0.5}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	at := OptunaTime(time.Now())
	lines := []string{
		`{"op_code":6,"worker_id":"first-1","trial_id":1,"state":0,"values":null,"datetime_start":"` + at + `"}`,
		`{"op_code":6,"worker_id":"second-2","trial_id":1,"state":0,"values":null,"datetime_start":"` + at + `"}`,
		// x was drawn from a float range in trial 0: Optuna refuses a categorical x.
		`{"op_code":5,"worker_id":"second-2","trial_id":1,"param_name":"x","param_value_internal":0,"distribution":"{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"a\"]}}"}`,
		`{"op_code":5,"worker_id":"first-1","trial_id":1,"param_name":"x","param_value_internal":0.5,"distribution":"{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": -3.0, \"high\": 3.0, \"log\": false}}"}`,
		`{"op_code":6,"worker_id":"first-1","trial_id":1,"state":1,"values":[0.25],"datetime_complete":"` + at + `"}`,
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(strings.Join(lines, "\n") + "\n")
	f.Close()
	j, err := Open(path)
	if err != nil {
		t.Fatalf("a journal with lines Optuna ignores: %v", err)
	}
	defer j.Close()
	trials, _ := j.Trials()
	if len(trials) != 2 || trials[1].State != hpo.Complete || trials[1].Value != 0.25 || trials[1].Params["x"] != 0.5 ||
		trials[1].Distributions["x"].Kind != hpo.FloatKind {
		t.Fatalf("trial 1: %+v", trials[1])
	}
	if py := optunaPythonOrEmpty(); py != "" {
		compareWithOptuna(t, trials, optunaLoad(t, py, path, DefaultJournalStudy))
	}
}
