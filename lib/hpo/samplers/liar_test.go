package samplers

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
)

// liarGolden is testdata/optuna_liar.json (see optuna_liar.py).
type liarGolden struct {
	Optuna, Numpy string
	Workers       int
	Studies       []liarStudy
}

type liarStudy struct {
	Objective    string
	Seed         uint64
	Multivariate bool
	// Events are ["ask", n] (a worker starts trial n and its objective asks for every
	// parameter) and ["tell", n] (trial n's outcome is told), in Optuna's order.
	Events [][]any
	Trials []struct {
		State  string
		Params map[string]float64
		Value  *float64
		Tie    *string
	}
}

func loadLiar(t *testing.T) *liarGolden {
	t.Helper()
	raw, err := os.ReadFile("../testdata/optuna_liar.json")
	if err != nil {
		t.Fatal(err)
	}
	var g liarGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

var (
	parityObjectives = map[string]hpo.Objective{"branin": parityBranin, "kinds": parityKinds, "cat": parityCat, "pruned": parityPruned}
	parityDirections = map[string]hpo.Direction{"branin": hpo.Minimize, "kinds": hpo.Minimize, "cat": hpo.Minimize, "pruned": hpo.Maximize}
)

// replayLiar runs the asks and tells of c in its order on Optuna 5's TPE sampler, the constant
// liar on or off, and returns the trials.
func replayLiar(t *testing.T, c liarStudy, liar bool) []hpo.FrozenTrial {
	t.Helper()
	objective := parityObjectives[c.Objective]
	if objective == nil {
		t.Fatalf("golden study with unknown objective %q", c.Objective)
	}
	smp := NewOptuna5TPE(WithSeed(c.Seed))
	smp.multivariate = c.Multivariate
	smp.constantLiar = liar
	study, err := hpo.NewStudy(hpo.WithSampler(smp), hpo.WithPruner(hpo.NopPruner{}), hpo.WithDirection(parityDirections[c.Objective]))
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		trial *hpo.Trial
		value float64
		err   error
	}
	running := map[int]outcome{}
	for _, e := range c.Events {
		op, _ := e[0].(string)
		n := int(e[1].(float64))
		switch op {
		case "ask":
			tr, err := study.Ask()
			if err != nil {
				t.Fatal(err)
			}
			if tr.Number() != n {
				t.Fatalf("asked trial %d, Optuna's schedule says %d", tr.Number(), n)
			}
			v, err := objective(tr)
			running[n] = outcome{tr, v, err}
		case "tell":
			o, ok := running[n]
			if !ok {
				t.Fatalf("tell of trial %d, which is not running", n)
			}
			if _, err := study.Tell(o.trial, o.value, o.err); err != nil {
				t.Fatal(err)
			}
			delete(running, n)
		default:
			t.Fatalf("golden event %v", e)
		}
	}
	trials, err := study.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != len(c.Trials) {
		t.Fatalf("%d trials, Optuna %d", len(trials), len(c.Trials))
	}
	return trials
}

// firstDeparture returns the first trial (before the first near tie) whose parameters, state
// or value differ from Optuna's, with what differs, or -1 and "" if none; compared counts the
// trials compared. Floats agree to 1e-12 relative; discrete parameters exactly.
func firstDeparture(c liarStudy, trials []hpo.FrozenTrial) (at int, what string, compared int) {
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }
	for i, want := range c.Trials {
		if want.Tie != nil {
			return -1, "", compared
		}
		compared++
		got := trials[i]
		if len(got.Params) != len(want.Params) {
			return i, "parameter names", compared
		}
		for p, w := range want.Params {
			v, ok := got.Params[p]
			d := got.Distributions[p]
			exact := d.Kind != hpo.FloatKind || d.Step != 0
			if !ok || (exact && v != w) || (!exact && !close(v, w)) {
				return i, "parameter " + p, compared
			}
		}
		if state := map[hpo.TrialState]string{hpo.Complete: "COMPLETE", hpo.Pruned: "PRUNED", hpo.Failed: "FAIL"}[got.State]; state != want.State {
			return i, "state", compared
		}
		if want.Value != nil && !close(got.Value, *want.Value) {
			return i, "value", compared
		}
	}
	return -1, "", compared
}

