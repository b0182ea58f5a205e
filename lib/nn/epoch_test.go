package nn

import (
	"fmt"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
)

// TestEpochLoopMatchesSteps trains MLPs with padded batches on XLA twice from
// one seed: an epoch per call (the While loop with the graph of all three
// optimizers) and a batch per call (each optimizer's step graph). Every
// optimizer setting, momentum on and off, ends with the same losses, weights
// and predictions within float32 rounding, and the first run did take the
// epoch loop.
func TestEpochLoopMatchesSteps(t *testing.T) {
	var xla bool
	for _, be := range backendtest.ForTests(t) {
		if be.ID() != "xla" {
			continue
		}
		xla = true
		cases := []Hyperparameters{
			{Optimizer: OptimizerAdam, WeightDecay: 1e-3},
			{Optimizer: OptimizerAdam, Momentum: 0.7}, // Adam ignores momentum
			{Optimizer: OptimizerRMSprop},
			{Optimizer: OptimizerRMSprop, Momentum: 0.5, WeightDecay: 1e-2},
			{Optimizer: OptimizerSGD},
			{Optimizer: OptimizerSGD, Momentum: 0.9, WeightDecay: 1e-3},
		}
		for _, hp := range cases {
			hp.Epochs, hp.BatchSize, hp.LearningRate = 4, 5, 0.01
			name := fmt.Sprintf("%s/momentum=%g/wd=%g", hp.Optimizer, hp.Momentum, hp.WeightDecay)
			t.Run(name, func(t *testing.T) {
				spec := MLP([]int{7, 5}, nil, ActivationTanh)
				pad := Padding{BatchBits: 1, WidthBits: 1}
				train, val := wave(23), wave(9)
				var histories [2]*History
				var weights [2][]float64
				var predictions [2][]float64
				for i, stepsOnly := range []bool{false, true} {
					stepCallsOnly = stepsOnly
					m, err := New(be.Backend, spec, 5)
					if err != nil {
						t.Fatal(err)
					}
					m.Padding = pad
					before := epochCalls.Load()
					histories[i], err = Fit(m, train, val, hp, Options{Seed: 9, Progress: ProgressOff})
					stepCallsOnly = false
					if err != nil {
						t.Fatal(err)
					}
					want := int64(hp.Epochs)
					if stepsOnly {
						want = 0
					}
					if got := epochCalls.Load() - before; got != want {
						t.Errorf("run %d (batch calls only: %v): %d epoch calls, want %d", i, stepsOnly, got, want)
					}
					vars, err := m.Variables()
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range vars {
						weights[i] = append(weights[i], v.Values...)
					}
					if predictions[i], err = m.Predict(val); err != nil {
						t.Fatal(err)
					}
				}
				var curves [2][]float64
				for i, h := range histories {
					for _, e := range h.Epochs {
						curves[i] = append(curves[i], e.TrainLoss, e.ValLoss)
					}
				}
				for _, c := range []struct {
					what string
					a, b []float64
				}{{"losses", curves[0], curves[1]}, {"weights", weights[0], weights[1]}, {"predictions", predictions[0], predictions[1]}} {
					if err := closeTo(c.a, c.b); err != nil {
						t.Errorf("%s, epoch loop against batch calls: %v", c.what, err)
					}
				}
			})
		}
	}
	if !xla {
		t.Skip("the epoch loop runs on XLA only, and XLA is not usable here")
	}
}
