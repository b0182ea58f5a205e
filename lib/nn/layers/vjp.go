package layers

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// GoMLX v0.28.2's gradient of DotGeneral is wrong when an operand's
// contracting axes are not listed in increasing order, e.g.
// DotGeneral(a, {3, 0}, {2}, b, {0, 2}, {1}): the gradient of the other
// operand comes out with its contracting axes in a different order, which is
// a shape error when their sizes differ and silently wrong values when they
// are equal (docs/upstream-gomlx-notes.md). Such products never occur in
// lib/nn's graphs (every product has one contracting axis), but an Einsum
// written in a notebook makes them easily. So this package registers, at
// init, a DotGeneral gradient that is GoMLX's own whenever the contracting
// axes are in increasing order on both sides, and its own two DotGenerals
// otherwise. The product of two matrices (every Dense layer's) gets the same
// values in faster layouts (matMulVJP).
//
// Until GoMLX v0.26.0 this file also replaced the gradients of Slice (which
// needed Pad, absent on the pure-Go backend) and Dot and DotGeneral (which
// broadcast to a tensor of every axis before reducing it). GoMLX v0.28.2 with
// compute v0.1.3 has Pad on every backend and computes the gradient of a
// DotGeneral with DotGenerals, so those are GoMLX's again.
var defaultDotGeneralVJP = graph.VJPRegistration[graph.NodeTypeDotGeneral]

func init() {
	graph.VJPRegistration[graph.NodeTypeDotGeneral] = dotGeneralVJP
}

// panicf reports a programmer error while a graph is being built; GoMLX (and
// lib/nn's public API) recover such panics into errors.
func panicf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}

// dotGeneralVJP is GoMLX's gradient of a DotGeneral where that one is right;
// where an operand's contracting axes are out of order, it computes both
// gradients as two DotGenerals (contracting the output gradient with the other
// operand, then transposing to the operand's axis order).
func dotGeneralVJP(node *graph.Node, vjps []*graph.Node, outShape shapes.Shape) []*graph.Node {
	p, ok := readIntParams(node, "lhsContractingAxes", "lhsBatchAxes", "rhsContractingAxes", "rhsBatchAxes")
	in := node.Inputs()
	if ok && isPlainMatMul(node, in, vjps, p) {
		return matMulVJP(in[0], in[1], vjps[0])
	}
	if !ok || len(in) != 2 || len(vjps) != 1 || node.DType().IsComplex() ||
		(slices.IsSorted(p[0]) && slices.IsSorted(p[2])) {
		return defaultDotGeneralVJP(node, vjps, outShape)
	}
	lhs, rhs, v := in[0], in[1], vjps[0]
	if lhs.DType() != v.DType() || rhs.DType() != v.DType() {
		return defaultDotGeneralVJP(node, vjps, outShape) // mixed precision: GoMLX's handles the dtypes
	}
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

// isPlainMatMul reports whether node is x·W of two matrices (x [n, k]
// contracting its axis 1 with W [k, m]'s axis 0, no batch axes, one dtype
// throughout and the default accumulation): the product of every Dense layer.
func isPlainMatMul(node *graph.Node, in, vjps []*graph.Node, p [][]int) bool {
	if len(in) != 2 || len(vjps) != 1 || in[0].Rank() != 2 || in[1].Rank() != 2 {
		return false
	}
	dt := node.DType()
	if dt.IsComplex() || in[0].DType() != dt || in[1].DType() != dt || vjps[0].DType() != dt {
		return false
	}
	if !slices.Equal(p[0], []int{1}) || len(p[1]) != 0 || !slices.Equal(p[2], []int{0}) || len(p[3]) != 0 {
		return false
	}
	return defaultConfig(node)
}

// matMulVJP is the gradient of x·W in the layouts the pure-Go backend
// multiplies fastest: dx = v·Wᵀ contracts both operands' last axes, and
// dW = xᵀ·v multiplies the (small) transposed activations by v as a plain
// matrix product, giving [k, m] directly. GoMLX's own gradient computes dW as
// (vᵀ·x)ᵀ: the backend then transposes v and x, contracts over the batch with
// a scalar loop when the batch is under 16 (a vector's width), and transposes
// the [m, k] result back, a weight-sized copy on every step. On the seed's
// regression MLPs this form halved the pure-Go time of a step at batch 29
// (docs/PERFORMANCE.md); XLA compiles either form to the same product.
func matMulVJP(x, w, v *graph.Node) []*graph.Node {
	dx := graph.DotGeneral(v, []int{1}, nil, w, []int{1}, nil)
	dw := graph.DotGeneral(graph.Transpose(x, 0, 1), []int{1}, nil, v, []int{0}, nil)
	return []*graph.Node{dx, dw}
}

// defaultConfig reports whether a DotGeneral node has the zero
// DotGeneralConfig (no accumulator or output dtype asked for); false when
// GoMLX's layout of its parameters is not the one read here.
func defaultConfig(node *graph.Node) bool {
	c, ok := paramField(node, "config")
	return ok && c.IsZero()
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
	for _, name := range names {
		f, found := paramField(node, name)
		if !found || f.Kind() != reflect.Slice {
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

// paramField is the named field of a node's (unexported) parameters struct,
// read with reflect; ok is false when GoMLX's layout is not the one expected.
func paramField(node *graph.Node, name string) (f reflect.Value, ok bool) {
	defer func() {
		if recover() != nil {
			f, ok = reflect.Value{}, false
		}
	}()
	in := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !in.IsValid() || in.Kind() != reflect.Interface || in.IsNil() {
		return reflect.Value{}, false
	}
	p := in.Elem()
	if p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	if p.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f = p.FieldByName(name)
	return f, f.IsValid()
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