// TestConstantLiarMatchesOptuna replays Optuna 5.0's constant-liar studies (four workers,
// trials asked while others run and told out of order) and checks every trial against
// Optuna's, up to the first near tie: the running trials enter the estimators as Optuna's do.
// The same replay with the liar off must depart from Optuna's study, or the golden data would
// not be testing the liar.
func TestConstantLiarMatchesOptuna(t *testing.T) {
	g := loadLiar(t)
	if g.Optuna != "5.0.0" {
		t.Fatalf("golden data from Optuna %s; this sampler reproduces 5.0.0", g.Optuna)
	}
	compared, withRunning := 0, 0
	for _, c := range g.Studies {
		name := c.Objective
		if c.Multivariate {
			name += "/multivariate"
		}
		trials := replayLiar(t, c, true)
		at, what, n := firstDeparture(c, trials)
		if at >= 0 {
			t.Fatalf("%s seed %d trial %d: %s differs: %v %v (%s), Optuna %v %s %v", name, c.Seed, at, what,
				trials[at].ExternalParams(), trials[at].Value, trials[at].State, c.Trials[at].Params, c.Trials[at].State, c.Trials[at].Value)
		}
		compared += n
		withRunning += sampledBesideRunning(c, n)
		if at, _, _ := firstDeparture(c, replayLiar(t, c, false)); at < 0 {
			t.Errorf("%s seed %d: the same study without the constant liar gives Optuna's trials too", name, c.Seed)
		}
	}
	// Guard against golden data whose studies end early in ties, or rarely sample by TPE
	// while other trials run.
	t.Logf("compared %d trials, %d sampled by TPE beside running trials", compared, withRunning)
	if compared < 1000 || withRunning < 600 {
		t.Fatalf("only %d trials compared, %d of them sampled by TPE beside running trials", compared, withRunning)
	}
}

// sampledBesideRunning counts the trials among the first n that were asked after the start-up
// (10 finished trials) while other trials were running.
func sampledBesideRunning(c liarStudy, n int) int {
	running, finished, count := 0, 0, 0
	for _, e := range c.Events {
		num := int(e[1].(float64))
		if e[0] == "tell" {
			running--
			finished++
			continue
		}
		if num < n && finished >= 10 && running > 0 {
			count++
		}
		running++
	}
	return count
}

// TestConstantLiarSplit checks the liar's bookkeeping on a fixed history: running trials are
// "above" whatever their parameters, among the others by number; only finished trials count
// for the start-up and for Gamma; and a running trial with none of a parameter is left out.
func TestConstantLiarSplit(t *testing.T) {
	d := hpo.FloatDistribution(0, 1, false, 0)
	mk := func(n int, state hpo.TrialState, v float64, params map[string]float64) hpo.FrozenTrial {
		ft := hpo.FrozenTrial{Number: n, State: state, Value: v, Params: params, Distributions: map[string]hpo.Distribution{}, SystemAttrs: map[string]float64{}}
		for p := range params {
			ft.Distributions[p] = d
		}
		return ft
	}
	h := &hpo.Snapshot{Direction: hpo.Minimize}
	for i := 0; i < 9; i++ {
		h.Trials = append(h.Trials, mk(i, hpo.Complete, float64(10-i), map[string]float64{"x": 0.1 * float64(i)}))
	}
	// Two running trials: one at the best point so far, one that has not asked for x yet.
	h.Trials = append(h.Trials, mk(9, hpo.Running, math.NaN(), map[string]float64{"x": 0.8}), mk(10, hpo.Running, math.NaN(), map[string]float64{}))
	s := NewTPE(WithSeed(1))
	s.constantLiar = true
	if sp := s.splitHistory(h); sp.nBelow >= 0 {
		t.Fatalf("9 finished and 2 running trials: TPE ran, the start-up needs 10 finished")
	}
	h.Trials = append(h.Trials, mk(11, hpo.Complete, 0.5, map[string]float64{"x": 0.85}))
	h = &hpo.Snapshot{Direction: h.Direction, Trials: h.Trials} // a new snapshot: no memo
	sp := s.splitHistory(h)
	if sp.nBelow != DefaultGamma(10) {
		t.Fatalf("below group of %d, want Gamma(10) = %d: running trials counted", sp.nBelow, DefaultGamma(10))
	}
	numbers := func(idx []int) []int {
		var out []int
		for _, i := range idx {
			out = append(out, sp.obs[i].trial.Number)
		}
		return out
	}
	if got := numbers(sp.below); len(got) != 1 || got[0] != 11 {
		t.Fatalf("below = trials %v, want [11]", got)
	}
	if got, want := numbers(sp.above), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Fatalf("above = trials %v, want %v", got, want)
	}
	var xs []float64
	for _, i := range sp.above {
		if v, ok := s.value(sp.obs[i], "x", d); ok {
			xs = append(xs, v)
		}
	}
	if len(xs) != 10 || xs[9] != 0.8 {
		t.Fatalf("above values of x %v: want the 9 finished trials' and the running trial's 0.8", xs)
	}
	// Without the liar the running trials are not observations at all.
	s.constantLiar = false
	h = &hpo.Snapshot{Direction: h.Direction, Trials: h.Trials} // a new snapshot: no memo
	if sp := s.splitHistory(h); len(sp.obs) != 10 {
		t.Fatalf("%d observations without the liar, want the 10 finished trials", len(sp.obs))
	}
}

