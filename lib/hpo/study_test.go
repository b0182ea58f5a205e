package hpo

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mixedObjective uses every kind of parameter, a conditional branch and intermediate values.
func mixedObjective(t *Trial) (float64, error) {
	kind, err := t.SuggestCategorical("kind", []string{"a", "b"})
	if err != nil {
		return 0, err
	}
	x, err := t.SuggestFloat("x", -3, 3)
	if err != nil {
		return 0, err
	}
	lr, err := t.SuggestFloat("lr", 1e-4, 1, Log())
	if err != nil {
		return 0, err
	}
	units, err := t.SuggestInt("units", 4, 64, Step(4))
	if err != nil {
		return 0, err
	}
	v := x*x + math.Pow(math.Log10(lr)+2, 2) + math.Abs(float64(units-32))/32
	if kind == "b" {
		depth, err := t.SuggestInt("depth", 1, 128, Log())
		if err != nil {
			return 0, err
		}
		v += math.Abs(math.Log2(float64(depth)) - 3)
	}
	for step := 0; step < 5; step++ {
		if err := t.Report(step, v+1/float64(step+1)); err != nil {
			return 0, err
		}
		if t.ShouldPrune() {
			return 0, ErrPruned
		}
	}
	return v, nil
}

func paramsOf(t *testing.T, s *Study) []map[string]any {
	t.Helper()
	trials, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, tr := range trials {
		out = append(out, tr.ExternalParams())
	}
	return out
}

