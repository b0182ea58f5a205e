package nn

import (
	"errors"
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
)

// fakeTrial prunes from epoch pruneAt on, and records what it was told.
type fakeTrial struct {
	pruneAt int
	steps   []int
	values  []float64
	failAt  int
}

func (f *fakeTrial) Report(step int, value float64) error {
	if step == f.failAt {
		return errors.New("storage down")
	}
	f.steps, f.values = append(f.steps, step), append(f.values, value)
	return nil
}

func (f *fakeTrial) ShouldPrune() bool { return f.pruneAt > 0 && len(f.steps) >= f.pruneAt }

func TestPruneWith(t *testing.T) {
	spec, hp := smallRegression()
	train := func(r Reporter) (*History, error) {
		m, err := New(backend.Go().Backend, spec, 1)
		if err != nil {
			t.Fatal(err)
		}
		return Fit(m, wave(16), wave(5), hp, Options{Progress: ProgressOff,
			Callbacks: []Callback{PruneWith(r, func(s EpochStats) float64 { return s.ValLoss })}})
	}
	f := &fakeTrial{pruneAt: 2}
	h, err := train(f)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Pruned || !h.Stopped || len(h.Epochs) != 2 || len(f.steps) != 2 || f.steps[1] != 2 || f.values[1] != h.Last().ValLoss {
		t.Errorf("pruned at 2: history %+v, reported steps %v values %v", h, f.steps, f.values)
	}
	f = &fakeTrial{}
	if h, err = train(f); err != nil || h.Pruned || h.Stopped || len(f.steps) != hp.Epochs {
		t.Errorf("never pruned: %v, history %+v, steps %v", err, h, f.steps)
	}
	if _, err = train(&fakeTrial{failAt: 1}); err == nil {
		t.Error("a failing Report did not fail Fit")
	}
	// A plain ErrStop is a stop, not a prune.
	m, _ := New(backend.Go().Backend, spec, 1)
	h, err = Fit(m, wave(16), nil, hp, Options{Progress: ProgressOff,
		Callbacks: []Callback{func(*Model, EpochStats) error { return ErrStop }}})
	if err != nil || !h.Stopped || h.Pruned {
		t.Errorf("ErrStop: %v, history %+v", err, h)
	}
}