// TestConstantLiarKeepsJointDraws checks that in multivariate mode a trial sampled with the
// liar keeps its jointly drawn values, and that another worker's sampler sees them before the
// objective asks for them.
func TestConstantLiarKeepsJointDraws(t *testing.T) {
	storage := hpo.NewMemoryStorage()
	objective := func(tr *hpo.Trial) (float64, error) {
		x, _ := tr.SuggestFloat("x", -5, 5)
		y, _ := tr.SuggestInt("y", 0, 9)
		return x*x + float64(y), nil
	}
	a, err := hpo.NewStudy(hpo.WithSampler(NewOptuna5TPE(WithSeed(3))), hpo.WithStorage(storage), hpo.WithPruner(hpo.NopPruner{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Optimize(context.Background(), objective, hpo.NTrials(12)); err != nil {
		t.Fatal(err)
	}
	first, err := a.Ask()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := storage.Trial(first.Number())
	if err != nil {
		t.Fatal(err)
	}
	rx, okx := kept.SystemAttrs[attrRelativePrefix+"x"]
	ry, oky := kept.SystemAttrs[attrRelativePrefix+"y"]
	if !okx || !oky {
		t.Fatalf("trial %d keeps %v: no joint draws of x and y", first.Number(), kept.SystemAttrs)
	}
	// A second worker sees the first trial running without parameters, but with its draws.
	smp := NewOptuna5TPE(WithSeed(3))
	b, err := hpo.NewStudy(hpo.WithSampler(smp), hpo.WithStorage(storage), hpo.WithPruner(hpo.NopPruner{}))
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.Ask()
	if err != nil {
		t.Fatal(err)
	}
	// The second trial's snapshot: the study's other trials as they were when it started.
	all, err := storage.Trials()
	if err != nil {
		t.Fatal(err)
	}
	snapshot := &hpo.Snapshot{Direction: hpo.Minimize}
	for _, tr := range all {
		if tr.Number != second.Number() {
			snapshot.Trials = append(snapshot.Trials, tr)
		}
	}
	var seen *hpo.FrozenTrial
	for i := range snapshot.Trials {
		if tr := &snapshot.Trials[i]; tr.Number == first.Number() {
			seen = tr
		}
	}
	if seen == nil || seen.State != hpo.Running || len(seen.Params) != 0 {
		t.Fatalf("the second worker's history has trial %d as %+v, want it running with no parameters yet", first.Number(), seen)
	}
	sp := smp.splitHistory(snapshot)
	found := false
	for _, i := range sp.above {
		if o := sp.obs[i]; o.trial.Number == first.Number() {
			vx, ok1 := smp.value(o, "x", hpo.FloatDistribution(-5, 5, false, 0))
			vy, ok2 := smp.value(o, "y", hpo.IntDistribution(0, 9, false, 1))
			found = ok1 && ok2 && vx == rx && vy == ry
		}
	}
	if !found {
		t.Fatalf("the running trial's joint draws x=%v y=%v are not among the second worker's observations", rx, ry)
	}
	// And the first trial gets what was drawn for it.
	x, _ := first.SuggestFloat("x", -5, 5)
	y, _ := first.SuggestInt("y", 0, 9)
	if x != rx || float64(y) != ry {
		t.Fatalf("trial got x=%v y=%v, drew %v %v", x, y, rx, ry)
	}
}

// TestConstantLiarSpreadsConcurrentAsks: two workers on one study each ask a trial before
// either tells. Without the liar both model the same finished trials and often propose nearly
// the same point; with it the second worker counts the first one's point as a bad result and
// looks elsewhere. Over 40 seeds of a 1-D problem, for both estimators.
func TestConstantLiarSpreadsConcurrentAsks(t *testing.T) {
	objective := func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", -10, 10)
		return (x - 2) * (x - 2), err
	}
	const seeds, near = 40, 0.2 // near: 1% of the range
	for _, release := range []OptunaRelease{Optuna31, Optuna50} {
		median := map[bool]float64{}
		closePairs := map[bool]int{}
		for _, liar := range []bool{false, true} {
			var gaps []float64
			for seed := uint64(0); seed < seeds; seed++ {
				sampler := func() *TPESampler {
					s := NewTPE(WithSeed(seed))
					if release == Optuna50 {
						s = NewOptuna5TPE(WithSeed(seed))
					}
					s.constantLiar = liar
					return s
				}
				storage := hpo.NewMemoryStorage()
				a, err := hpo.NewStudy(hpo.WithSampler(sampler()), hpo.WithStorage(storage), hpo.WithPruner(hpo.NopPruner{}))
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Optimize(context.Background(), objective, hpo.NTrials(20)); err != nil {
					t.Fatal(err)
				}
				b, err := hpo.NewStudy(hpo.WithSampler(sampler()), hpo.WithStorage(storage), hpo.WithPruner(hpo.NopPruner{}))
				if err != nil {
					t.Fatal(err)
				}
				var xs [2]float64
				for i, st := range []*hpo.Study{a, b} {
					tr, err := st.Ask()
					if err != nil {
						t.Fatal(err)
					}
					if xs[i], err = tr.SuggestFloat("x", -10, 10); err != nil {
						t.Fatal(err)
					}
				}
				gap := math.Abs(xs[0] - xs[1])
				gaps = append(gaps, gap)
				if gap < near {
					closePairs[liar]++
				}
			}
			sort.Float64s(gaps)
			median[liar] = gaps[seeds/2]
		}
		t.Logf("Optuna%d estimator: pairs closer than %v: %d without the liar, %d with; median gap %.3g and %.3g",
			[]int{31, 50}[release], near, closePairs[false], closePairs[true], median[false], median[true])
		if closePairs[false] < 5 {
			t.Errorf("estimator %d: only %d of %d concurrent pairs nearly identical without the liar; the test shows nothing", release, closePairs[false], seeds)
		}
		if closePairs[true] > 2 || median[true] < 4*median[false] {
			t.Errorf("estimator %d: with the liar %d pairs still nearly identical, median gap %.3g (without: %.3g)", release, closePairs[true], median[true], median[false])
		}
	}
}

// TestConstantLiarAloneChangesNothing: one worker running one trial at a time has no other
// running trial, so a seeded study is the same with and without the liar (lib/homework may
// leave it on for a study that has one worker today and several tomorrow).
func TestConstantLiarAloneChangesNothing(t *testing.T) {
	for _, multivariate := range []bool{false, true} {
		var runs [2][]hpo.FrozenTrial
		for i, liar := range []bool{false, true} {
			s := NewTPE(WithSeed(5))
			s.multivariate = multivariate
			s.constantLiar = liar
			study, err := hpo.NewStudy(hpo.WithSampler(s), hpo.WithPruner(hpo.NopPruner{}))
			if err != nil {
				t.Fatal(err)
			}
			if err := study.Optimize(context.Background(), parityKinds, hpo.NTrials(40)); err != nil {
				t.Fatal(err)
			}
			if runs[i], err = study.Trials(); err != nil {
				t.Fatal(err)
			}
		}
		for n := range runs[0] {
			a, b := runs[0][n], runs[1][n]
			if len(a.Params) != len(b.Params) || a.Value != b.Value {
				t.Fatalf("multivariate %v trial %d: %v without the liar, %v with", multivariate, n, a.Params, b.Params)
			}
			for p, v := range a.Params {
				if b.Params[p] != v {
					t.Fatalf("multivariate %v trial %d: %v without the liar, %v with", multivariate, n, a.Params, b.Params)
				}
			}
		}
	}
}
