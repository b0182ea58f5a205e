package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/dlworkbench/hw1/lib/nn/layers"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Scopes of the store: the model's weights live under modelScope, the
// values fed to the graph that are not weights (dropout rates) under
// settingsScope, the optimizer's under optimizerScope.
const (
	modelScope    = "/model"
	settingsScope = "/settings"
)

// Model is a model of a Spec with its weights. It holds the weights only (in
// host memory); the compiled graphs live in workspaces shared by all models of
// the same shape and backend, so keeping many models (k folds, hundreds of
// trials) costs no compilation. Methods may be called from several
// goroutines; they are serialised per model.
type Model struct {
	// Spec is the architecture.
	Spec Spec
	// Seed initialised the weights.
	Seed int64
	// Hyperparameters of the last Fit, nil before training.
	Hyperparameters *Hyperparameters
	// History of the last Fit, nil before training.
	History *History
	// Padding of the compiled graphs the model runs on: DefaultPadding of
	// its backend unless changed (before Fit, Evaluate, Predict...).
	Padding Padding

	backend compute.Backend
	// names and weights of the model's variables, in the workspace's order.
	names   []string
	weights []*tensors.Tensor

	mu sync.Mutex
	// ws is set while Fit runs: its callbacks then see the weights being
	// trained.
	ws *workspace
}

// workspace is a store holding one model's weights at a time, with the
// compiled graphs of its shape. Its graph functions capture only the
// workspace, never a model.
type workspace struct {
	key string
	// spec is the shape of the graphs: a model's spec with its hidden
	// widths padded (Padding).
	spec Spec
	// masked workspaces multiply each hidden layer's output by a mask
	// (masks, fed as variables), which zeroes the units a model lacks.
	masked bool
	masks  []*model.Variable
	// batchBits is the Padding.BatchBits of the model using the workspace.
	batchBits int
	backend   compute.Backend
	store     *model.Store
	// vars are the model's variables, in creation order.
	vars []*model.Variable

	mu      sync.Mutex
	train   map[string]*model.Exec // by optimizer kind
	epoch   *model.Exec            // all optimizers (epoch.go)
	eval    *model.Exec
	predict *model.Exec
	taps    *model.Exec
	// batchSizes are the train batch shapes compiled (padded sizes with
	// batch buckets; each exact size compiled one or two graphs).
	batchSizes map[int]bool
	// compiled are the graphs run at least once, by name and input shape.
	compiled map[string]bool
}

var pool = struct {
	sync.Mutex
	idle map[string][]*workspace
}{idle: map[string][]*workspace{}}

// maxIdleWorkspaces bounds the idle workspaces kept per shape: one is busy
// per model being trained or queried at the same time.
const maxIdleWorkspaces = 4

// maxPooledBatchSizes bounds the compiled train graphs a pooled workspace
// keeps: past it, the workspace is freed rather than pooled.
const maxPooledBatchSizes = 32

// workspace takes an idle workspace for the model's padded shape from the
// pool, or builds one.
func (m *Model) workspace() (*workspace, error) {
	if err := m.Padding.Validate(); err != nil {
		return nil, err
	}
	ws, err := acquireWorkspace(m.backend, m.Padding.padded(m.Spec), m.Padding.WidthBits > 0 && len(m.Spec.Hidden) > 0)
	if err == nil {
		ws.batchBits = m.Padding.BatchBits
	}
	return ws, err
}

