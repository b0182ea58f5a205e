package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/dlworkbench/hw1/lib/backend"
)

func TestBucket(t *testing.T) {
	for _, c := range []struct{ n, bits, want int }{
		{64, 3, 64}, {65, 3, 80}, {80, 3, 80}, {81, 3, 96}, {129, 3, 160}, {256, 3, 256}, {65, 2, 96}, {97, 2, 128},
		{5, 1, 8}, {128, 1, 128}, {129, 1, 256}, {3, 1, 4}, {1, 1, 1}, {7, 0, 7}, {7, 3, 7}, {9, 3, 10}, {17, 3, 20},
	} {
		if got := bucket(c.n, c.bits); got != c.want {
			t.Errorf("bucket(%d, %d bits) = %d, want %d", c.n, c.bits, got, c.want)
		}
	}
}

// closeTo says whether a and b agree within float32 rounding accumulated over
// a few steps.
func closeTo(a, b []float64) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d values against %d", len(a), len(b))
	}
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > 2e-5*(1+math.Abs(b[i])) || math.IsNaN(a[i]) != math.IsNaN(b[i]) {
			return fmt.Errorf("value %d: %g against %g", i, a[i], b[i])
		}
	}
	return nil
}

func float64s(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// fitBoth trains two models of spec from one seed, exact shapes and padded,
// and compares their histories, weights and predictions.
func fitBoth(t *testing.T, be *backend.Choice, spec Spec, pad Padding, train, val *Data, hp Hyperparameters) {
	t.Helper()
	var models [2]*Model
	var histories [2]*History
	for i, p := range []Padding{NoPadding, pad} {
		m, err := New(be.Backend, spec, 3)
		if err != nil {
			t.Fatal(err)
		}
		m.Padding = p
		h, err := Fit(m, train, val, hp, Options{Seed: 5, Progress: ProgressOff})
		if err != nil {
			t.Fatal(err)
		}
		models[i], histories[i] = m, h
	}
	for _, get := range []struct {
		what string
		f    func(h *History) []float64
	}{
		{"train losses", func(h *History) []float64 { return lossesOf(h) }},
		{"validation losses", func(h *History) []float64 {
			var out []float64
			for _, e := range h.Epochs {
				out = append(out, e.ValLoss, e.TrainAccuracy, e.ValAccuracy)
			}
			return out
		}},
	} {
		if err := closeTo(get.f(histories[1]), get.f(histories[0])); err != nil {
			t.Errorf("%s, padded against exact: %v", get.what, err)
		}
	}
	exact, err := models[0].Variables()
	if err != nil {
		t.Fatal(err)
	}
	padded, err := models[1].Variables()
	if err != nil {
		t.Fatal(err)
	}
	for i := range exact {
		if !slices.Equal(padded[i].Shape, exact[i].Shape) {
			t.Fatalf("%s: padded model's shape %v, exact %v", exact[i].Name, padded[i].Shape, exact[i].Shape)
		}
		if err := closeTo(padded[i].Values, exact[i].Values); err != nil {
			t.Errorf("%s after training, padded against exact: %v", exact[i].Name, err)
		}
	}
	pe, err := models[0].Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := models[1].Predict(val)
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(pp, pe); err != nil {
		t.Errorf("predictions, padded against exact: %v", err)
	}
	ae, err := models[0].Activations(val)
	if err != nil {
		t.Fatal(err)
	}
	ap, err := models[1].Activations(val)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ae {
		if !slices.Equal(ap[i].Shape, ae[i].Shape) {
			t.Errorf("activations of %s: padded shape %v, exact %v", ae[i].Layer, ap[i].Shape, ae[i].Shape)
			continue
		}
		if err := closeTo(float64s(ap[i].Values), float64s(ae[i].Values)); err != nil {
			t.Errorf("activations of %s, padded against exact: %v", ae[i].Layer, err)
		}
	}
}

// TestPaddedEqualsExact trains an MLP whose hidden widths and batches are
// padded (sigmoid, whose padded units would output 0.5 unmasked; a last batch
// of one example; Adam with weight decay, SGD with momentum, RMSprop) and a
// LeNet5 with padded batches (SGD), each against the same model on exact
// shapes, on every backend: losses, accuracies, weights and predictions agree within
// float32 rounding. Dropout is off: its masks are drawn for the graph's shape.
func TestPaddedEqualsExact(t *testing.T) {
	for _, be := range backendtest.ForTests(t) {
		for _, opt := range []string{OptimizerAdam, OptimizerSGD, OptimizerRMSprop} {
			t.Run(be.ID()+"/mlp/"+opt, func(t *testing.T) {
				spec := MLP([]int{5, 3}, nil, ActivationSigmoid)
				hp := Hyperparameters{Epochs: 3, BatchSize: 4, LearningRate: 0.02, WeightDecay: 1e-3, Optimizer: opt, Momentum: 0.5}
				fitBoth(t, be, spec, Padding{BatchBits: 1, WidthBits: 1}, wave(13), wave(7), hp)
			})
		}
		t.Run(be.ID()+"/lenet5", func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			images := func(n int) *Data {
				d := &Data{shape: []int{28, 28, 1}, pixels: make([]uint8, n*784), labels: make([]int32, n)}
				for i := range d.pixels {
					d.pixels[i] = uint8(rng.IntN(256))
				}
				for i := range d.labels {
					d.labels[i] = int32(rng.IntN(10))
				}
				return d
			}
			// SGD: Adam and RMSprop divide each step by the gradient's
			// running size, so a weight whose gradients are rounding
			// noise (a unit that is off for these random images) moves
			// by a whole step either way, and padded and exact part by
			// more than rounding (seen without GOEXPERIMENT=simd). The
			// MLP cases above run all three optimizers.
			hp := Hyperparameters{Epochs: 2, BatchSize: 5, LearningRate: 0.003, WeightDecay: 1e-4, Optimizer: OptimizerSGD, Momentum: 0.9}
			fitBoth(t, be, LeNet5(0, 0), Padding{BatchBits: 1}, images(12), images(6), hp)
		})
	}
}

