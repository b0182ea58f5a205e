package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/dlworkbench/hw1/lib/nn/layers"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// Scopes of the context: the model's weights live under modelScope, the
// values fed to the graph that are not weights (dropout rates) under
// settingsScope, the optimizer's under optimizerScope.
const (
	modelScope    = "/model"
	settingsScope = "/settings"
)

// Model is a built model of a Spec with its weights, on one backend. Models
// are not safe for concurrent training; prediction may run concurrently.
type Model struct {
	// Spec is the architecture.
	Spec Spec
	// Seed initialised the weights.
	Seed int64
	// Hyperparameters of the last Fit, nil before training.
	Hyperparameters *Hyperparameters
	// History of the last Fit, nil before training.
	History *History

	backend backends.Backend
	ws      *workspace
}

// workspace is a context with its compiled graphs. It outlives the model that
// released it and serves the next model of the same shape.
type workspace struct {
	key     string
	backend backends.Backend
	ctx     *context.Context

	mu      sync.Mutex
	train   map[string]*context.Exec // by optimizer kind
	eval    *context.Exec
	predict *context.Exec
	taps    *context.Exec
	// batchSizes seen in training: each compiled one or two train graphs.
	batchSizes map[int]bool
}

var pool = struct {
	sync.Mutex
	idle map[string][]*workspace
}{idle: map[string][]*workspace{}}

// maxIdleWorkspaces bounds the idle workspaces kept per shape: a search runs
// trials one or two at a time.
const maxIdleWorkspaces = 2

// maxPooledBatchSizes bounds the compiled train graphs a pooled workspace
// keeps: past it, the workspace is freed rather than pooled.
const maxPooledBatchSizes = 32

// New builds a model of spec on the backend with weights initialised as
// PyTorch does (uniform in ±1/sqrt(fan_in)), from seed: the same seed gives
// the same weights.
func New(backend backends.Backend, spec Spec, seed int64) (m *Model, err error) {
	if backend == nil {
		return nil, fmt.Errorf("nn.New: no backend")
	}
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("nn.New: %w", err)
	}
	m = &Model{Spec: spec, Seed: seed, backend: backend}
	key := backend.Name() + "|" + spec.shapeKey()
	pool.Lock()
	if idle := pool.idle[key]; len(idle) > 0 {
		m.ws = idle[len(idle)-1]
		pool.idle[key] = idle[:len(idle)-1]
	}
	pool.Unlock()
	if m.ws == nil {
		m.ws = &workspace{key: key, backend: backend, ctx: context.New(), train: map[string]*context.Exec{}, batchSizes: map[int]bool{}}
		if err := guard("building "+spec.Kind, func() error { return m.createVariables() }); err != nil {
			return nil, fmt.Errorf("nn.New: %w", err)
		}
	} else {
		for v := range m.modelVariables() {
			if err := v.Reset(); err != nil {
				return nil, fmt.Errorf("nn.New: resetting %s: %w", v.ScopeAndName(), err)
			}
		}
	}
	if err := m.initialise(seed); err != nil {
		return nil, fmt.Errorf("nn.New: %w", err)
	}
	return m, nil
}

// createVariables builds the forward graph once, without compiling it, so that
// the layers create their variables.
func (m *Model) createVariables() error {
	g := NewGraph(m.backend, "create_variables")
	defer g.Finalize()
	x := Parameter(g, "x", shapes.Make(m.dtype(), append([]int{1}, m.Spec.ExampleShape()...)...))
	m.forward(m.ws.ctx, x, nil)
	for i := range m.Spec.Dropout {
		dropoutVar(m.ws.ctx, m.Spec, i)
	}
	return nil
}

