package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Variable is one weight tensor of a model, copied out.
type Variable struct {
	// Name is "<layer>/<weights|biases>", e.g. "hidden_0/weights".
	Name string `json:"name"`
	// Shape: dense weights are [in, out], convolution kernels
	// [kh, kw, Cin, Cout] (PyTorch's Linear stores the transpose).
	Shape []int `json:"shape"`
	// Values row-major; float32 models' values convert exactly.
	Values []float64 `json:"values"`
}

// Variables returns the model's weights in layer order.
func (m *Model) Variables() ([]Variable, error) {
	if err := m.usable(); err != nil {
		return nil, fmt.Errorf("nn.Variables: %w", err)
	}
	m.ws.mu.Lock()
	defer m.ws.mu.Unlock()
	var out []Variable
	for v := range m.modelVariables() {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("nn.Variables: %s: %w", v.ScopeAndName(), err)
		}
		values, err := tensorFloats(t)
		if err != nil {
			return nil, fmt.Errorf("nn.Variables: %s: %w", v.ScopeAndName(), err)
		}
		out = append(out, Variable{Name: variableName(v), Shape: v.Shape().Dimensions, Values: values})
	}
	return out, nil
}

func variableName(v *context.Variable) string {
	return strings.TrimPrefix(v.Scope(), modelScope+"/") + "/" + v.Name()
}

// SetVariable overwrites one weight tensor, named as in Variables.
func (m *Model) SetVariable(name string, values []float64) error {
	if err := m.usable(); err != nil {
		return fmt.Errorf("nn.SetVariable: %w", err)
	}
	m.ws.mu.Lock()
	defer m.ws.mu.Unlock()
	for v := range m.modelVariables() {
		if variableName(v) != name {
			continue
		}
		if n := v.Shape().Size(); n != len(values) {
			return fmt.Errorf("nn.SetVariable %s: %d values for shape %v (%d)", name, len(values), v.Shape().Dimensions, n)
		}
		t := m.tensorOf(values, v.Shape().Dimensions)
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("nn.SetVariable %s: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("nn.SetVariable: the %s model has no variable %q", m.Spec.Kind, name)
}

// LayerWeights are one layer's weights as the figures want them.
type LayerWeights struct {
	Layer string
	// Weights and their shape ([in, out] or [kh, kw, Cin, Cout]).
	Weights []float32
	Shape   []int
	Biases  []float32
}

// Weights returns each layer's weights and biases, in layer order.
func (m *Model) Weights() ([]LayerWeights, error) {
	vars, err := m.Variables()
	if err != nil {
		return nil, err
	}
	byName := map[string]Variable{}
	for _, v := range vars {
		byName[v.Name] = v
	}
	var out []LayerWeights
	for _, layer := range m.Spec.Layers() {
		w, ok := byName[layer+"/weights"]
		if !ok {
			return nil, fmt.Errorf("nn.Weights: layer %s has no weights", layer)
		}
		out = append(out, LayerWeights{Layer: layer, Weights: toFloat32(w.Values), Shape: w.Shape,
			Biases: toFloat32(byName[layer+"/biases"].Values)})
	}
	return out, nil
}

func toFloat32(xs []float64) []float32 {
	out := make([]float32, len(xs))
	for i, x := range xs {
		out[i] = float32(x)
	}
	return out
}

// Activation is one layer's output for a batch of inputs.
type Activation struct {
	Layer string
	// Shape is [examples, units] or, for convolutions, [examples, H, W, C].
	Shape  []int
	Values []float32
}

// Activations returns each layer's output, after its activation function,
// for the inputs of d (dropout off): the MLP's activation profiles, LeNet5's
// feature maps ("conv1", "conv2"). Layers are in Spec.Layers order.
func (m *Model) Activations(d *Data) ([]Activation, error) {
	if err := m.usable(); err != nil {
		return nil, fmt.Errorf("nn.Activations: %w", err)
	}
	if err := d.check(m.Spec, false, "activation inputs"); err != nil {
		return nil, fmt.Errorf("nn.Activations: %w", err)
	}
	m.ws.mu.Lock()
	defer m.ws.mu.Unlock()
	layerNames := m.Spec.Layers()
	if m.ws.taps == nil {
		var err error
		m.ws.taps, err = context.NewExec(m.backend, m.ws.ctx.Checked(false), func(ctx *context.Context, x *Node) []*Node {
			taps := map[string]*Node{}
			m.forward(ctx, x, taps)
			out := make([]*Node, len(layerNames))
			for i, name := range layerNames {
				out[i] = taps[name]
			}
			return out
		})
		if err != nil {
			return nil, fmt.Errorf("nn.Activations: building the graph: %w", err)
		}
	}
	rows := make([]int, d.Len())
	for i := range rows {
		rows[i] = i
	}
	x := d.batchInputs(rows, m.Spec.DType)
	defer finalize(x)
	var res []*tensors.Tensor
	if err := guard("activations", func() error {
		var err error
		res, err = m.ws.taps.Exec(x)
		return err
	}); err != nil {
		return nil, fmt.Errorf("nn.Activations: %w", err)
	}
	defer finalize(res...)
	out := make([]Activation, len(layerNames))
	for i, name := range layerNames {
		values, err := tensorFloats(res[i])
		if err != nil {
			return nil, fmt.Errorf("nn.Activations %s: %w", name, err)
		}
		out[i] = Activation{Layer: name, Shape: res[i].Shape().Dimensions, Values: toFloat32(values)}
	}
	return out, nil
}
