package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
)

// parityFile is written by testdata/torch_optimizers.py (see there how to
// regenerate it).
type parityFile struct {
	X       [][]float64          `json:"x"`
	Y       [][]float64          `json:"y"`
	Labels  []int32              `json:"labels"`
	Initial map[string][]float64 `json:"initial"`
	Cases   []struct {
		Name         string                 `json:"name"`
		Optimizer    string                 `json:"optimizer"`
		LearningRate float64                `json:"learning_rate"`
		Momentum     float64                `json:"momentum"`
		WeightDecay  float64                `json:"weight_decay"`
		Loss         string                 `json:"loss"`
		Losses       []float64              `json:"losses"`
		Trajectory   []map[string][]float64 `json:"trajectory"`
	} `json:"cases"`
}

// TestOptimizerParity runs PyTorch's 20 steps of SGD, Adam and RMSprop (with
// and without momentum and weight decay) from the same weights on the same
// data, and compares every parameter after every step.
func TestOptimizerParity(t *testing.T) {
	raw, err := os.ReadFile("testdata/optimizer_parity.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref parityFile
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("optimizer_parity.json: %v", err)
	}
	if len(ref.Cases) < 9 {
		t.Fatalf("optimizer_parity.json has %d cases, want >= 9", len(ref.Cases))
	}
	d := &Data{shape: []int{3}, outputs: 2, labels: ref.Labels}
	for i, row := range ref.X {
		d.values = append(d.values, row...)
		d.targets = append(d.targets, ref.Y[i]...)
	}
	for _, be := range backendtest.ForTests(t) {
		for _, c := range ref.Cases {
			t.Run(be.Name+"/"+c.Name, func(t *testing.T) {
				spec := Spec{Kind: KindMLP, Inputs: 3, Hidden: []int{4}, Outputs: 2,
					Activation: ActivationTanh, Loss: c.Loss, DType: Float64}
				m, err := New(be.Backend, spec, 1)
				if err != nil {
					t.Fatal(err)
				}
				for name, values := range ref.Initial {
					if err := m.SetVariable(name, values); err != nil {
						t.Fatal(err)
					}
				}
				step := 0
				check := func(m *Model, s EpochStats) error {
					want := c.Trajectory[step]
					if !close(s.TrainLoss, c.Losses[step]) {
						return fmt.Errorf("step %d: loss %.10g, torch %.10g", step+1, s.TrainLoss, c.Losses[step])
					}
					vars, err := m.Variables()
					if err != nil {
						return err
					}
					for _, v := range vars {
						for i, x := range v.Values {
							if !close(x, want[v.Name][i]) {
								return fmt.Errorf("step %d: %s[%d] = %.10g, torch %.10g", step+1, v.Name, i, x, want[v.Name][i])
							}
						}
					}
					step++
					return nil
				}
				hp := Hyperparameters{Epochs: len(c.Trajectory), BatchSize: d.Len(), LearningRate: c.LearningRate,
					WeightDecay: c.WeightDecay, Optimizer: c.Optimizer, Momentum: c.Momentum}
				if _, err := Fit(m, d, nil, hp, Options{Callbacks: []Callback{check}, Progress: ProgressOff}); err != nil {
					t.Fatal(err)
				}
				if step != len(c.Trajectory) {
					t.Fatalf("checked %d steps, want %d", step, len(c.Trajectory))
				}
			})
		}
	}
}

// close is the parity tolerance: 1e-5 relative, with an absolute floor for
// values that cross zero.
func close(got, want float64) bool {
	return math.Abs(got-want) <= 1e-5*math.Max(math.Abs(want), 1e-3)
}
