package samplers

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/nprand"
)

// streamsGolden is testdata/optuna_streams.json (see optuna_streams.py).
type streamsGolden struct {
	Optuna, Numpy string
	Streams       struct {
		Uniform []struct {
			Seed      uint64
			First     []float64
			After1005 []float64
		}
		Randint []struct {
			N     int
			Draws []int
		}
		Choice []struct {
			Seed  uint64
			P     []float64
			Draws []int
		}
		Argsort []struct {
			V     []*float64
			Order []int
		}
	}
	Studies []struct {
		Sampler, Objective string
		Seed               uint64
		Trials             []struct {
			State  string
			Params map[string]float64
			Value  *float64
			Tie    *string
		}
	}
}

func loadStreams(t *testing.T) *streamsGolden {
	t.Helper()
	raw, err := os.ReadFile("../testdata/optuna_streams.json")
	if err != nil {
		t.Fatal(err)
	}
	var g streamsGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestNumpyStream checks the generator word for word against NumPy's RandomState: doubles,
// bounded integers and weighted choices.
func TestNumpyStream(t *testing.T) {
	g := loadStreams(t)
	for _, c := range g.Streams.Uniform {
		r := nprand.New(c.Seed)
		for i, want := range c.First {
			if got := r.Float64(); got != want {
				t.Fatalf("seed %d draw %d: %v, NumPy %v", c.Seed, i, got, want)
			}
		}
		if len(c.After1005) > 0 {
			for i := 0; i < 1000; i++ {
				r.Float64()
			}
			for i, want := range c.After1005 {
				if got := r.Float64(); got != want {
					t.Fatalf("seed %d draw %d: %v, NumPy %v", c.Seed, 1005+i, got, want)
				}
			}
		}
	}
	r := nprand.New(7)
	for _, c := range g.Streams.Randint {
		for i, want := range c.Draws {
			if got := r.IntN(c.N); got != want {
				t.Fatalf("randint(0, %d) draw %d: %d, NumPy %d", c.N, i, got, want)
			}
		}
	}
	for _, c := range g.Streams.Choice {
		got := nprand.New(c.Seed).ChoiceP(c.P, len(c.Draws))
		for i := range got {
			if got[i] != c.Draws[i] {
				t.Fatalf("choice over %d weights, draw %d: %d, NumPy %d", len(c.P), i, got[i], c.Draws[i])
			}
		}
	}
}

// TestArgsortNumPy checks that ties (and NaNs) come out in NumPy's order, on arrays short enough
// for insertion sort only and long enough for several partitions.
func TestArgsortNumPy(t *testing.T) {
	g := loadStreams(t)
	for n, c := range g.Streams.Argsort {
		v := make([]float64, len(c.V))
		for i, x := range c.V {
			v[i] = math.NaN()
			if x != nil {
				v[i] = *x
			}
		}
		got := argsortNumPy(v)
		for i := range got {
			if got[i] != c.Order[i] {
				t.Fatalf("case %d (%d values): order %v, NumPy %v", n, len(v), got, c.Order)
			}
		}
	}
}

// The objectives of optuna_streams.py, written to round as Python does.
func parityBranin(t *hpo.Trial) (float64, error) {
	x1, err := t.SuggestFloat("x1", -5, 10)
	if err != nil {
		return 0, err
	}
	x2, err := t.SuggestFloat("x2", 0, 15)
	if err != nil {
		return 0, err
	}
	b := 5.1 / (4 * (math.Pi * math.Pi))
	c := 5 / math.Pi
	r := 1 / (8 * math.Pi)
	d := x2 - b*(x1*x1) + c*x1 - 6
	return d*d + 10*(1-r)*math.Cos(x1) + 10, nil
}

func parityKinds(t *hpo.Trial) (float64, error) {
	lr, err1 := t.SuggestFloat("lr", 1e-5, 1, hpo.Log())
	layers, err2 := t.SuggestInt("layers", 1, 6)
	width, err3 := t.SuggestInt("width", 8, 512, hpo.Log())
	drop, err4 := t.SuggestFloat("drop", 0, 0.5, hpo.Step(0.05))
	batch, err5 := t.SuggestInt("batch", 16, 128, hpo.Step(16))
	fixed, err6 := t.SuggestInt("fixed", 3, 3)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return 0, err
	}
	sq := func(x float64) float64 { return x * x }
	v := sq(math.Log10(lr)+2.5) + 0.3*sq(float64(layers-3)) + sq(math.Log2(float64(width))-6)/4
	v += 3*sq(drop-0.2) + sq(float64(batch-64)/64) + float64(fixed)*0.01
	if layers > 2 {
		m, err := t.SuggestFloat("momentum", 0, 0.99)
		if err != nil {
			return 0, err
		}
		v += sq(m - 0.9)
	}
	return v, nil
}

