package nn

import (
	"fmt"
	"slices"
)

// Model kinds: the two architectures of the homework.
const (
	// KindMLP is the seed's Net_flex: a fully connected network of any depth.
	KindMLP = "mlp"
	// KindLeNet5 is the seed's LeNet_5 for 28x28 grey images and 10 classes.
	KindLeNet5 = "lenet5"
)

// Activation names accepted by Spec.Activation (PyTorch's, in snake case).
const (
	ActivationReLU      = "relu"
	ActivationTanh      = "tanh"
	ActivationSigmoid   = "sigmoid"
	ActivationLeakyReLU = "leaky_relu"
	ActivationELU       = "elu"
)

// Loss names accepted by Spec.Loss.
const (
	LossMSE          = "mse"
	LossCrossEntropy = "cross_entropy"
)

// DType names accepted by Spec.DType.
const (
	Float32 = "float32"
	Float64 = "float64"
)

// Spec describes a model's architecture. It is a plain value that saves as JSON
// and, with a seed, rebuilds the same model.
type Spec struct {
	// Kind is KindMLP or KindLeNet5.
	Kind string `json:"kind"`
	// Inputs is the number of input features of an MLP (the homework's is 1).
	Inputs int `json:"inputs,omitempty"`
	// Hidden is the number of units of each hidden layer of an MLP.
	Hidden []int `json:"hidden,omitempty"`
	// Outputs is the number of outputs of an MLP (the homework's is 1).
	Outputs int `json:"outputs,omitempty"`
	// Dropout is the dropout rate after each hidden layer of an MLP (missing
	// entries mean 0), or LeNet5's two rates: before the first dense layer and
	// after it.
	Dropout []float64 `json:"dropout,omitempty"`
	// Activation of the MLP's hidden layers; LeNet5 always uses ReLU.
	Activation string `json:"activation,omitempty"`
	// Loss is LossMSE (MLP's default) or LossCrossEntropy (LeNet5's).
	Loss string `json:"loss,omitempty"`
	// DType of weights and computation: Float32 (default) or Float64.
	DType string `json:"dtype,omitempty"`
}

// Default dropout rates of the seed's LeNet_5.
const (
	DefaultLeNet5Dropout1 = 0.5
	DefaultLeNet5Dropout2 = 0.3
)

// MLP returns the spec of the seed's Net_flex: 1 input, the given hidden
// layers, 1 output, MSE loss. dropout may be shorter than hidden (missing
// rates are 0); activation "" means ReLU.
func MLP(hidden []int, dropout []float64, activation string) Spec {
	return Spec{Kind: KindMLP, Inputs: 1, Hidden: slices.Clone(hidden), Outputs: 1,
		Dropout: slices.Clone(dropout), Activation: activation}.WithDefaults()
}

// LeNet5 returns the spec of the seed's LeNet_5 with the two dropout rates.
func LeNet5(dropout1, dropout2 float64) Spec {
	return Spec{Kind: KindLeNet5, Dropout: []float64{dropout1, dropout2}}.WithDefaults()
}

// WithDefaults fills the fields left empty with the seed's defaults.
func (s Spec) WithDefaults() Spec {
	s.Hidden = slices.Clone(s.Hidden)
	s.Dropout = slices.Clone(s.Dropout)
	switch s.Kind {
	case KindMLP:
		if s.Inputs == 0 {
			s.Inputs = 1
		}
		if s.Outputs == 0 {
			s.Outputs = 1
		}
		if s.Activation == "" {
			s.Activation = ActivationReLU
		}
		if s.Loss == "" {
			s.Loss = LossMSE
		}
		for len(s.Dropout) < len(s.Hidden) {
			s.Dropout = append(s.Dropout, 0)
		}
	case KindLeNet5:
		if len(s.Dropout) == 0 {
			s.Dropout = []float64{DefaultLeNet5Dropout1, DefaultLeNet5Dropout2}
		}
		if s.Activation == "" {
			s.Activation = ActivationReLU
		}
		if s.Loss == "" {
			s.Loss = LossCrossEntropy
		}
	}
	if s.DType == "" {
		s.DType = Float32
	}
	return s
}

// Validate says what is wrong with a spec, naming the field.
func (s Spec) Validate() error {
	switch s.Kind {
	case KindMLP:
		if s.Inputs < 1 || s.Outputs < 1 {
			return fmt.Errorf("spec: inputs and outputs must be >= 1, got %d and %d", s.Inputs, s.Outputs)
		}
		for i, h := range s.Hidden {
			if h < 1 {
				return fmt.Errorf("spec: hidden[%d] = %d units, want >= 1", i, h)
			}
		}
		if len(s.Dropout) > len(s.Hidden) {
			return fmt.Errorf("spec: %d dropout rates for %d hidden layers", len(s.Dropout), len(s.Hidden))
		}
		switch s.Activation {
		case ActivationReLU, ActivationTanh, ActivationSigmoid, ActivationLeakyReLU, ActivationELU:
		default:
			return fmt.Errorf("spec: activation %q unknown (want relu, tanh, sigmoid, leaky_relu or elu)", s.Activation)
		}
	case KindLeNet5:
		if len(s.Dropout) != 2 {
			return fmt.Errorf("spec: lenet5 wants 2 dropout rates, got %d", len(s.Dropout))
		}
		if s.Activation != ActivationReLU {
			return fmt.Errorf("spec: lenet5 uses relu, got activation %q", s.Activation)
		}
		if len(s.Hidden) != 0 {
			return fmt.Errorf("spec: lenet5 has fixed layers, got hidden %v", s.Hidden)
		}
	default:
		return fmt.Errorf("spec: kind %q unknown (want %q or %q)", s.Kind, KindMLP, KindLeNet5)
	}
	for i, p := range s.Dropout {
		if !(p >= 0 && p < 1) {
			return fmt.Errorf("spec: dropout[%d] = %g, want 0 <= p < 1", i, p)
		}
	}
	switch s.Loss {
	case LossMSE, LossCrossEntropy:
	default:
		return fmt.Errorf("spec: loss %q unknown (want mse or cross_entropy)", s.Loss)
	}
	if s.Kind == KindLeNet5 && s.Loss != LossCrossEntropy {
		return fmt.Errorf("spec: lenet5 is a classifier, loss must be cross_entropy, got %q", s.Loss)
	}
	switch s.DType {
	case Float32, Float64:
	default:
		return fmt.Errorf("spec: dtype %q unknown (want float32 or float64)", s.DType)
	}
	// Before any weight is allocated: nn.New would otherwise run out of
	// memory on a spec of 10^8 units.
	return s.CheckSize(1)
}

