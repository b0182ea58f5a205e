package layers

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

// impl is an implementation of Conv2D or MaxPool2D. Both implementations of
// each give the same values and gradients (the tests check each against the
// same loops); they differ in speed, measured for LeNet5 in
// docs/PERFORMANCE.md.
type impl int

const (
	// implAuto is the one measured faster on the graph's backend.
	implAuto impl = iota
	// implPortable is the im2col convolution, or the reshape and ReduceMax.
	implPortable
	// implNative is the backend's ConvGeneral, or its ReduceWindow (whose
	// gradient is SelectAndScatterMax).
	implNative
)

// convImpl and poolImpl choose the implementations; variables so that tests
// and benchmarks can run both on the same backend.
var convImpl, poolImpl = implAuto, implAuto

// nativeConvBackends are the backends (by compute.Backend.Name) on which
// Conv2D uses the backend's own convolution by default. With GoMLX v0.28.2, on
// XLA CPU it trains a LeNet5 step at batch 256 in half the time of the im2col,
// evaluates 3x faster and compiles faster, for about the same step at batch
// 64; on the pure-Go backend the im2col takes half the CPU time at every batch
// size. The reshape max-pool is faster than ReduceWindow on both, so it has no
// such list.
var nativeConvBackends = map[string]bool{"xla": true}

// nativeConvOK reports whether Conv2D should use g's backend's ConvGeneral:
// when chosen (or the default there) and the backend has it and the ops of its
// gradient (Pad, Reverse).
func nativeConvOK(g *graph.Graph) bool {
	native := convImpl == implNative || (convImpl == implAuto && nativeConvBackends[g.Backend().Name()])
	return native && hasOps(g, compute.OpTypeConvGeneral, compute.OpTypePad, compute.OpTypeReverse)
}

// nativePoolOK reports whether MaxPool2D should use g's backend's
// ReduceWindow: when chosen and the backend has it and the op of its max
// gradient (SelectAndScatterMax; the pure-Go backend has it from compute
// v0.1.3 on).
func nativePoolOK(g *graph.Graph) bool {
	return poolImpl == implNative && hasOps(g, compute.OpTypeReduceWindow, compute.OpTypeSelectAndScatterMax)
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