func parityCat(t *hpo.Trial) (float64, error) {
	opt, err := t.SuggestCategorical("opt", []string{"sgd", "adam", "rmsprop", "adagrad"})
	if err != nil {
		return 0, err
	}
	v := map[string]float64{"sgd": 0.3, "adam": 0, "rmsprop": 0.5, "adagrad": 0.8}[opt]
	if opt == "sgd" || opt == "adam" {
		act, err := t.SuggestCategorical("act", []string{"relu", "tanh", "gelu"})
		if err != nil {
			return 0, err
		}
		v += map[string]float64{"relu": 0, "tanh": 0.4, "gelu": 0.1}[act]
	}
	x, err := t.SuggestFloat("x", -2, 2)
	if err != nil {
		return 0, err
	}
	return v + (x-0.5)*(x-0.5), nil
}

func parityPruned(t *hpo.Trial) (float64, error) {
	x, err := t.SuggestFloat("x", 0, 1)
	if err != nil {
		return 0, err
	}
	y, err := t.SuggestInt("y", -3, 3)
	if err != nil {
		return 0, err
	}
	score := 1.0 - (x-0.7)*(x-0.7) - 0.05*math.Abs(float64(y-1))
	steps := 1 + int(10*x)%4
	for step := 0; step < steps; step++ {
		if err := t.Report(step, score*float64(step+1)/float64(steps)); err != nil {
			return 0, err
		}
	}
	if x < 0.05 {
		return math.NaN(), nil
	}
	if (int(x*1000)+y)%3 == 0 {
		return 0, hpo.ErrPruned
	}
	return score, nil
}

// TestSamplersMatchOptuna runs the studies of testdata/optuna_streams.json with the same seeds
// and checks every trial's parameters, state and value against Optuna's: the samplers draw the
// same numbers and make the same choices, so a seeded study here is the seeded study there.
// Floats may differ in the last bits (libm and NumPy round some functions differently from Go's
// math), hence the 1e-9 relative tolerance. A study is compared up to the first trial where
// Optuna's choice between candidates was a near tie (see optuna_streams.py): past it, rounding
// decides, and Optuna's own result there depends on its BLAS.
func TestSamplersMatchOptuna(t *testing.T) {
	g := loadStreams(t)
	objectives := map[string]hpo.Objective{"branin": parityBranin, "kinds": parityKinds, "cat": parityCat, "pruned": parityPruned}
	directions := map[string]hpo.Direction{"branin": hpo.Minimize, "kinds": hpo.Minimize, "cat": hpo.Minimize, "pruned": hpo.Maximize}
	compared := 0
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	for _, c := range g.Studies {
		var smp hpo.Sampler
		switch c.Sampler {
		case "tpe":
			smp = NewTPE(WithSeed(c.Seed))
		case "random":
			smp = hpo.NewRandomSampler(c.Seed)
		default:
			t.Fatalf("golden study with unknown sampler %q", c.Sampler)
		}
		if objectives[c.Objective] == nil {
			t.Fatalf("golden study with unknown objective %q", c.Objective)
		}
		study, err := hpo.NewStudy(hpo.WithSampler(smp), hpo.WithPruner(hpo.NopPruner{}), hpo.WithDirection(directions[c.Objective]))
		if err != nil {
			t.Fatal(err)
		}
		if err := study.Optimize(context.Background(), objectives[c.Objective], hpo.NTrials(len(c.Trials))); err != nil {
			t.Fatal(err)
		}
		trials, err := study.Trials()
		if err != nil {
			t.Fatal(err)
		}
		name := c.Sampler + "/" + c.Objective
		if len(trials) != len(c.Trials) {
			t.Fatalf("%s seed %d: %d trials, Optuna %d", name, c.Seed, len(trials), len(c.Trials))
		}
		for i, want := range c.Trials {
			if want.Tie != nil {
				t.Logf("%s seed %d: compared up to trial %d, where Optuna's %q was a near tie", name, c.Seed, i, *want.Tie)
				break
			}
			compared++
			got := trials[i]
			if len(got.Params) != len(want.Params) {
				t.Fatalf("%s seed %d trial %d: params %v, Optuna %v", name, c.Seed, i, got.Params, want.Params)
			}
			for p, w := range want.Params {
				if v, ok := got.Params[p]; !ok || !close(v, w) {
					t.Fatalf("%s seed %d trial %d: %s = %v, Optuna %v (all: %v, Optuna %v)",
						name, c.Seed, i, p, v, w, got.Params, want.Params)
				}
			}
			if state := map[hpo.TrialState]string{hpo.Complete: "COMPLETE", hpo.Pruned: "PRUNED", hpo.Failed: "FAIL"}[got.State]; state != want.State {
				t.Fatalf("%s seed %d trial %d: state %s, Optuna %s", name, c.Seed, i, state, want.State)
			}
			if want.Value != nil && !close(got.Value, *want.Value) {
				t.Fatalf("%s seed %d trial %d: value %v, Optuna %v", name, c.Seed, i, got.Value, *want.Value)
			}
		}
	}
	// Guard against golden data whose studies all end in early ties.
	if compared < 500 {
		t.Fatalf("only %d trials compared", compared)
	}
}
