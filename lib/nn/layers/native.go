package layers

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

// useNative, when true, lets Conv2D and MaxPool2D use the backend's own
// convolution and pooling ops where the backend can also run their gradients
// (XLA can; the pure-Go backend cannot). It is a variable so that tests and
// benchmarks can compare both paths on the same backend.
var useNative = true

// nativeConvOK reports whether g's backend runs ConvGeneral and the ops of
// its gradient (Pad, Reverse).
func nativeConvOK(g *graph.Graph) bool {
	return useNative && hasOps(g, compute.OpTypeConvGeneral, compute.OpTypePad, compute.OpTypeReverse)
}

// nativePoolOK reports whether g's backend runs ReduceWindow and the op of
// its max gradient (SelectAndScatterMax).
func nativePoolOK(g *graph.Graph) bool {
	return useNative && hasOps(g, compute.OpTypeReduceWindow, compute.OpTypeSelectAndScatterMax)
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
