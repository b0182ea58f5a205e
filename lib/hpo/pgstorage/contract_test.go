//go:build linux

package pgstorage

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// The storage contract (hpo.Storage's comments), checked on MemoryStorage, the reference, and
// on this storage, so that both answer every step alike.
var storages = []struct {
	name string
	open func(t *testing.T) hpo.Storage
}{
	{"memory", func(t *testing.T) hpo.Storage { return hpo.NewMemoryStorage() }},
	{"postgres", func(t *testing.T) hpo.Storage { return openTest(t, pgtest.Database(t), "contract") }},
}

func forEachStorage(t *testing.T, fn func(t *testing.T, s hpo.Storage)) {
	for _, st := range storages {
		t.Run(st.name, func(t *testing.T) { fn(t, st.open(t)) })
	}
}

func mustCreate(t *testing.T, s hpo.Storage, limit int) hpo.FrozenTrial {
	t.Helper()
	tr, err := s.CreateTrial(limit)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestContractNumbersAndDirection(t *testing.T) {
	forEachStorage(t, func(t *testing.T, s hpo.Storage) {
		if err := s.SetDirection(hpo.Maximize); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDirection(hpo.Maximize); err != nil {
			t.Fatalf("the same direction again: %v", err)
		}
		if err := s.SetDirection(hpo.Minimize); err == nil {
			t.Fatal("the other direction was accepted")
		}
		if err := s.SetDirection("SIDEWAYS"); err == nil {
			t.Fatal("an unknown direction was accepted")
		}
		for i := 0; i < 3; i++ {
			tr := mustCreate(t, s, 0)
			if tr.Number != i || tr.State != hpo.Running || tr.DatetimeStart.IsZero() || !math.IsNaN(tr.Value) {
				t.Fatalf("trial %d: got number %d, state %s, start %v, value %v", i, tr.Number, tr.State, tr.DatetimeStart, tr.Value)
			}
		}
		if _, err := s.Trial(7); err == nil {
			t.Fatal("Trial(7) of 3 trials did not fail")
		}
		checkNumbers(t, mustTrials(t, s))
	})
}

func TestContractRecordsATrial(t *testing.T) {
	forEachStorage(t, func(t *testing.T, s hpo.Storage) {
		tr := mustCreate(t, s, 0)
		n := tr.Number
		x := hpo.FloatDistribution(1e-4, 0.1, true, 0)
		k := hpo.IntDistribution(1, 9, false, 2)
		c := hpo.CategoricalDistribution("adam", "sgd", "rmsprop")
		for _, err := range []error{
			s.SetParam(n, "lr", x, 0.0123456789),
			s.SetParam(n, "layers", k, 5),
			s.SetParam(n, "optimizer", c, 2),
			s.Report(n, 0, 0.75),
			s.Report(n, 1, 0.5),
			s.Report(n, 1, 99), // a second report at a step is ignored
			s.Report(n, 2, math.Inf(1)),
			s.Report(n, 3, math.NaN()),
			s.SetSystemAttr(n, "hpo:worker", 3),
			s.SetSystemAttr(n, "rung", 1),
			s.SetSystemAttr(n, "rung", 2),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetParam(n, "layers", hpo.IntDistribution(1, 10, false, 1), 5); err == nil {
			t.Fatal("a parameter asked again with another distribution was accepted")
		}
		if err := s.Report(n, -1, 0); err == nil {
			t.Fatal("a negative step was accepted")
		}
		if err := s.FinishTrial(n, hpo.Running, 0, ""); err == nil {
			t.Fatal("RUNNING was accepted as a final state")
		}
		if err := s.FinishTrial(n, hpo.Complete, 0.25, ""); err != nil {
			t.Fatal(err)
		}
		got, err := s.Trial(n)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != hpo.Complete || got.Value != 0.25 || got.DatetimeComplete.Before(got.DatetimeStart) {
			t.Fatalf("finished trial: state %s value %v start %v complete %v", got.State, got.Value, got.DatetimeStart, got.DatetimeComplete)
		}
		wantParams := map[string]float64{"lr": 0.0123456789, "layers": 5, "optimizer": 2}
		if !reflect.DeepEqual(got.Params, wantParams) {
			t.Errorf("params %v, want %v", got.Params, wantParams)
		}
		for name, d := range map[string]hpo.Distribution{"lr": x, "layers": k, "optimizer": c} {
			if !got.Distributions[name].Equal(d) {
				t.Errorf("distribution of %s: %v, want %v", name, got.Distributions[name], d)
			}
		}
		if p, _ := got.Param("optimizer"); p != "rmsprop" {
			t.Errorf("optimizer = %v, want rmsprop", p)
		}
		if len(got.Intermediate) != 4 || got.Intermediate[0] != 0.75 || got.Intermediate[1] != 0.5 ||
			!math.IsInf(got.Intermediate[2], 1) || !math.IsNaN(got.Intermediate[3]) {
			t.Errorf("intermediate values %v, want 0.75, 0.5, +Inf, NaN", got.Intermediate)
		}
		if got.SystemAttrs["hpo:worker"] != 3 || got.SystemAttrs["rung"] != 2 {
			t.Errorf("system attributes %v", got.SystemAttrs)
		}
		// A finished trial takes no more writes.
		for name, err := range map[string]error{
			"SetParam":      s.SetParam(n, "late", x, 0.01),
			"Report":        s.Report(n, 9, 1),
			"SetSystemAttr": s.SetSystemAttr(n, "late", 1),
			"FinishTrial":   s.FinishTrial(n, hpo.Failed, math.NaN(), "twice"),
		} {
			if err == nil {
				t.Errorf("%s on a finished trial was accepted", name)
			} else if _, pg := s.(*Storage); pg && !errors.Is(err, hpo.ErrTrialNotRunning) {
				t.Errorf("%s on a finished trial: %v does not wrap hpo.ErrTrialNotRunning", name, err)
			}
		}
		if again, _ := s.Trial(n); !reflect.DeepEqual(again.Params, wantParams) || again.State != hpo.Complete {
			t.Errorf("late writes changed the trial: %+v", again)
		}
	})
}

func TestContractFinalStates(t *testing.T) {
	forEachStorage(t, func(t *testing.T, s hpo.Storage) {
		pruned, failed, inf := mustCreate(t, s, 0), mustCreate(t, s, 0), mustCreate(t, s, 0)
		s.Report(pruned.Number, 4, 0.125)
		if err := s.FinishTrial(pruned.Number, hpo.Pruned, 0.125, ""); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTrial(failed.Number, hpo.Failed, 7, "objective returned NaN"); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTrial(inf.Number, hpo.Complete, math.Inf(-1), ""); err != nil {
			t.Fatal(err)
		}
		ts := mustTrials(t, s)
		if ts[0].State != hpo.Pruned || ts[0].Value != 0.125 {
			t.Errorf("pruned trial: %s %v", ts[0].State, ts[0].Value)
		}
		if ts[1].State != hpo.Failed || !math.IsNaN(ts[1].Value) || ts[1].FailReason != "objective returned NaN" {
			t.Errorf("failed trial: %s %v %q", ts[1].State, ts[1].Value, ts[1].FailReason)
		}
		if ts[2].State != hpo.Complete || !math.IsInf(ts[2].Value, -1) {
			t.Errorf("complete trial: %s %v", ts[2].State, ts[2].Value)
		}
	})
}

func TestContractTarget(t *testing.T) {
	forEachStorage(t, func(t *testing.T, s hpo.Storage) {
		a, b := mustCreate(t, s, 2), mustCreate(t, s, 2)
		if _, err := s.CreateTrial(2); !errors.Is(err, hpo.ErrMaxTrials) {
			t.Fatalf("third trial under a target of 2: %v, want ErrMaxTrials", err)
		}
		// Failed trials do not count; complete and pruned ones do.
		s.FinishTrial(a.Number, hpo.Failed, math.NaN(), "boom")
		c := mustCreate(t, s, 2)
		s.FinishTrial(b.Number, hpo.Complete, 1, "")
		s.FinishTrial(c.Number, hpo.Pruned, math.NaN(), "")
		if _, err := s.CreateTrial(2); !errors.Is(err, hpo.ErrMaxTrials) {
			t.Fatalf("after one complete and one pruned trial: %v, want ErrMaxTrials", err)
		}
		if tr := mustCreate(t, s, 0); tr.Number != 3 {
			t.Fatalf("without a target the next trial is %d, want 3", tr.Number)
		}
	})
}

func TestContractEnqueue(t *testing.T) {
	forEachStorage(t, func(t *testing.T, s hpo.Storage) {
		fixed := map[string]any{"x": 0.5, "n": 3, "act": "relu"}
		n, added, err := s.EnqueueTrial(fixed, false)
		if err != nil || !added || n != 0 {
			t.Fatalf("enqueue: %d %v %v", n, added, err)
		}
		// The same parameters again: skipped while the first waits.
		if n2, added, err := s.EnqueueTrial(map[string]any{"x": 0.5, "n": 3.0, "act": "relu"}, true); err != nil || added || n2 != 0 {
			t.Fatalf("enqueue again with skipIfExists: %d %v %v, want 0 false", n2, added, err)
		}
		waiting, _ := s.Trial(0)
		if waiting.State != hpo.Waiting || !sameFixed(waiting.FixedParams, fixed) {
			t.Fatalf("enqueued trial: %s %v", waiting.State, waiting.FixedParams)
		}
		tr := mustCreate(t, s, 0)
		if tr.Number != 0 || tr.State != hpo.Running || !sameFixed(tr.FixedParams, fixed) {
			t.Fatalf("CreateTrial started %d (%s, fixed %v), want the enqueued trial 0", tr.Number, tr.State, tr.FixedParams)
		}
		if next := mustCreate(t, s, 0); next.Number != 1 || next.FixedParams != nil {
			t.Fatalf("then %d (fixed %v), want a new trial 1", next.Number, next.FixedParams)
		}
		// Failed, the trial no longer stands for its parameters; complete, it does.
		s.FinishTrial(0, hpo.Failed, math.NaN(), "killed")
		n, added, err = s.EnqueueTrial(fixed, true)
		if err != nil || !added || n != 2 {
			t.Fatalf("enqueue after the failure: %d %v %v, want trial 2 added", n, added, err)
		}
		mustCreate(t, s, 0) // starts 2
		d := hpo.FloatDistribution(0, 1, false, 0)
		s.SetParam(2, "x", d, 0.5)
		s.SetParam(2, "n", hpo.IntDistribution(1, 5, false, 1), 3)
		s.SetParam(2, "act", hpo.CategoricalDistribution("relu", "tanh"), 0)
		s.FinishTrial(2, hpo.Complete, 1, "")
		if n, added, err := s.EnqueueTrial(fixed, true); err != nil || added || n != 2 {
			t.Fatalf("enqueue after it completed: %d %v %v, want trial 2, not added", n, added, err)
		}
	})
}

// sameFixed compares enqueued parameters as the objective reads them (numbers by value).
func sameFixed(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		fa, oka := toFloat(va)
		fb, okb := toFloat(vb)
		if oka != okb || (oka && fa != fb) || (!oka && va != vb) {
			return false
		}
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// Worker indices: the lowest index no live worker holds, released by Close.
func TestRegisterWorkerLowestFree(t *testing.T) {
	url := pgtest.Database(t)
	a, b := openTest(t, url, "w"), openTest(t, url, "w")
	ka, _ := a.RegisterWorker()
	kb, _ := b.RegisterWorker()
	ka2, _ := a.RegisterWorker() // a second study on the same storage is another worker
	if ka != 0 || kb != 1 || ka2 != 2 {
		t.Fatalf("indices %d %d %d, want 0 1 2", ka, kb, ka2)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c := openTest(t, url, "w")
	if kc, err := c.RegisterWorker(); err != nil || kc != 1 {
		t.Fatalf("after worker 1 closed, the next index is %d (%v), want 1", kc, err)
	}
	// Another study's workers are counted apart.
	if k, _ := openTest(t, url, "other").RegisterWorker(); k != 0 {
		t.Fatalf("first worker of another study: %d, want 0", k)
	}
}

// A lease that is not renewed (a worker killed without Close) expires after the grace.
func TestRegisterWorkerReusesAnExpiredLease(t *testing.T) {
	url := pgtest.Database(t)
	a := openTest(t, url, "w", WithHeartbeat(100e6, 300e6))
	if k, _ := a.RegisterWorker(); k != 0 {
		t.Fatalf("first index %d", k)
	}
	a.paused.Store(true) // as if killed: no more renewals
	b := openTest(t, url, "w", WithHeartbeat(100e6, 300e6))
	if k, _ := b.RegisterWorker(); k != 1 {
		t.Fatalf("while 0 is live: %d, want 1", k)
	}
	waitFor(t, 3e9, func() bool {
		c := openTest(t, url, "w", WithHeartbeat(100e6, 300e6))
		k, err := c.RegisterWorker()
		c.Close()
		return err == nil && k == 0
	})
}

func TestOpenRefusesBadInput(t *testing.T) {
	url := pgtest.Database(t)
	if _, err := Open(t.Context(), url, ""); err == nil {
		t.Error("an empty study name was accepted")
	}
	_, err := Open(t.Context(), "postgresql://u:secret@127.0.0.1:1/x?connect_timeout=1", "s", WithRetry(1, 0), WithLog(testLog{t}))
	if err == nil {
		t.Fatal("opened a server that is not there")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	t.Logf("no server: %v", err)
	// The SQLAlchemy spelling that Optuna needs (postgresql+psycopg2://) is accepted.
	s := openTest(t, strings.Replace(url, "postgresql://", "postgresql+psycopg2://", 1), "s")
	if s.StudyName() != "s" || s.StudyID() <= 0 {
		t.Errorf("study %q id %d", s.StudyName(), s.StudyID())
	}
}

// A storage that reads the study again and again (its cache of finished trials, its
// watermark) sees what a fresh storage sees while another worker creates, enqueues and
// finishes trials out of order around a trial that stays running.
func TestTrialsFollowOtherWorkers(t *testing.T) {
	url := pgtest.Database(t)
	reader, writer := openTest(t, url, "r"), openTest(t, url, "r")
	summary := func(ts []hpo.FrozenTrial) string {
		var b strings.Builder
		for _, tr := range ts {
			fmt.Fprintf(&b, "%d:%s:%v:%d ", tr.Number, tr.State, tr.Value, len(tr.Intermediate))
		}
		return b.String()
	}
	check := func(step int) {
		t.Helper()
		fresh := openTest(t, url, "r")
		if got, want := summary(mustTrials(t, reader)), summary(mustTrials(t, fresh)); got != want {
			t.Fatalf("step %d: the reader sees\n%s\na fresh storage\n%s", step, got, want)
		}
		fresh.Close()
	}
	long, _ := writer.CreateTrial(0) // stays running until the end
	var open []int
	for step := 0; step < 12; step++ {
		switch step % 4 {
		case 0, 1:
			tr, _ := writer.CreateTrial(0)
			open = append(open, tr.Number)
		case 2:
			writer.EnqueueTrial(map[string]any{"x": float64(step)}, false)
		case 3:
			// Finish the newest open trial first, then the older one next time round.
			n := open[len(open)-1]
			open = open[:len(open)-1]
			writer.Report(n, 0, float64(step))
			writer.FinishTrial(n, hpo.Complete, float64(step), "")
		}
		check(step)
	}
	for _, n := range append(open, long.Number) {
		writer.FinishTrial(n, hpo.Pruned, 1, "")
	}
	for {
		tr, err := writer.CreateTrial(0)
		if err != nil || tr.FixedParams == nil {
			writer.FinishTrial(tr.Number, hpo.Failed, math.NaN(), "")
			break
		}
		writer.FinishTrial(tr.Number, hpo.Complete, 0, "")
	}
	check(99)
	if reader.watermark == 0 {
		t.Error("the reader's watermark never moved")
	}
}