// acquireWorkspace takes an idle workspace for spec from the pool, or builds
// one.
func acquireWorkspace(backend compute.Backend, spec Spec, masked bool) (*workspace, error) {
	// The backend's identity, not its name: two XLA plugins share a name.
	key := fmt.Sprintf("%p|%s|masked=%v", backend, spec.shapeKey(), masked)
	pool.Lock()
	if idle := pool.idle[key]; len(idle) > 0 {
		ws := idle[len(idle)-1]
		pool.idle[key] = idle[:len(idle)-1]
		pool.Unlock()
		return ws, nil
	}
	pool.Unlock()
	ws := &workspace{key: key, spec: spec, masked: masked, backend: backend, store: model.NewStore(),
		train: map[string]*model.Exec{}, batchSizes: map[int]bool{}, compiled: map[string]bool{}}
	err := guard("building "+spec.Kind, func() error {
		// Build the forward graph once, without compiling it, so that the
		// layers create their variables.
		g := NewGraph(backend, "create_variables")
		defer g.Finalize()
		x := Parameter(g, "x", shapes.Make(ws.dtype(), append([]int{1}, spec.ExampleShape()...)...))
		ws.forward(ws.store, x, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for v := range ws.store.IterVariables() {
		if strings.HasPrefix(v.Scope(), modelScope+"/") {
			ws.vars = append(ws.vars, v)
		}
	}
	for i := range spec.Dropout {
		dropoutVar(ws.store, spec, i)
	}
	if masked {
		for i := range spec.Hidden {
			ws.masks = append(ws.masks, maskVar(ws.store, spec, i))
		}
	}
	return ws, nil
}

// release hands the workspace back to the pool.
func (ws *workspace) release() {
	pool.Lock()
	defer pool.Unlock()
	if len(pool.idle[ws.key]) < maxIdleWorkspaces && len(ws.batchSizes) <= maxPooledBatchSizes {
		pool.idle[ws.key] = append(pool.idle[ws.key], ws)
		return
	}
	for _, e := range ws.train {
		e.Finalize()
	}
	for _, e := range []*model.Exec{ws.eval, ws.predict, ws.taps} {
		if e != nil {
			e.Finalize()
		}
	}
	ws.store.Finalize()
}

// New builds a model of spec on the backend with weights initialised as
// PyTorch does (uniform in ±1/sqrt(fan_in)), from seed: the same seed gives
// the same weights, on every backend.
func New(backend compute.Backend, spec Spec, seed int64) (*Model, error) {
	if backend == nil {
		return nil, fmt.Errorf("nn.New: no backend")
	}
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("nn.New: %w", err)
	}
	m := &Model{Spec: spec, Seed: seed, backend: backend, Padding: DefaultPadding(backend, spec.Kind)}
	ws, err := m.workspace()
	if err != nil {
		return nil, fmt.Errorf("nn.New: %w", err)
	}
	defer ws.release()
	if err := m.initialise(ws, seed); err != nil {
		return nil, fmt.Errorf("nn.New: %w", err)
	}
	return m, nil
}

// initialise draws the weights from seed, as PyTorch's Linear and Conv2d do
// (weights and biases uniform in ±1/sqrt(fan_in), the rule lib/nn/layers
// also follows).
//
// The draws are made here in Go rather than by GoMLX's variable initialisers:
// those compile a graph for every new model (seconds on XLA, for each trial of
// a search), and Go's generator gives the same weights on every backend.
func (m *Model) initialise(ws *workspace, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x696e6974))
	for _, v := range ws.vars {
		fanIn, err := m.fanIn(ws, v)
		if err != nil {
			return err
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		dims := m.realDims(variableName(v), v.Shape().Dimensions)
		values := make([]float64, shapes.Make(v.Shape().DType, dims...).Size())
		for i := range values {
			values[i] = (2*rng.Float64() - 1) * bound
		}
		m.names = append(m.names, variableName(v))
		m.weights = append(m.weights, m.tensorOf(values, dims))
	}
	return nil
}

// fanIn is the number of inputs of the layer a weight or bias belongs to, in
// the model's real (unpadded) shape: "in" of dense weights [in, out],
// kh*kw*Cin of kernels [kh, kw, Cin, Cout].
func (m *Model) fanIn(ws *workspace, v *model.Variable) (int, error) {
	w := v
	if v.Name() != "weights" {
		w = ws.store.GetVariable(model.JoinPath(v.Scope(), "weights"))
		if w == nil {
			return 0, fmt.Errorf("initialising %s: no weights in its layer to take fan_in from", v.Path())
		}
	}
	dims := m.realDims(variableName(w), w.Shape().Dimensions)
	if len(dims) < 2 {
		return 0, fmt.Errorf("initialising %s: weights of shape %v", v.Path(), dims)
	}
	fan := 1
	for _, d := range dims[:len(dims)-1] {
		fan *= d
	}
	return fan, nil
}

// realDims is the model's own shape of a variable whose shape in the
// (padded) workspace is dims: an MLP's dense weights [in, out] and biases
// [out] with the widths of its Spec.
func (m *Model) realDims(name string, dims []int) []int {
	if len(m.Spec.Hidden) == 0 {
		return dims
	}
	width := func(layer string) (in, out int, ok bool) {
		in = m.Spec.Inputs
		for i, h := range m.Spec.Hidden {
			if layer == fmt.Sprintf("hidden_%d", i) {
				return in, h, true
			}
			in = h
		}
		if layer == "output" {
			return in, m.Spec.Outputs, true
		}
		return 0, 0, false
	}
	layer, kind, _ := strings.Cut(name, "/")
	in, out, ok := width(layer)
	switch {
	case !ok:
		return dims
	case kind == "weights" && len(dims) == 2:
		return []int{in, out}
	case kind == "biases" && len(dims) == 1:
		return []int{out}
	}
	return dims
}

// tensorOf makes a host tensor of the model's dtype.
func (m *Model) tensorOf(values []float64, dims []int) *tensors.Tensor {
	if m.Spec.DType == Float64 {
		return tensors.FromFlatDataAndDimensions(append([]float64(nil), values...), dims...)
	}
	return tensors.FromFlatDataAndDimensions(toFloat32(values), dims...)
}

// load puts the model's weights and dropout rates into the workspace. The
// workspace gets copies: training replaces (and may donate) its buffers.
func (m *Model) load(ws *workspace) error {
	if len(ws.vars) != len(m.weights) {
		return fmt.Errorf("model has %d weight tensors, its workspace %d", len(m.weights), len(ws.vars))
	}
	for i, v := range ws.vars {
		t, err := resizeTensor(m.weights[i], v.Shape().Dimensions)
		if err == nil {
			err = v.SetValue(t)
		}
		if err != nil {
			return fmt.Errorf("loading %s: %w", m.names[i], err)
		}
	}
	for i, p := range m.Spec.Dropout {
		if err := dropoutVar(ws.store, m.Spec, i).SetValue(scalarTensor(m.Spec, p)); err != nil {
			return fmt.Errorf("loading dropout[%d]: %w", i, err)
		}
	}
	for i, v := range ws.masks {
		mask := make([]float64, ws.spec.Hidden[i])
		for j := range m.Spec.Hidden[i] {
			mask[j] = 1
		}
		if err := v.SetValue(m.tensorOf(mask, []int{len(mask)})); err != nil {
			return fmt.Errorf("loading mask[%d]: %w", i, err)
		}
	}
	return nil
}

// store copies the workspace's weights back into the model.
func (m *Model) store(ws *workspace) error {
	for i, v := range ws.vars {
		value, err := v.Value()
		if err == nil {
			m.weights[i], err = resizeTensor(value, m.weights[i].Shape().Dimensions)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", m.names[i], err)
		}
	}
	return nil
}

// with runs fn on a workspace holding the model's weights: Fit's own while it
// runs (for its callbacks), else one from the pool. When mutates is set, the
// weights are copied back afterwards.
func (m *Model) with(mutates bool, fn func(ws *workspace) error) error {
	if m == nil || m.weights == nil {
		return fmt.Errorf("model not built with nn.New or nn.Load")
	}
	m.mu.Lock()
	if ws := m.ws; ws != nil {
		m.mu.Unlock()
		ws.mu.Lock()
		defer ws.mu.Unlock()
		return fn(ws)
	}
	defer m.mu.Unlock()
	ws, err := m.workspace()
	if err != nil {
		return err
	}
	defer ws.release()
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if err := m.load(ws); err != nil {
		return err
	}
	if err := fn(ws); err != nil {
		return err
	}
	if mutates {
		return m.store(ws)
	}
	return nil
}

// Backend is the backend the model runs on.
func (m *Model) Backend() compute.Backend { return m.backend }

func (ws *workspace) dtype() dtypes.DType {
	if ws.spec.DType == Float64 {
		return dtypes.Float64
	}
	return dtypes.Float32
}

// dropoutVar is the variable holding dropout rate i, fed to the graph so that
// models differing only in dropout share compiled graphs.
func dropoutVar(store *model.Store, spec Spec, i int) *model.Variable {
	path := model.JoinPath(settingsScope, fmt.Sprintf("dropout_%d", i))
	if v := store.GetVariable(path); v != nil {
		return v
	}
	return store.VariableWithValue(path, scalarTensor(spec, spec.Dropout[i])).SetTrainable(false)
}

// maskVar is the variable holding the mask of hidden layer i of a masked
// workspace: 1 for the units of the model, 0 for the padding.
func maskVar(store *model.Store, spec Spec, i int) *model.Variable {
	path := model.JoinPath(settingsScope, fmt.Sprintf("mask_%d", i))
	if v := store.GetVariable(path); v != nil {
		return v
	}
	ones := make([]float64, spec.Hidden[i])
	for j := range ones {
		ones[j] = 1
	}
	var t *tensors.Tensor
	if spec.DType == Float64 {
		t = tensors.FromFlatDataAndDimensions(ones, len(ones))
	} else {
		t = tensors.FromFlatDataAndDimensions(toFloat32(ones), len(ones))
	}
	return store.VariableWithValue(path, t).SetTrainable(false)
}

// Layers returns the layer names, in order: the scopes of the weights and
// the names of the activations the figures show.
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
func (ws *workspace) forward(store *model.Store, x *Node, taps map[string]*Node) *Node {
	scope := store.Scope(modelScope)
	tap := func(name string, n *Node) {
		if taps != nil {
			taps[name] = n
		}
	}
	dropout := func(n *Node, i int) *Node {
		if !store.IsTraining(n.Graph()) || !ws.spec.hasDropout() {
			return n
		}
		return dropoutGraph(store, n, dropoutVar(store, ws.spec, i).NodeValue(n.Graph()))
	}
	switch ws.spec.Kind {
	case KindLeNet5:
		x = relu(layers.Conv(scope.In("conv1"), x, 6, 5, 2))
		tap("conv1", x)
		x = layers.MaxPool2D(x, 2)
		x = relu(layers.Conv(scope.In("conv2"), x, 16, 5, 0))
		tap("conv2", x)
		x = layers.MaxPool2D(x, 2)
		x = dropout(x, 0)
		x = Reshape(x, x.Shape().Dimensions[0], -1)
		x = relu(layers.Dense(scope.In("fc1"), x, 120))
		tap("fc1", x)
		x = dropout(x, 1)
		x = relu(layers.Dense(scope.In("fc2"), x, 84))
		tap("fc2", x)
		x = layers.Dense(scope.In("fc3"), x, 10)
		tap("fc3", x)
	default:
		for i, units := range ws.spec.Hidden {
			name := fmt.Sprintf("hidden_%d", i)
			x = activate(ws.spec.Activation, layers.Dense(scope.In("%s", name), x, units))
			if ws.masked {
				// The padded units output zero whatever the activation
				// (sigmoid(0) is not 0), so nothing reaches the next layer
				// and no gradient reaches their weights.
				x = Mul(x, ExpandAxes(maskVar(store, ws.spec, i).NodeValue(x.Graph()), 0))
			}
			tap(name, x)
			x = dropout(x, i)
		}
		x = layers.Dense(scope.In("output"), x, ws.spec.Outputs)
		tap("output", x)
	}
	return x
}

// dropoutGraph zeroes each value with probability rate and scales the others
// by 1/(1-rate), as torch.nn.Dropout in training. In a network with dropout
// it is built for every layer, rate 0 included (which keeps everything,
// exactly), so that all its rates share one compiled graph.
func dropoutGraph(store *model.Store, x, rate *Node) *Node {
	u := store.RandomUniform(x.Graph(), x.Shape()) // [0, 1)
	keep := GreaterOrEqual(u, BroadcastToShape(rate, x.Shape()))
	return Where(keep, Div(x, OneMinus(rate)), ZerosLike(x))
}

// relu is max(x, 0), written as a select: its gradient is then one select
// (GoMLX differentiates Max with two Signs and four more elementwise ops,
// 8% of a pure-Go LeNet5 step in its profile), 0 at x = 0
// as torch.relu's.
func relu(x *Node) *Node {
	zero := ScalarZero(x.Graph(), x.DType())
	return Where(GreaterThan(x, zero), x, zero)
}

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
