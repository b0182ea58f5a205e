package layers

import (
	"fmt"
	"reflect"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// GoMLX's default gradients of Slice (needs Pad) and of Dot (broadcasts a
// matrix product to an [i, j, k] tensor before reducing it) are replaced at
// init by versions that are exact for the cases this package produces and
// defer to the original gradient otherwise, so other users of these ops in the
// same program are unaffected in meaning.
var (
	defaultSliceVJP      = graph.VJPRegistration[graph.NodeTypeSlice]
	defaultDotGeneralVJP = graph.VJPRegistration[graph.NodeTypeDotGeneral]
)

func init() {
	graph.VJPRegistration[graph.NodeTypeSlice] = sliceVJP
	graph.VJPRegistration[graph.NodeTypeDotGeneral] = dotGeneralVJP
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

// sliceParams reads the starts, limits and strides of a Slice node.
func sliceParams(node *graph.Node) (starts, limits, strides []int, ok bool) {
	p, ok := readIntParams(node, "starts", "limits", "strides")
	if !ok {
		return nil, nil, nil, false
	}
	rank := node.Inputs()[0].Rank()
	if len(p[0]) != rank || len(p[1]) != rank || len(p[2]) != rank {
		return nil, nil, nil, false
	}
	return p[0], p[1], p[2], true
}

// readIntParams reads the named []int fields of a node's parameters. GoMLX
// keeps them unexported; reflect may read (never write) them. ok is false if
// GoMLX's layout ever changes, and callers then use GoMLX's own gradient.
func readIntParams(node *graph.Node, names ...string) (out [][]int, ok bool) {
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	in := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !in.IsValid() || in.Kind() != reflect.Interface || in.IsNil() {
		return nil, false
	}
	p := in.Elem()
	if p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	if p.Kind() != reflect.Struct {
		return nil, false
	}
	for _, name := range names {
		f := p.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Slice {
			return nil, false
		}
		vals := make([]int, f.Len())
		for i := range vals {
			vals[i] = int(f.Index(i).Int())
		}
		out = append(out, vals)
	}
	return out, true
}

// panicf reports a programmer error while a graph is being built; GoMLX (and
// lib/nn's public API) recover such panics into errors.
func panicf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}

// dotGeneralVJP computes the gradients of a DotGeneral as two DotGenerals
// (contracting the output gradient with the other operand, then transposing
// to the operand's axis order) instead of GoMLX's broadcast-multiply-reduce,
// which materialises a tensor with every batch, cross and contracting axis.
func dotGeneralVJP(node *graph.Node, vjps []*graph.Node, outShape shapes.Shape) []*graph.Node {
	p, ok := readIntParams(node, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes")
	in := node.Inputs()
	if !ok || len(in) != 2 || len(vjps) != 1 || node.DType().IsComplex() {
		return defaultDotGeneralVJP(node, vjps, outShape)
	}
	lhs, rhs, v := in[0], in[1], vjps[0]
	lc, lb, rc, rb := p[0], p[1], p[2], p[3]
	lx, rx := crossAxes(lhs.Rank(), lc, lb), crossAxes(rhs.Rank(), rc, rb)
	nb, nlx, nrx := len(lb), len(lx), len(rx)
	if v.Rank() != nb+nlx+nrx || len(lc) != len(rc) || len(lb) != len(rb) {
		return defaultDotGeneralVJP(node, vjps, outShape)
	}
	vBatch := seq(0, nb)
	vLhsCross := seq(nb, nlx)
	vRhsCross := seq(nb+nlx, nrx)

	// d lhs: contract v's rhs-cross axes with rhs's cross axes. The result is
	// [batch, lhs cross, rhs contracting axes in rhs order].
	dl := graph.DotGeneral(v, vRhsCross, vBatch, rhs, rx, rb)
	lhsAxisOf := make([]int, 0, lhs.Rank())
	lhsAxisOf = append(lhsAxisOf, lb...)
	lhsAxisOf = append(lhsAxisOf, lx...)
	lhsAxisOf = append(lhsAxisOf, pairedInOrder(rhs.Rank(), rc, lc)...)

	// d rhs: contract lhs's cross axes with v's lhs-cross axes. The result is
	// [batch, lhs contracting axes in lhs order, rhs cross].
	dr := graph.DotGeneral(lhs, lx, lb, v, vLhsCross, vBatch)
	rhsAxisOf := make([]int, 0, rhs.Rank())
	rhsAxisOf = append(rhsAxisOf, rb...)
	rhsAxisOf = append(rhsAxisOf, pairedInOrder(lhs.Rank(), lc, rc)...)
	rhsAxisOf = append(rhsAxisOf, rx...)

	return []*graph.Node{toAxisOrder(dl, lhsAxisOf), toAxisOrder(dr, rhsAxisOf)}
}

// crossAxes are the axes of an operand that are neither contracted nor batch.
func crossAxes(rank int, contracting, batch []int) []int {
	used := make([]bool, rank)
	for _, a := range contracting {
		used[a] = true
	}
	for _, a := range batch {
		used[a] = true
	}
	var out []int
	for a := range rank {
		if !used[a] {
			out = append(out, a)
		}
	}
	return out
}

// pairedInOrder lists, for this operand's contracting axes in increasing
// order (the order DotGeneral keeps them as free axes), the paired
// contracting axis of the other operand.
func pairedInOrder(rank int, these, others []int) []int {
	var out []int
	for a := range rank {
		for i, t := range these {
			if t == a {
				out = append(out, others[i])
			}
		}
	}
	return out
}

// toAxisOrder transposes x, whose axis i holds the operand's axis axisOf[i],
// into the operand's own axis order.
func toAxisOrder(x *graph.Node, axisOf []int) *graph.Node {
	perm := make([]int, len(axisOf))
	identity := true
	for i, a := range axisOf {
		perm[a] = i
	}
	for i, p := range perm {
		if i != p {
			identity = false
		}
	}
	if identity {
		return x
	}
	return graph.TransposeAllAxes(x, perm...)
}

func seq(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