func TestFailedTrialsAreRecordedAndStudyGoesOn(t *testing.T) {
	s, err := NewStudy(WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	obj := func(tr *Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", 0, 1)
		if err != nil {
			return 0, err
		}
		switch tr.Number() % 4 {
		case 1:
			return 0, errors.New("diverged")
		case 2:
			return math.NaN(), nil
		case 3:
			var m map[string]int
			m["boom"]++ // panics
		}
		return x, nil
	}
	if err := s.Optimize(context.Background(), obj, NTrials(12)); err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials()
	if len(trials) != 12 {
		t.Fatalf("%d trials, want 12", len(trials))
	}
	for _, tr := range trials {
		want := map[int]string{0: "", 1: "diverged", 2: "NaN", 3: "panicked"}[tr.Number%4]
		if want == "" {
			if tr.State != Complete {
				t.Fatalf("trial %d: %s, want COMPLETE", tr.Number, tr.State)
			}
			continue
		}
		if tr.State != Failed || !strings.Contains(tr.FailReason, want) {
			t.Fatalf("trial %d: %s %q, want FAIL mentioning %q", tr.Number, tr.State, tr.FailReason, want)
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Finished != 12 || st.Complete != 3 || st.Failed != 9 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEnqueueAskTellAndBest(t *testing.T) {
	s, err := NewStudy(WithDirection(Maximize), WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueTrial(map[string]any{"x": 0.25, "n": 3, "c": "q"}); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Ask()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := tr.SuggestFloat("x", 0, 1)
	n, _ := tr.SuggestInt("n", 1, 5)
	c, _ := tr.SuggestCategorical("c", []string{"p", "q"})
	y, _ := tr.SuggestFloat("y", 0, 1) // not enqueued: sampled
	if x != 0.25 || n != 3 || c != "q" || y < 0 || y > 1 {
		t.Fatalf("enqueued trial got x=%v n=%v c=%v y=%v", x, n, c, y)
	}
	if again, _ := tr.SuggestFloat("x", 0, 1); again != x {
		t.Fatalf("asking twice gave %v then %v", x, again)
	}
	if _, err := tr.SuggestFloat("x", 0, 2); err == nil {
		t.Fatal("asking again with another range must fail")
	}
	if _, err := s.Tell(tr, 10, nil); err != nil {
		t.Fatal(err)
	}
	tr2, _ := s.Ask()
	tr2.SuggestFloat("x", 0, 1)
	tr2.Report(0, 20)
	if _, err := s.Tell(tr2, 0, fmt.Errorf("stop: %w", ErrPruned)); err != nil {
		t.Fatal(err)
	}
	tr3, _ := s.Ask()
	tr3.SuggestFloat("x", 0, 1)
	s.Tell(tr3, 5, nil)
	best, err := s.BestTrial()
	if err != nil {
		t.Fatal(err)
	}
	// The pruned trial's value (its last report, 20) must not count as best.
	if best.Number != 0 || best.Value != 10 {
		t.Fatalf("best is trial %d value %v, want trial 0 value 10", best.Number, best.Value)
	}
	pruned, _ := s.Storage().Trial(1)
	if pruned.State != Pruned || pruned.Value != 20 {
		t.Fatalf("pruned trial: %s value %v, want PRUNED 20 (last intermediate, as Optuna)", pruned.State, pruned.Value)
	}
	bp, _ := s.BestParams()
	if bp["c"] != "q" || bp["n"] != 3 {
		t.Fatalf("best params %v", bp)
	}
}

func TestSuggestRejectsBadRanges(t *testing.T) {
	s, _ := NewStudy()
	tr, _ := s.Ask()
	cases := []func() error{
		func() error { _, err := tr.SuggestFloat("a", 2, 1); return err },
		func() error { _, err := tr.SuggestFloat("b", 0, 1, Log()); return err },
		func() error { _, err := tr.SuggestFloat("c", 1, 2, Log(), Step(0.1)); return err },
		func() error { _, err := tr.SuggestInt("d", 1, 10, Step(0.5)); return err },
		func() error { _, err := tr.SuggestCategorical("e", nil); return err },
		func() error { _, err := SuggestChoice(tr, "f", []any{1, "1"}); return err },
		func() error { _, err := tr.SuggestFloat("g", math.NaN(), 1); return err },
	}
	for i, c := range cases {
		if c() == nil {
			t.Fatalf("case %d: bad range accepted", i)
		}
	}
	// Optuna moves a high that is off the step grid down onto it.
	v, err := tr.SuggestInt("h", 0, 10, Step(3))
	if err != nil || v%3 != 0 || v > 9 {
		t.Fatalf("stepped int %v, %v", v, err)
	}
	k, err := SuggestChoice(tr, "k", []int{16, 32, 64})
	if err != nil || (k != 16 && k != 32 && k != 64) {
		t.Fatalf("SuggestChoice gave %v, %v", k, err)
	}
}

func TestReportsAndPlainValues(t *testing.T) {
	s, _ := NewStudy(WithSeed(4), WithName("demo"))
	if err := s.Optimize(context.Background(), mixedObjective, NTrials(25)); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats()
	var text, js, csvBuf bytes.Buffer
	st.WriteText(&text)
	if !strings.Contains(text.String(), fmt.Sprintf("Number of finished trials: %d", st.Finished)) ||
		!strings.Contains(text.String(), "Best value:") {
		t.Fatalf("text stats:\n%s", text.String())
	}
	if err := st.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"n_pruned"`) {
		t.Fatalf("json stats %v:\n%s", err, js.String())
	}
	trials, _ := s.Trials()
	if err := WriteTrialsCSV(&csvBuf, trials); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&csvBuf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"number", "value", "datetime_start", "datetime_complete", "duration",
		"params_depth", "params_kind", "params_lr", "params_units", "params_x", "state"}
	if !reflect.DeepEqual(rows[0], want) || len(rows) != 26 {
		t.Fatalf("csv header %v with %d rows", rows[0], len(rows))
	}
	for i, tr := range trials {
		steps, values := tr.IntermediateValues()
		if len(steps) != len(tr.Intermediate) || len(values) != len(steps) || tr.LabelParams()["kind"] == "" || len(tr.NumericParams()) < 3 {
			t.Fatalf("plain values of trial %d: %v %v %v %v", i, steps, values, tr.LabelParams(), tr.NumericParams())
		}
		if _, ok := tr.NumericParams()["kind"]; ok {
			t.Fatalf("trial %d: the categorical kind among the numeric parameters", i)
		}
	}
	dir := t.TempDir()
	if err := s.WriteReports(dir, "demo_"); err != nil {
		t.Fatal(err)
	}
}

func TestParamImportancesFindTheParameterThatMatters(t *testing.T) {
	s, _ := NewStudy(WithSampler(NewRandomSampler(9)))
	obj := func(tr *Trial) (float64, error) {
		a, _ := tr.SuggestFloat("a", 0, 1)
		b, _ := tr.SuggestFloat("b", 0, 1)
		c, err := tr.SuggestCategorical("c", []string{"x", "y"})
		if c == "y" {
			tr.SuggestFloat("only_y", 0, 1) // conditional: left out, as Optuna
		}
		return 10*a + 0.1*b, err
	}
	if err := s.Optimize(context.Background(), obj, NTrials(60)); err != nil {
		t.Fatal(err)
	}
	for _, mdi := range []bool{false, true} {
		imp, err := s.ParamImportances(ImportanceOptions{MeanDecreaseImpurity: mdi})
		if err != nil {
			t.Fatal(err)
		}
		if len(imp) != 3 || imp[0].Name != "a" || imp[0].Importance < 0.8 {
			t.Fatalf("mdi=%v: importances %+v, want a first and dominant, only_y left out", mdi, imp)
		}
	}
}

func TestWithSeedAndWithSamplerRefused(t *testing.T) {
	_, err := NewStudy(WithSeed(1), WithSampler(NewRandomSampler(1)))
	if err == nil || !strings.Contains(err.Error(), "WithSeed has no effect with WithSampler") {
		t.Fatalf("NewStudy(WithSeed, WithSampler) = %v, want the refusal", err)
	}
}

func TestOptimizeCallbacksAndCatch(t *testing.T) {
	s, err := NewStudy(WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	stopAt := func(s *Study, ft FrozenTrial) {
		seen = append(seen, ft.Number)
		if ft.DatetimeStart.IsZero() || ft.DatetimeComplete.Before(ft.DatetimeStart) {
			t.Errorf("trial %d: start %v complete %v", ft.Number, ft.DatetimeStart, ft.DatetimeComplete)
		}
		if ft.Number == 3 {
			s.Stop()
		}
	}
	boom := errors.New("boom")
	obj := func(tr *Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", 0, 1)
		if tr.Number() == 1 {
			return 0, boom
		}
		return x, err
	}
	if err := s.Optimize(context.Background(), obj, NTrials(10), Callbacks(stopAt)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, []int{0, 1, 2, 3}) {
		t.Fatalf("callbacks saw %v, want trials 0..3 (Stop after 3)", seen)
	}
	// Catch refusing the error ends Optimize with it, the trial recorded as FAIL.
	obj2 := func(tr *Trial) (float64, error) { return 0, boom }
	err = s.Optimize(context.Background(), obj2, NTrials(5), Catch(func(err error) bool { return !errors.Is(err, boom) }))
	if !errors.Is(err, boom) {
		t.Fatalf("Optimize with Catch = %v, want boom", err)
	}
	trials, _ := s.Trials()
	if len(trials) != 5 || trials[4].State != Failed {
		t.Fatalf("got %d trials, last %s; want 5, the last FAIL", len(trials), trials[len(trials)-1].State)
	}
}

// TestCloneOwnsItsMaps: a clone equals its trial, writing to the clone's
// maps leaves the trial as it was, and a trial without maps gives a clone
// whose maps can be written (FixedParams aside, which stays absent).
func TestCloneOwnsItsMaps(t *testing.T) {
	tr := NewFrozenTrial(3, Complete, map[string]any{"lr": 0.1}, time.Unix(0, 0))
	tr.Value = 0.25
	tr.Params["lr"] = 0.1
	tr.Distributions["lr"] = FloatDistribution(0.01, 1, false, 0)
	tr.Intermediate[1] = 0.5
	tr.SystemAttrs["a"] = 1
	c := tr.Clone()
	if !reflect.DeepEqual(c, *tr) {
		t.Fatalf("clone %+v differs from %+v", c, *tr)
	}
	c.Params["lr"], c.Intermediate[1], c.SystemAttrs["a"], c.FixedParams["lr"] = 9, 9, 9, 9
	delete(c.Distributions, "lr")
	if tr.Params["lr"] != 0.1 || tr.Intermediate[1] != 0.5 || tr.SystemAttrs["a"] != 1 || tr.FixedParams["lr"] != 0.1 || len(tr.Distributions) != 1 {
		t.Errorf("writing to the clone changed the trial: %+v", *tr)
	}
	bare := (&FrozenTrial{Number: 1}).Clone()
	bare.Params["x"], bare.Intermediate[0], bare.SystemAttrs["s"] = 1, 1, 1
	bare.Distributions["x"] = FloatDistribution(0, 1, false, 0)
	if bare.FixedParams != nil {
		t.Errorf("a trial without fixed parameters cloned into %v", bare.FixedParams)
	}
}
