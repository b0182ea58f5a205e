package layers

import (
	"github.com/gomlx/gomlx/core/graph"
)

// Conv2D convolves x [batch, H, W, Cin] (channels last) with kernel
// [kh, kw, Cin, Cout], stride 1, symmetric zero padding pad. The result is
// [batch, H+2*pad-kh+1, W+2*pad-kw+1, Cout].
//
// Like PyTorch's Conv2d it is a cross-correlation (the kernel is not flipped).
// It panics (inside graph building) on shapes that do not fit.
func Conv2D(x, kernel *graph.Node, pad int) *graph.Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		panicf("layers.Conv2D: x %s must be [batch, H, W, Cin] and kernel %s [kh, kw, Cin, Cout]", x.Shape(), kernel.Shape())
	}
	if pad < 0 {
		panicf("layers.Conv2D: negative padding %d", pad)
	}
	b, h, w, cin := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2], x.Shape().Dimensions[3]
	kh, kw, kcin, cout := kernel.Shape().Dimensions[0], kernel.Shape().Dimensions[1], kernel.Shape().Dimensions[2], kernel.Shape().Dimensions[3]
	if kcin != cin {
		panicf("layers.Conv2D: x %s has %d channels but kernel %s expects %d", x.Shape(), cin, kernel.Shape(), kcin)
	}
	ho, wo := h+2*pad-kh+1, w+2*pad-kw+1
	if ho < 1 || wo < 1 {
		panicf("layers.Conv2D: kernel %dx%d larger than padded input %dx%d", kh, kw, h+2*pad, w+2*pad)
	}
	// GoMLX's gradient of Convolve fails when the padding exceeds kernel-1
	// ("outputDimStart ... out-of-bounds", still in v0.28.2); such shapes
	// use the im2col.
	if nativeConvOK(x.Graph()) && pad < kh && pad < kw {
		return nativeConv2D(x, kernel, pad)
	}
	patches := im2col(zeroPad(x, pad), kh, kw, ho, wo) // [b, ho*wo, kh*kw*cin]
	k := graph.Reshape(kernel, kh*kw*cin, cout)        // same (di, dj, c) order
	var y *graph.Node
	switch convMatmul {
	case matmulFlat:
		y = graph.Dot(graph.Reshape(patches, b*ho*wo, kh*kw*cin), k).Product()
	default:
		// One product per image, with the kernel (transposed so that the
		// contracted axis is last, the layout the pure-Go backend multiplies
		// without copying) broadcast along the batch: each product is small
		// enough for the backend's direct loop instead of its 64x64-block path,
		// and the images are spread over its workers.
		kt := graph.BroadcastToDims(graph.InsertAxes(graph.Transpose(k, 0, 1), 0), b, cout, kh*kw*cin)
		y = graph.DotGeneral(patches, []int{2}, []int{0}, kt, []int{2}, []int{0})
	}
	return graph.Reshape(y, b, ho, wo, cout)
}

// How Conv2D multiplies the patches by the kernel; a variable so that
// benchmarks can compare the variants.
const (
	matmulBatched = iota // a DotGeneral with the batch as batch axis
	matmulFlat           // one Dot of [b*ho*wo, kh*kw*cin] x [kh*kw*cin, cout]
)

var convMatmul = matmulBatched

// zeroPad surrounds the H and W axes of x with pad zeros on each side. It
// concatenates zero blocks rather than use Pad, which GoMLX v0.28.2 cannot
// differentiate (no gradient is registered for it): a padded layer that is
// not the first one needs that gradient.
func zeroPad(x *graph.Node, pad int) *graph.Node {
	if pad == 0 {
		return x
	}
	g := x.Graph()
	for _, axis := range []int{1, 2} {
		z := zerosLikeAlong(g, x, axis, pad)
		x = graph.Concatenate([]*graph.Node{z, x, z}, axis)
	}
	return x
}

// im2col gathers, for every output pixel, the kh x kw window of xp
// [b, H, W, C] into one row: [b*ho*wo, kh*kw*C], ordered (di, dj, c) to match
// a kernel [kh, kw, C, Cout] reshaped to [kh*kw*C, Cout]; the result is
// [b, ho*wo, kh*kw*C].
func im2col(xp *graph.Node, kh, kw, ho, wo int) *graph.Node {
	dims := xp.Shape().Dimensions
	b, c := dims[0], dims[3]
	cols := make([]*graph.Node, 0, kh*kw)
	for di := range kh {
		for dj := range kw {
			cols = append(cols, graph.Slice(xp, graph.AxisRange(), graph.AxisRange(di, di+ho), graph.AxisRange(dj, dj+wo), graph.AxisRange()))
		}
	}
	if len(cols) == 1 {
		return graph.Reshape(cols[0], b, ho*wo, c)
	}
	return graph.Reshape(graph.Concatenate(cols, 3), b, ho*wo, kh*kw*c)
}

// zerosLikeAlong is a block of zeros shaped like v except n long on axis.
func zerosLikeAlong(g *graph.Graph, v *graph.Node, axis, n int) *graph.Node {
	shape := v.Shape().Clone()
	shape.Dimensions[axis] = n
	return graph.Zeros(g, shape)
}
