package layers

import (
	"fmt"
	"reflect"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX's default gradients of Slice (needs Pad) and of Dot (broadcasts a
// matrix product to an [i, j, k] tensor before reducing it) are replaced at
// init by versions that are exact for the cases this package produces and
// defer to the original gradient otherwise, so other users of these ops in the
// same program are unaffected in meaning.
var (
	defaultSliceVJP = graph.VJPRegistration[graph.NodeTypeSlice]
	defaultDotVJP   = graph.VJPRegistration[graph.NodeTypeDot]
)

func init() {
	graph.VJPRegistration[graph.NodeTypeSlice] = sliceVJP
	graph.VJPRegistration[graph.NodeTypeDot] = dotVJP
}

// sliceVJP places the incoming gradient where the slice came from and zeros
// elsewhere, by concatenating zero blocks axis by axis instead of Pad (which
// the pure-Go backend lacks). Strided slices keep GoMLX's gradient.
func sliceVJP(node *graph.Node, vjps []*graph.Node, outShape shapes.Shape) []*graph.Node {
	starts, limits, strides, ok := sliceParams(node)
	if !ok || len(vjps) != 1 {
		return defaultSliceVJP(node, vjps, outShape)
	}
	for _, s := range strides {
		if s > 1 {
			return defaultSliceVJP(node, vjps, outShape)
		}
	}
	x := node.Inputs()[0]
	v := vjps[0]
	g := v.Graph()
	dims := x.Shape().Dimensions
	for axis := range dims {
		before, after := starts[axis], dims[axis]-limits[axis]
		if before == 0 && after == 0 {
			continue
		}
		parts := make([]*graph.Node, 0, 3)
		if before > 0 {
			parts = append(parts, zerosLikeAlong(g, v, axis, before))
		}
		parts = append(parts, v)
		if after > 0 {
			parts = append(parts, zerosLikeAlong(g, v, axis, after))
		}
		v = graph.Concatenate(parts, axis)
	}
	return []*graph.Node{v}
}

// zerosLikeAlong is a block of zeros shaped like v except n long on axis.
func zerosLikeAlong(g *graph.Graph, v *graph.Node, axis, n int) *graph.Node {
	shape := v.Shape().Clone()
	shape.Dimensions[axis] = n
	return graph.Zeros(g, shape)
}

// sliceParams reads the starts, limits and strides of a Slice node. GoMLX
// keeps them unexported; reflect may read (never write) them. ok is false if
// GoMLX's layout ever changes, and the caller then uses the default gradient.
func sliceParams(node *graph.Node) (starts, limits, strides []int, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	in := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !in.IsValid() || in.Kind() != reflect.Interface || in.IsNil() {
		return nil, nil, nil, false
	}
	p := in.Elem()
	if p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	if p.Kind() != reflect.Struct {
		return nil, nil, nil, false
	}
	read := func(name string) []int {
		f := p.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice {
			return nil
		}
		out := make([]int, f.Len())
		for i := range out {
			out[i] = int(f.Index(i).Int())
		}
		return out
	}
	starts, limits, strides = read("starts"), read("limits"), read("strides")
	rank := node.Inputs()[0].Rank()
	if len(starts) != rank || len(limits) != rank || len(strides) != rank {
		return nil, nil, nil, false
	}
	return starts, limits, strides, true
}

// dotVJP computes the gradient of a matrix product a[i,j]·b[j,k] as two
// matrix products, v·bᵀ and aᵀ·v, instead of GoMLX's broadcast to [i,j,k].
// Other ranks keep GoMLX's gradient.
func dotVJP(node *graph.Node, vjps []*graph.Node, outShape shapes.Shape) []*graph.Node {
	in := node.Inputs()
	if len(in) != 2 || len(vjps) != 1 || in[0].Rank() != 2 || in[1].Rank() != 2 || node.Rank() != 2 {
		return defaultDotVJP(node, vjps, outShape)
	}
	a, b, v := in[0], in[1], vjps[0]
	return []*graph.Node{
		graph.DotGeneral(v, []int{1}, nil, b, []int{1}, nil), // [i,k]·[j,k] over k -> [i,j]
		graph.DotGeneral(a, []int{0}, nil, v, []int{0}, nil), // [i,j]·[i,k] over i -> [j,k]
	}
}

// panicf reports a programmer error while a graph is being built; GoMLX (and
// lib/nn's public API) recover such panics into errors.
func panicf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}