// TestPaddingCompilesOnce: with batch buckets, an epoch whose last batch is
// smaller compiles one train graph, not two, and models of widths in one
// bucket share their graphs.
func TestPaddingCompilesOnce(t *testing.T) {
	be := backend.Go()
	hp := Hyperparameters{Epochs: 1, BatchSize: 6, LearningRate: 0.01, Optimizer: OptimizerAdam}
	count := func(hidden int, pad Padding) int {
		m, err := New(be.Backend, MLP([]int{hidden}, nil, ActivationReLU), 1)
		if err != nil {
			t.Fatal(err)
		}
		m.Padding = pad
		before := Compilations()
		if _, err := Fit(m, wave(17), nil, hp, Options{Progress: ProgressOff}); err != nil {
			t.Fatal(err)
		}
		return Compilations().Sub(before).Graphs
	}
	// Widths no other test uses, so that no pooled workspace has run them.
	if n := count(37, NoPadding); n != 2 {
		t.Errorf("exact shapes, batches of 6, 6 and 5: %d train graphs compiled, want 2", n)
	}
	pad := Padding{BatchBits: 3, WidthBits: 1}
	if n := count(41, pad); n != 1 {
		t.Errorf("padded: %d train graphs compiled, want 1", n)
	}
	if n := count(45, pad); n != 0 {
		t.Errorf("width 45 pads to 64 as 41 did: %d graphs compiled, want 0 (shared)", n)
	}
	if got := fmt.Sprint(CompileStats{Graphs: 3, Seconds: 1.25}); got != "compiled 3 graphs in 1.2 s" && got != "compiled 3 graphs in 1.3 s" {
		t.Errorf("CompileStats prints %q", got)
	}
}

func TestDefaultPadding(t *testing.T) {
	for _, be := range backendtest.ForTests(t) {
		want, wantLeNet := Padding{BatchBits: 1, WidthBits: 1}, Padding{BatchBits: 3}
		if be.Name == "go" {
			want, wantLeNet = NoPadding, NoPadding
		}
		if got := DefaultPadding(be.Backend, KindMLP); got != want {
			t.Errorf("%s: DefaultPadding of an MLP %+v, want %+v", be.ID(), got, want)
		}
		if got := DefaultPadding(be.Backend, KindLeNet5); got != wantLeNet {
			t.Errorf("%s: DefaultPadding of LeNet5 %+v, want %+v", be.ID(), got, wantLeNet)
		}
		m, err := New(be.Backend, MLP([]int{4}, nil, ActivationReLU), 1)
		if err != nil {
			t.Fatal(err)
		}
		if m.Padding != want {
			t.Errorf("%s: New gives Padding %+v, want %+v", be.ID(), m.Padding, want)
		}
	}
	if got := fmt.Sprint(CompileStats{Graphs: 1, Seconds: 0.5}); got != "compiled 1 graph in 0.5 s" {
		t.Errorf("CompileStats prints %q", got)
	}
}

func TestPaddingValidate(t *testing.T) {
	m, err := New(backend.Go().Backend, MLP([]int{4}, nil, ActivationReLU), 1)
	if err != nil {
		t.Fatal(err)
	}
	m.Padding = Padding{BatchBits: -1}
	if _, err := Fit(m, wave(8), nil, Hyperparameters{Epochs: 1, BatchSize: 4, LearningRate: 0.01, Optimizer: OptimizerAdam}, Options{Progress: ProgressOff}); err == nil {
		t.Error("Fit accepted batch_bits -1")
	}
}