// Classifier tells whether the model predicts class labels (cross-entropy)
// rather than values.
func (s Spec) Classifier() bool { return s.Loss == LossCrossEntropy }

// NumOutputs is the width of the model's output: classes or values.
func (s Spec) NumOutputs() int {
	if s.Kind == KindLeNet5 {
		return 10
	}
	return s.Outputs
}

// ExampleShape is the shape of one input example.
func (s Spec) ExampleShape() []int {
	if s.Kind == KindLeNet5 {
		return []int{28, 28, 1}
	}
	return []int{s.Inputs}
}

// shapeKey identifies the compiled graphs a model can share: everything but
// the values that are fed as variables (dropout rates).
func (s Spec) shapeKey() string {
	return fmt.Sprintf("%s/in%d/h%v/out%d/d%d/drop=%v/%s/%s/%s", s.Kind, s.Inputs, s.Hidden, s.Outputs, len(s.Dropout), s.hasDropout(), s.Activation, s.Loss, s.DType)
}

// hasDropout reports whether any dropout rate is above 0. A network without
// dropout trains on graphs without its random masks (one random draw and
// four elementwise passes per layer, forward and backward, which rate 0
// would spend on keeping everything); the rates of one with dropout are
// variables, so that every rate shares the graphs.
func (s Spec) hasDropout() bool {
	for _, r := range s.Dropout {
		if r > 0 {
			return true
		}
	}
	return false
}

// Optimizer names accepted by Hyperparameters.Optimizer (the seed's spelling).
const (
	OptimizerSGD     = "SGD"
	OptimizerAdam    = "Adam"
	OptimizerRMSprop = "RMSprop"
)

// Hyperparameters of one training run, named as in the seed's tables.
type Hyperparameters struct {
	// Epochs is the number of passes over the training data (1 to MaxEpochs).
	Epochs int `json:"epochs"`
	// BatchSize is the number of examples of each training step; the last
	// batch of an epoch may be smaller.
	BatchSize int `json:"batch_size"`
	// LearningRate is the optimizer's step size (positive).
	LearningRate float64 `json:"learning_rate"`
	// WeightDecay is PyTorch's coupled L2: grad += weight_decay * param.
	WeightDecay float64 `json:"weight_decay"`
	// Optimizer is "SGD", "Adam" or "RMSprop" (case is ignored).
	Optimizer string `json:"optimizer"`
	// Momentum of SGD and RMSprop; Adam ignores it.
	Momentum float64 `json:"momentum"`
}

// Validate says what is wrong with the hyperparameters, naming the field.
func (h Hyperparameters) Validate() error {
	if h.Epochs < 1 || h.Epochs > MaxEpochs {
		return fmt.Errorf("hyperparameters: epochs = %d, want 1 to %d (nn.MaxEpochs)", h.Epochs, MaxEpochs)
	}
	if h.BatchSize < 1 {
		return fmt.Errorf("hyperparameters: batch_size = %d, want >= 1", h.BatchSize)
	}
	if !(h.LearningRate > 0) {
		return fmt.Errorf("hyperparameters: learning_rate = %g, want > 0", h.LearningRate)
	}
	if !(h.WeightDecay >= 0) {
		return fmt.Errorf("hyperparameters: weight_decay = %g, want >= 0", h.WeightDecay)
	}
	if !(h.Momentum >= 0 && h.Momentum < 1) {
		return fmt.Errorf("hyperparameters: momentum = %g, want 0 <= momentum < 1", h.Momentum)
	}
	if _, err := optimizerKind(h.Optimizer); err != nil {
		return fmt.Errorf("hyperparameters: %w", err)
	}
	return nil
}

// SeedRegressionBest is TABLE II of the seed: the best regression model.
func SeedRegressionBest() (Spec, Hyperparameters) {
	return MLP([]int{216, 154}, nil, ActivationReLU), Hyperparameters{
		Epochs: 180, BatchSize: 10, LearningRate: 0.00137, WeightDecay: 7.5e-5,
		Optimizer: OptimizerRMSprop, Momentum: 0,
	}
}

// SeedClassificationBest is TABLE IV of the seed: LeNet5's best hyperparameters.
func SeedClassificationBest() (Spec, Hyperparameters) {
	return LeNet5(0.41, 0.24), Hyperparameters{
		Epochs: 97, BatchSize: 64, LearningRate: 0.00214, WeightDecay: 5.5e-5,
		Optimizer: OptimizerAdam,
	}
}
