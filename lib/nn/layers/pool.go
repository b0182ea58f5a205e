package layers

import (
	"github.com/gomlx/gomlx/core/graph"
)

// MaxPool2D takes the max over non-overlapping k x k windows (stride k) of
// x [batch, H, W, C]; H and W must be multiples of k.
//
// It is a reshape to [batch, H/k, k, W/k, k, C] and a ReduceMax, measured
// faster than GoMLX's MaxPool (ReduceWindow, whose gradient is
// SelectAndScatterMax) on the pure-Go backend and on XLA CPU; poolImpl selects
// the latter. Where a window holds several equal maxima, each of them receives
// the gradient here; the native op, like PyTorch, gives it to one.
func MaxPool2D(x *graph.Node, k int) *graph.Node {
	if x.Rank() != 4 {
		panicf("layers.MaxPool2D: x %s must be [batch, H, W, C]", x.Shape())
	}
	b, h, w, c := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2], x.Shape().Dimensions[3]
	if k < 1 || h%k != 0 || w%k != 0 {
		panicf("layers.MaxPool2D: window %d does not divide H=%d and W=%d", k, h, w)
	}
	if k == 1 {
		return x
	}
	if nativePoolOK(x.Graph()) {
		return nativeMaxPool2D(x, k)
	}
	return graph.ReduceMax(graph.Reshape(x, b, h/k, k, w/k, k, c), 2, 4)
}
