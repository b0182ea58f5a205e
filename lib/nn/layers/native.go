package layers

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

// Which implementation Conv2D and MaxPool2D use. Both give the same values
// and gradients (the tests check each against the same loops); they differ in
// speed, measured for LeNet5 in docs/PERFORMANCE.md. They are variables so
// that tests and benchmarks can run both on the same backend.
var (
	// nativeConv selects the backend's ConvGeneral instead of the im2col.
	// Off: with GoMLX v0.28.2 the im2col is faster on the pure-Go backend and
	// on XLA CPU alike.
	nativeConv = false
	// nativePool selects the backend's ReduceWindow (gradient
	// SelectAndScatterMax) instead of the reshape and ReduceMax.
	nativePool = false
)

// nativeConvOK reports whether Conv2D should use g's backend's ConvGeneral:
// when selected and the backend has it and the ops of its gradient (Pad,
// Reverse).
func nativeConvOK(g *graph.Graph) bool {
	return nativeConv && hasOps(g, compute.OpTypeConvGeneral, compute.OpTypePad, compute.OpTypeReverse)
}

// nativePoolOK reports whether MaxPool2D should use g's backend's
// ReduceWindow: when selected and the backend has it and the op of its max
// gradient (SelectAndScatterMax; the pure-Go backend has it from compute
// v0.1.3 on).
func nativePoolOK(g *graph.Graph) bool {
	return nativePool && hasOps(g, compute.OpTypeReduceWindow, compute.OpTypeSelectAndScatterMax)
}

func hasOps(g *graph.Graph, ops ...compute.OpType) bool {
	caps := g.Backend().Capabilities()
	for _, op := range ops {
		if !caps.Operations[op] {
			return false
		}
	}
	return true
}

// nativeConv2D is Conv2D with the backend's convolution op.
func nativeConv2D(x, kernel *graph.Node, pad int) *graph.Node {
	return graph.Convolve(x, kernel).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
}

// nativeMaxPool2D is MaxPool2D with the backend's pooling op.
func nativeMaxPool2D(x *graph.Node, k int) *graph.Node {
	return graph.MaxPool(x).Window(k).Strides(k).NoPadding().Done()
}
