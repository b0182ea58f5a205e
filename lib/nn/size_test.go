package nn

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/backend"
)

func TestNumParametersMatchesTheModel(t *testing.T) {
	be := backend.Go()
	for _, spec := range []Spec{MLP([]int{16, 8}, nil, ""), LeNet5(0.5, 0.3)} {
		m, err := New(be.Backend, spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		vars, err := m.Variables()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range vars {
			n += len(v.Values)
		}
		if got := spec.WithDefaults().NumParameters(); got != float64(n) {
			t.Errorf("%s: NumParameters %v, the model has %d", spec.Kind, got, n)
		}
	}
}

// TestHugeSpecRefusedBeforeAllocating: 10^8 units would need petabytes; New
// must say so instead of running out of memory.
func TestHugeSpecRefusedBeforeAllocating(t *testing.T) {
	spec := MLP([]int{100_000_000, 100_000_000, 100_000_000}, nil, "")
	err := spec.Validate()
	if err == nil || !strings.Contains(err.Error(), "nn.MaxTrainingBytes") || !strings.Contains(err.Error(), "hidden [100000000") {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := New(backend.Go().Backend, spec, 1); err == nil {
		t.Fatal("New built a model of 10^16 parameters")
	}
	deep := MLP(make([]int, MaxHiddenLayers+1), nil, "")
	for i := range deep.Hidden {
		deep.Hidden[i] = 1
	}
	if err := deep.Validate(); err == nil || !strings.Contains(err.Error(), "nn.MaxHiddenLayers") {
		t.Errorf("%d layers: %v", len(deep.Hidden), err)
	}
	// The seed's largest model is far below the limit.
	if err := MLP([]int{256, 256, 256}, nil, "").CheckSize(50); err != nil {
		t.Errorf("3x256: %v", err)
	}
}

// TestFitRefusesABatchThatCannotFit: the parameters fit, the activations of
// a batch do not; Fit refuses before training.
func TestFitRefusesABatchThatCannotFit(t *testing.T) {
	spec := MLP([]int{20_000_000}, nil, "")
	if err := spec.CheckSize(1); err != nil {
		t.Fatalf("one example: %v", err)
	}
	if err := spec.CheckSize(500); err == nil || !strings.Contains(err.Error(), "batches of 500") {
		t.Errorf("500 examples: %v", err)
	}
}

func TestEpochsBounded(t *testing.T) {
	_, hp := smallRegression()
	hp.Epochs = 1_000_000_000_000
	if err := hp.Validate(); err == nil || !strings.Contains(err.Error(), "nn.MaxEpochs") {
		t.Errorf("10^12 epochs: %v", err)
	}
	hp.Epochs = MaxEpochs
	if err := hp.Validate(); err != nil {
		t.Errorf("MaxEpochs: %v", err)
	}
}

// TestFitStopsOnItsContext: a cancelled context stops training before the
// next batch, and the error says why.
func TestFitStopsOnItsContext(t *testing.T) {
	spec, hp := smallRegression()
	hp.Epochs = MaxEpochs
	m, err := New(backend.Go().Backend, spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopAt := 3
	cb := func(_ *Model, st EpochStats) error {
		if st.Epoch == stopAt {
			cancel()
		}
		return nil
	}
	h, err := Fit(m, wave(40), wave(11), hp, Options{Seed: 1, Progress: ProgressOff, Context: ctx, Callbacks: []Callback{cb}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: %v", err)
	}
	if len(h.Epochs) != stopAt {
		t.Errorf("trained %d epochs after a cancel at the end of epoch %d", len(h.Epochs), stopAt)
	}
	// A deadline stops it too: 10^5 epochs would take minutes.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	h, err = Fit(m, wave(40), nil, hp, Options{Seed: 1, Progress: ProgressOff, Context: ctx})
	if !errors.Is(err, context.DeadlineExceeded) || len(h.Epochs) >= MaxEpochs {
		t.Errorf("Fit past its deadline: %v after %d epochs", err, len(h.Epochs))
	}
	// Training again works: the model was handed back.
	hp.Epochs = 1
	if _, err := Fit(m, wave(40), nil, hp, Options{Seed: 1, Progress: ProgressOff}); err != nil {
		t.Errorf("Fit after a stop: %v", err)
	}
}
