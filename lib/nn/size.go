package nn

import (
	"fmt"
	"slices"
)

// Bounds on what Fit accepts. They are far above anything the homework trains
// (the seed's largest budget is 1,000 epochs of a 3x256 MLP, about 130,000
// parameters), and they turn a typing slip (10^12 epochs, 10^8 units) into an
// error naming the field instead of a run that never ends or a crash out of
// memory.
const (
	// MaxEpochs is the most epochs Fit trains: 100 times the seed's longest.
	MaxEpochs = 100_000
	// MaxHiddenLayers is the deepest MLP a spec may describe.
	MaxHiddenLayers = 1_000
	// MaxTrainingBytes bounds the memory that training a model may need, as
	// TrainingBytes estimates it: 4 GiB.
	MaxTrainingBytes = 4 << 30
)

// NumParameters is the number of weights and biases of the spec's model. It
// is a float64 so that an absurd spec cannot overflow it.
func (s Spec) NumParameters() float64 {
	if s.Kind == KindLeNet5 {
		// conv1 5x5x1x6, conv2 5x5x6x16, fc1 400x120, fc2 120x84, fc3 84x10,
		// each with its biases.
		return 156 + 2416 + 48120 + 10164 + 850
	}
	n, prev := 0.0, float64(s.Inputs)
	for _, h := range s.Hidden {
		n += prev*float64(h) + float64(h)
		prev = float64(h)
	}
	return n + prev*float64(s.Outputs) + float64(s.Outputs)
}

// activationsPerExample is the number of values one example produces on its
// way through the model (inputs, every layer's output, the outputs).
func (s Spec) activationsPerExample() float64 {
	if s.Kind == KindLeNet5 {
		// 28x28 input, 28x28x6, 14x14x6, 10x10x16, 5x5x16, 120, 84, 10.
		return 784 + 4704 + 1176 + 1600 + 400 + 120 + 84 + 10
	}
	n := float64(s.Inputs + s.Outputs)
	for _, h := range s.Hidden {
		n += float64(h)
	}
	return n
}

// TrainingBytes estimates, from below, the memory that training the spec's
// model with batches of batch examples needs: four copies of the parameters
// (weights, gradients and up to two optimizer slots, Adam's) and four of the
// batch's activations (values before and after the activation, and their
// gradients).
func (s Spec) TrainingBytes(batch int) float64 {
	size := 4.0
	if s.DType == Float64 {
		size = 8
	}
	return size * (4*s.NumParameters() + 4*float64(max(batch, 0))*s.activationsPerExample())
}

// CheckSize refuses a spec that cannot be trained in memory with batches of
// batch examples: more than MaxHiddenLayers hidden layers, or an estimated
// TrainingBytes above MaxTrainingBytes. Spec.Validate checks it with a batch
// of one; Fit with its real batch.
func (s Spec) CheckSize(batch int) error {
	if len(s.Hidden) > MaxHiddenLayers {
		return fmt.Errorf("spec: %d hidden layers, over the maximum of %d (nn.MaxHiddenLayers)", len(s.Hidden), MaxHiddenLayers)
	}
	need := s.TrainingBytes(batch)
	if need <= MaxTrainingBytes {
		return nil
	}
	what := "lenet5"
	if s.Kind == KindMLP {
		what = fmt.Sprintf("hidden %v", s.Hidden)
		if len(s.Hidden) > 8 {
			what = fmt.Sprintf("%d hidden layers of up to %d units", len(s.Hidden), slices.Max(s.Hidden))
		}
	}
	return fmt.Errorf("spec: %s has %.3g parameters; training with batches of %d needs about %s, over the limit of %s (nn.MaxTrainingBytes)",
		what, s.NumParameters(), batch, FormatBytes(need), FormatBytes(MaxTrainingBytes))
}

// FormatBytes writes a number of bytes for people: 4 GiB, 3.2e+08 GiB.
func FormatBytes(b float64) string {
	const gib = 1 << 30
	switch {
	case b >= gib:
		return fmt.Sprintf("%.3g GiB", b/gib)
	case b >= 1<<20:
		return fmt.Sprintf("%.3g MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.0f bytes", b)
}
