package layers

import (
	"math"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Conv is Conv2D with a kernel [k, k, Cin, cout] and a bias [cout] created in
// scope (the caller picks it with scope.In(name)); the variables are named
// "weights" and "biases". Both are initialised as PyTorch's nn.Conv2d does:
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = Cin*k*k.
func Conv(scope *model.Scope, x *graph.Node, cout, kernelSize, pad int) *graph.Node {
	if x.Rank() != 4 {
		panicf("layers.Conv: x %s must be [batch, H, W, Cin]", x.Shape())
	}
	cin := x.Shape().Dimensions[3]
	fanIn := cin * kernelSize * kernelSize
	kernel := torchUniformVar(scope, "weights", fanIn, shapes.Make(x.DType(), kernelSize, kernelSize, cin, cout))
	bias := torchUniformVar(scope, "biases", fanIn, shapes.Make(x.DType(), cout))
	y := Conv2D(x, kernel.NodeValue(x.Graph()), pad)
	return addBias(y, bias.NodeValue(x.Graph()))
}

// Dense is x·W+b with W [in, out] and b [out] created in scope (variables
// "weights" and "biases"), initialised as torch.nn.Linear:
// U(-1/sqrt(in), 1/sqrt(in)). x is [..., in]; leading axes are kept.
func Dense(scope *model.Scope, x *graph.Node, out int) *graph.Node {
	if x.Rank() < 1 {
		panicf("layers.Dense: x must have at least one axis, got a scalar")
	}
	in := x.Shape().Dimensions[x.Rank()-1]
	w := torchUniformVar(scope, "weights", in, shapes.Make(x.DType(), in, out))
	b := torchUniformVar(scope, "biases", in, shapes.Make(x.DType(), out))
	g := x.Graph()
	x2 := x
	if x.Rank() != 2 {
		x2 = graph.Reshape(x, -1, in)
	}
	y := addBias(graph.Dot(x2, w.NodeValue(g)).Product(), b.NodeValue(g))
	if x.Rank() != 2 {
		outDims := append(x.Shape().Clone().Dimensions[:x.Rank()-1], out)
		y = graph.Reshape(y, outDims...)
	}
	return y
}

// torchUniformVar creates (or reuses) a variable initialised uniformly in
// [-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's default for Linear and Conv2d
// weights (kaiming-uniform with a=sqrt(5)) and biases.
func torchUniformVar(scope *model.Scope, name string, fanIn int, shape shapes.Shape) *model.Variable {
	bound := 1 / math.Sqrt(float64(fanIn))
	init := func(g *graph.Graph, s shapes.Shape) *graph.Node {
		u := scope.RandomUniform(g, s) // [0, 1)
		return graph.AddScalar(graph.MulScalar(u, 2*bound), -bound)
	}
	return scope.WithInitializer(init).VariableWithShape(name, shape)
}

// addBias adds b [n] along the last axis of y [..., n]: GoMLX broadcasts only
// between equal ranks, so b is first reshaped to [1, ..., 1, n].
func addBias(y, b *graph.Node) *graph.Node {
	dims := make([]int, y.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = b.Shape().Dimensions[0]
	return graph.Add(y, graph.Reshape(b, dims...))
}