// initialise draws the weights from seed, as PyTorch's Linear and Conv2d do
// (weights and biases uniform in ±1/sqrt(fan_in), the rule lib/nn/layers
// also follows), and sets the dropout rates.
//
// The draws are made here in Go rather than by GoMLX's variable initialisers:
// those compile a graph on every re-initialisation (seconds on XLA, for each
// trial of a search), and Go's generator gives the same weights on every
// backend.
func (m *Model) initialise(seed int64) error {
	ctx := m.ws.ctx
	rng := rand.New(rand.NewPCG(uint64(seed), 0x696e6974))
	for v := range m.modelVariables() {
		fanIn, err := m.fanIn(v)
		if err != nil {
			return err
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		values := make([]float64, v.Shape().Size())
		for i := range values {
			values[i] = (2*rng.Float64() - 1) * bound
		}
		if err := v.SetValue(m.tensorOf(values, v.Shape().Dimensions)); err != nil {
			return fmt.Errorf("initialising %s: %w", v.ScopeAndName(), err)
		}
	}
	for i, p := range m.Spec.Dropout {
		if err := dropoutVar(ctx, m.Spec, i).SetValue(scalarTensor(m.Spec, p)); err != nil {
			return fmt.Errorf("dropout[%d]: %w", i, err)
		}
	}
	return nil
}

// fanIn is the number of inputs of the layer a weight or bias belongs to:
// "in" of dense weights [in, out], kh*kw*Cin of kernels [kh, kw, Cin, Cout].
func (m *Model) fanIn(v *context.Variable) (int, error) {
	w := v
	if v.Name() != "weights" {
		w = m.ws.ctx.GetVariableByScopeAndName(v.Scope(), "weights")
		if w == nil {
			return 0, fmt.Errorf("initialising %s: no weights in its layer to take fan_in from", v.ScopeAndName())
		}
	}
	dims := w.Shape().Dimensions
	if len(dims) < 2 {
		return 0, fmt.Errorf("initialising %s: weights of shape %v", v.ScopeAndName(), dims)
	}
	fan := 1
	for _, d := range dims[:len(dims)-1] {
		fan *= d
	}
	return fan, nil
}

// tensorOf makes a tensor of the model's dtype.
func (m *Model) tensorOf(values []float64, dims []int) *tensors.Tensor {
	if m.Spec.DType == Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), values...), dims...)
	}
	return tensors.FromFlatDataAndDimensions(toFloat32(values), dims...)
}

// Release hands the model's compiled graphs to the next model of the same
// shape. The model must not be used afterwards.
func (m *Model) Release() {
	if m == nil || m.ws == nil {
		return
	}
	ws := m.ws
	m.ws = nil
	pool.Lock()
	defer pool.Unlock()
	if len(pool.idle[ws.key]) < maxIdleWorkspaces && len(ws.batchSizes) <= maxPooledBatchSizes {
		pool.idle[ws.key] = append(pool.idle[ws.key], ws)
		return
	}
	ws.finalize()
}

func (ws *workspace) finalize() {
	for _, e := range ws.train {
		e.Finalize()
	}
	for _, e := range []*context.Exec{ws.eval, ws.predict, ws.taps} {
		if e != nil {
			e.Finalize()
		}
	}
	ws.ctx.Finalize()
}

// Backend is the backend the model runs on.
func (m *Model) Backend() backends.Backend { return m.backend }

func (m *Model) dtype() dtypes.DType {
	if m.Spec.DType == Float64 {
		return dtypes.Float64
	}
	return dtypes.Float32
}

func (m *Model) usable() error {
	if m == nil || m.ws == nil {
		return fmt.Errorf("model released or not built with nn.New")
	}
	return nil
}

// dropoutVar is the variable holding dropout rate i, fed to the graph so that
// models differing only in dropout share compiled graphs.
func dropoutVar(ctx *context.Context, spec Spec, i int) *context.Variable {
	name := fmt.Sprintf("dropout_%d", i)
	if v := ctx.GetVariableByScopeAndName(settingsScope, name); v != nil {
		return v
	}
	return ctx.InAbsPath(settingsScope).Checked(false).VariableWithValue(name, scalarTensor(spec, spec.Dropout[i])).SetTrainable(false)
}

// Layer names, in order: the scopes of the weights and the names of the
// activations the figures show.
func (s Spec) Layers() []string {
	if s.Kind == KindLeNet5 {
		return []string{"conv1", "conv2", "fc1", "fc2", "fc3"}
	}
	var names []string
	for i := range s.Hidden {
		names = append(names, fmt.Sprintf("hidden_%d", i))
	}
	return append(names, "output")
}

