package nn

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
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
	if m == nil || m.weights == nil {
		return nil, fmt.Errorf("nn.Variables: model not built with nn.New or nn.Load")
	}
	values := make([]*tensors.Tensor, len(m.weights))
	m.mu.Lock()
	if ws := m.ws; ws != nil {
		// Inside Fit's callback: the weights being trained.
		m.mu.Unlock()
		ws.mu.Lock()
		defer ws.mu.Unlock()
		for i, v := range ws.vars {
			t, err := v.Value()
			if err == nil {
				t, err = resizeTensor(t, m.weights[i].Shape().Dimensions)
			}
			if err != nil {
				return nil, fmt.Errorf("nn.Variables: %s: %w", m.names[i], err)
			}
			values[i] = t
		}
	} else {
		defer m.mu.Unlock()
		copy(values, m.weights)
	}
	out := make([]Variable, len(values))
	for i, t := range values {
		floats, err := tensorFloats(t)
		if err != nil {
			return nil, fmt.Errorf("nn.Variables: %s: %w", m.names[i], err)
		}
		out[i] = Variable{Name: m.names[i], Shape: t.Shape().Dimensions, Values: floats}
	}
	return out, nil
}

func variableName(v *model.Variable) string {
	return strings.TrimPrefix(v.Scope(), modelScope+"/") + "/" + v.Name()
}

// SetVariable overwrites one weight tensor, named as in Variables.
func (m *Model) SetVariable(name string, values []float64) error {
	i := -1
	if m != nil {
		i = slices.Index(m.names, name)
	}
	if i < 0 {
		return fmt.Errorf("nn.SetVariable: the model has no variable %q", name)
	}
	err := m.with(true, func(ws *workspace) error {
		v := ws.vars[i]
		dims := m.weights[i].Shape().Dimensions
		if n := m.weights[i].Shape().Size(); n != len(values) {
			return fmt.Errorf("%d values for shape %v (%d)", len(values), dims, n)
		}
		t, err := resizeTensor(m.tensorOf(values, dims), v.Shape().Dimensions)
		if err != nil {
			return err
		}
		return v.SetValue(t)
	})
	if err != nil {
		return fmt.Errorf("nn.SetVariable %s: %w", name, err)
	}
	return nil
}

// LayerWeights are one layer's weights as the figures want them.
type LayerWeights struct {
	// Layer names the layer, e.g. "dense_0" or "conv1".
	Layer string
	// Weights are the layer's weights, flattened row-major in Shape's order.
	Weights []float32
	// Shape of Weights: [in, out], or [kh, kw, Cin, Cout] for a convolution.
	Shape []int
	// Biases are the layer's biases, one per output unit or channel.
	Biases []float32
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
	// Layer names the layer whose output this is.
	Layer string
	// Shape is [examples, units] or, for convolutions, [examples, H, W, C].
	Shape []int
	// Values are the outputs, flattened row-major in Shape's order.
	Values []float32
}

// Activations returns each layer's output, after its activation function,
// for the inputs of d (dropout off): the MLP's activation profiles, LeNet5's
// feature maps ("conv1", "conv2"). Layers are in Spec.Layers order.
func (m *Model) Activations(d *Data) ([]Activation, error) {
	if m != nil {
		if err := d.check(m.Spec, false, "activation inputs"); err != nil {
			return nil, fmt.Errorf("nn.Activations: %w", err)
		}
	}
	var out []Activation
	err := m.with(false, func(ws *workspace) error {
		var err error
		out, err = ws.activations(d, m.Spec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nn.Activations: %w", err)
	}
	return out, nil
}

// activations are the layers' outputs for d, the padded units of a masked
// workspace left out (spec is the model's own).
func (ws *workspace) activations(d *Data, spec Spec) ([]Activation, error) {
	layerNames := ws.spec.Layers()
	if ws.taps == nil {
		var err error
		ws.taps, err = model.NewExec(ws.backend, ws.store, func(scope *model.Scope, x *Node) []*Node {
			taps := map[string]*Node{}
			ws.forward(scope.Store(), x, taps)
			out := make([]*Node, len(layerNames))
			for i, name := range layerNames {
				out[i] = taps[name]
			}
			return out
		})
		if err != nil {
			return nil, fmt.Errorf("building the graph: %w", err)
		}
		ws.taps.SetMaxCache(0)
	}
	rows := make([]int, d.Len())
	for i := range rows {
		rows[i] = i
	}
	x := d.batchInputs(rows, len(rows), ws.spec.DType)
	defer finalize(x)
	var res []*tensors.Tensor
	if err := guard("activations", func() error {
		return ws.timedFirstCall(fmt.Sprintf("activations/%d", len(rows)), func() error {
			var err error
			res, err = ws.taps.Call(x)
			return err
		})
	}); err != nil {
		return nil, err
	}
	defer finalize(res...)
	out := make([]Activation, len(layerNames))
	for i, name := range layerNames {
		t := res[i]
		if i < len(spec.Hidden) && t.Shape().Rank() == 2 {
			cropped, err := resizeTensor(t, []int{len(rows), spec.Hidden[i]})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			defer finalize(cropped)
			t = cropped
		}
		values, err := tensorFloats(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[i] = Activation{Layer: name, Shape: t.Shape().Dimensions, Values: toFloat32(values)}
	}
	return out, nil
}