// forward builds the model's graph. taps, when not nil, receives each layer's
// output after its activation, by layer name.
func (m *Model) forward(ctx *context.Context, x *Node, taps map[string]*Node) *Node {
	ctx = ctx.InAbsPath(modelScope).Checked(false)
	tap := func(name string, n *Node) {
		if taps != nil {
			taps[name] = n
		}
	}
	dropout := func(n *Node, i int) *Node {
		if !ctx.IsTraining(n.Graph()) {
			return n
		}
		return dropoutGraph(ctx, n, dropoutVar(ctx, m.Spec, i).ValueGraph(n.Graph()))
	}
	switch m.Spec.Kind {
	case KindLeNet5:
		x = relu(layers.Conv(ctx.In("conv1"), x, 6, 5, 2))
		tap("conv1", x)
		x = layers.MaxPool2D(x, 2)
		x = relu(layers.Conv(ctx.In("conv2"), x, 16, 5, 0))
		tap("conv2", x)
		x = layers.MaxPool2D(x, 2)
		x = dropout(x, 0)
		x = Reshape(x, x.Shape().Dimensions[0], -1)
		x = relu(layers.Dense(ctx.In("fc1"), x, 120))
		tap("fc1", x)
		x = dropout(x, 1)
		x = relu(layers.Dense(ctx.In("fc2"), x, 84))
		tap("fc2", x)
		x = layers.Dense(ctx.In("fc3"), x, 10)
		tap("fc3", x)
	default:
		for i, units := range m.Spec.Hidden {
			name := fmt.Sprintf("hidden_%d", i)
			x = activate(m.Spec.Activation, layers.Dense(ctx.In(name), x, units))
			tap(name, x)
			x = dropout(x, i)
		}
		x = layers.Dense(ctx.In("output"), x, m.Spec.Outputs)
		tap("output", x)
	}
	return x
}

// dropoutGraph zeroes each value with probability rate and scales the others
// by 1/(1-rate), as torch.nn.Dropout in training. It is built even for rate 0
// (then it keeps everything, exactly) so that trials of a search with and
// without dropout share one compiled graph.
func dropoutGraph(ctx *context.Context, x, rate *Node) *Node {
	u := ctx.RandomUniform(x.Graph(), x.Shape()) // [0, 1)
	keep := GreaterOrEqual(u, BroadcastToShape(rate, x.Shape()))
	return Where(keep, Div(x, OneMinus(rate)), ZerosLike(x))
}

// relu is max(x, 0).
func relu(x *Node) *Node { return Max(x, ZerosLike(x)) }

// activate applies an activation with PyTorch's defaults (LeakyReLU slope
// 0.01, ELU alpha 1).
func activate(name string, x *Node) *Node {
	switch name {
	case ActivationTanh:
		return Tanh(x)
	case ActivationSigmoid:
		return Sigmoid(x)
	case ActivationLeakyReLU:
		return Where(GreaterThan(x, ZerosLike(x)), x, MulScalar(x, 0.01))
	case ActivationELU:
		return Where(GreaterThan(x, ZerosLike(x)), x, Expm1(x))
	default:
		return relu(x)
	}
}

// modelVariables lists the model's weights in creation order.
func (m *Model) modelVariables() func(yield func(*context.Variable) bool) {
	return func(yield func(*context.Variable) bool) {
		for v := range m.ws.ctx.IterVariables() {
			if v.Scope() == modelScope || strings.HasPrefix(v.Scope(), modelScope+"/") {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// guard runs fn, turning a panic of graph building or execution into an error.
func guard(what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// tensorFloats copies a tensor's values out as float64.
func tensorFloats(t *tensors.Tensor) ([]float64, error) {
	var out []float64
	err := t.ConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []float32:
			out = make([]float64, len(f))
			for i, v := range f {
				out[i] = float64(v)
			}
		case []float64:
			out = append([]float64(nil), f...)
		case []int32:
			out = make([]float64, len(f))
			for i, v := range f {
				out[i] = float64(v)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("tensor of dtype %s is not float32, float64 or int32", t.DType())
	}
	return out, nil
}
