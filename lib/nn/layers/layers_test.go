package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// naiveConv is the reference convolution in plain loops: x [b,h,w,cin],
// k [kh,kw,cin,cout], stride 1, zero padding pad, cross-correlation as PyTorch.
func naiveConv(x []float64, b, h, w, cin int, k []float64, kh, kw, cout, pad int) (out []float64, ho, wo int) {
	ho, wo = h+2*pad-kh+1, w+2*pad-kw+1
	out = make([]float64, b*ho*wo*cout)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for o := range cout {
					var s float64
					for di := range kh {
						for dj := range kw {
							yi, xj := i+di-pad, j+dj-pad
							if yi < 0 || yi >= h || xj < 0 || xj >= w {
								continue
							}
							for c := range cin {
								s += x[((n*h+yi)*w+xj)*cin+c] * k[((di*kw+dj)*cin+c)*cout+o]
							}
						}
					}
					out[((n*ho+i)*wo+j)*cout+o] = s
				}
			}
		}
	}
	return out, ho, wo
}

// naiveMaxPool is the reference max-pool in plain loops.
func naiveMaxPool(x []float64, b, h, w, c, k int) []float64 {
	ho, wo := h/k, w/k
	out := make([]float64, b*ho*wo*c)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for ch := range c {
					m := math.Inf(-1)
					for di := range k {
						for dj := range k {
							m = max(m, x[((n*h+i*k+di)*w+j*k+dj)*c+ch])
						}
					}
					out[((n*ho+i)*wo+j)*c+ch] = m
				}
			}
		}
	}
	return out
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

func prod(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// forEachImpl runs fn with each implementation of Conv2D and MaxPool2D
// selected: the im2col and reshape-max, then the backend's own ops (which
// Conv2D still skips where their gradient fails), whatever the defaults are.
func forEachImpl(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, native := range []bool{false, true} {
		name := "im2col"
		if native {
			name = "native"
		}
		t.Run(name, func(t *testing.T) {
			conv, pool := convImpl, poolImpl
			convImpl, poolImpl = implPortable, implPortable
			if native {
				convImpl, poolImpl = implNative, implNative
			}
			defer func() { convImpl, poolImpl = conv, pool }()
			fn(t)
		})
	}
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s: element %d = %.9g, want %.9g (diff %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// run1 executes fn once on the backend and returns its single output flat.
func run1(t *testing.T, be compute.Backend, fn func([]*graph.Node) *graph.Node, args ...*tensors.Tensor) ([]float64, []int) {
	t.Helper()
	exec, err := graph.NewExec(be, fn)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]any, len(args))
	for i, a := range args {
		in[i] = a
	}
	out, err := exec.Call(in...)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float64](out[0]), out[0].Shape().Dimensions
}

// checkGradient compares graph.Gradient of the scalar f against central
// finite differences of f itself, for every element of every input. f must
// be smooth at the point (for max-pool: distinct values, eps below their gaps).
func checkGradient(t *testing.T, be compute.Backend, name string, f func([]*graph.Node) *graph.Node, eps, tol float64, values [][]float64, dims [][]int) {
	t.Helper()
	tensorsOf := func(vals [][]float64) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			out[i] = tensors.FromFlatDataAndDimensions(v, dims[i]...)
		}
		return out
	}
	gradExec, err := graph.NewExec(be, func(in []*graph.Node) []*graph.Node {
		return graph.Gradient(f(in), in...)
	})
	if err != nil {
		t.Fatal(err)
	}
	grads, err := gradExec.Call(tensorsOf(values)...)
	if err != nil {
		t.Fatalf("%s: gradient: %v", name, err)
	}
	fExec, err := graph.NewExec(be, f)
	if err != nil {
		t.Fatal(err)
	}
	eval := func(vals [][]float64) float64 {
		out, err := fExec.Call(tensorsOf(vals)...)
		if err != nil {
			t.Fatalf("%s: forward: %v", name, err)
		}
		return tensors.MustCopyFlatData[float64](out[0])[0]
	}
	for i := range values {
		got := tensors.MustCopyFlatData[float64](grads[i])
		want := make([]float64, len(values[i]))
		for j := range values[i] {
			orig := values[i][j]
			values[i][j] = orig + eps
			fp := eval(values)
			values[i][j] = orig - eps
			fm := eval(values)
			values[i][j] = orig
			want[j] = (fp - fm) / (2 * eps)
		}
		assertClose(t, fmt.Sprintf("%s: d/d input %d", name, i), got, want, tol)
	}
}

// weightedSum turns y into a scalar whose gradient wrt y is the fixed r,
// so every output element is checked with a distinct weight.
func weightedSum(y *graph.Node, r []float64) *graph.Node {
	return graph.ReduceAllSum(graph.Mul(y, graph.Const(y.Graph(), tensors.FromFlatDataAndDimensions(r, y.Shape().Dimensions...))))
}

type convCase struct{ b, h, w, cin, kh, kw, cout, pad int }

var convCases = []convCase{
	{b: 2, h: 6, w: 5, cin: 3, kh: 3, kw: 3, cout: 4, pad: 0},
	{b: 2, h: 5, w: 6, cin: 2, kh: 3, kw: 2, cout: 3, pad: 2},
	{b: 1, h: 8, w: 8, cin: 1, kh: 5, kw: 5, cout: 6, pad: 2}, // conv1 of LeNet5, smaller image
	{b: 1, h: 1, w: 1, cin: 2, kh: 1, kw: 1, cout: 2, pad: 0},
}

func TestConv2DForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, be := range backendtest.ForTests(t) {
		for _, c := range convCases {
			t.Run(fmt.Sprintf("%s/%+v", be.Name, c), func(t *testing.T) {
				x := randSlice(rng, c.b*c.h*c.w*c.cin)
				k := randSlice(rng, c.kh*c.kw*c.cin*c.cout)
				want, ho, wo := naiveConv(x, c.b, c.h, c.w, c.cin, k, c.kh, c.kw, c.cout, c.pad)
				forEachImpl(t, func(t *testing.T) {
					got, dims := run1(t, be.Backend, func(in []*graph.Node) *graph.Node { return Conv2D(in[0], in[1], c.pad) },
						tensors.FromFlatDataAndDimensions(x, c.b, c.h, c.w, c.cin),
						tensors.FromFlatDataAndDimensions(k, c.kh, c.kw, c.cin, c.cout))
					if fmt.Sprint(dims) != fmt.Sprint([]int{c.b, ho, wo, c.cout}) {
						t.Fatalf("shape %v, want %v", dims, []int{c.b, ho, wo, c.cout})
					}
					assertClose(t, "Conv2D", got, want, 1e-12)
				})
			})
		}
	}
}

func TestConv2DGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, be := range backendtest.ForTests(t) {
		for _, c := range convCases[:3] {
			t.Run(fmt.Sprintf("%s/%+v", be.Name, c), func(t *testing.T) {
				xDims := []int{c.b, c.h, c.w, c.cin}
				kDims := []int{c.kh, c.kw, c.cin, c.cout}
				ho, wo := c.h+2*c.pad-c.kh+1, c.w+2*c.pad-c.kw+1
				r := randSlice(rng, c.b*ho*wo*c.cout)
				f := func(in []*graph.Node) *graph.Node {
					// Squaring makes f non-linear in x and k, so the check also
					// sees the product of both gradients' paths.
					y := Conv2D(in[0], in[1], c.pad)
					return weightedSum(graph.Mul(y, y), r)
				}
				values := [][]float64{randSlice(rng, prod(xDims)), randSlice(rng, prod(kDims))}
				forEachImpl(t, func(t *testing.T) {
					checkGradient(t, be.Backend, "Conv2D", f, 1e-6, 1e-6, values, [][]int{xDims, kDims})
				})
			})
		}
	}
}

// distinctValues returns n values in [-1, 1) spaced at least 1/n apart, in random order.
func distinctValues(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i, p := range rng.Perm(n) {
		v[i] = 2*float64(p)/float64(n) - 1
	}
	return v
}

func TestMaxPool2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, be := range backendtest.ForTests(t) {
		for _, k := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/k=%d", be.Name, k), func(t *testing.T) {
				dims := []int{2, 2 * k, 3 * k, 3}
				x := distinctValues(rng, prod(dims))
				want := naiveMaxPool(x, dims[0], dims[1], dims[2], dims[3], k)
				r := randSlice(rng, len(want))
				forEachImpl(t, func(t *testing.T) {
					got, gotDims := run1(t, be.Backend, func(in []*graph.Node) *graph.Node { return MaxPool2D(in[0], k) },
						tensors.FromFlatDataAndDimensions(x, dims...))
					if fmt.Sprint(gotDims) != fmt.Sprint([]int{2, 2, 3, 3}) {
						t.Fatalf("shape %v, want [2 2 3 3]", gotDims)
					}
					assertClose(t, "MaxPool2D", got, want, 0)

					f := func(in []*graph.Node) *graph.Node { return weightedSum(MaxPool2D(in[0], k), r) }
					// eps far below the 2/n gap between values keeps each window's argmax fixed.
					checkGradient(t, be.Backend, "MaxPool2D", f, 1e-5, 1e-7, [][]float64{x}, [][]int{dims})
				})
			})
		}
	}
}

// TestDotGradient checks the gradients of the matrix products Dense makes
// (GoMLX's own since v0.28: Dot no longer has a node type of its own).
func TestDotGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, be := range backendtest.ForTests(t) {
		t.Run(be.Name+"/matrix", func(t *testing.T) {
			r := randSlice(rng, 5*3)
			f := func(in []*graph.Node) *graph.Node {
				y := graph.Dot(in[0], in[1]).Product()
				return weightedSum(graph.Mul(y, y), r)
			}
			checkGradient(t, be.Backend, "Dot", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 20), randSlice(rng, 12)}, [][]int{{5, 4}, {4, 3}})
		})
		t.Run(be.Name+"/matrix-vector", func(t *testing.T) {
			r := randSlice(rng, 5)
			f := func(in []*graph.Node) *graph.Node { return weightedSum(graph.Dot(in[0], in[1]).Product(), r) }
			checkGradient(t, be.Backend, "Dot", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 20), randSlice(rng, 4)}, [][]int{{5, 4}, {4}})
		})
		t.Run(be.Name+"/vector-vector", func(t *testing.T) {
			f := func(in []*graph.Node) *graph.Node { y := graph.Dot(in[0], in[1]).Product(); return graph.Mul(y, y) }
			checkGradient(t, be.Backend, "Dot", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 4), randSlice(rng, 4)}, [][]int{{4}, {4}})
		})
	}
}

// TestSliceGradient checks the gradient of the slices the im2col is made of
// (GoMLX's own since compute v0.1.3 gave the pure-Go backend Pad), strided
// slices included.
func TestSliceGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, be := range backendtest.ForTests(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := func(in []*graph.Node) *graph.Node {
				y := graph.Slice(in[0], graph.AxisRange(1, 3), graph.AxisRange(), graph.AxisRange(0, 2))
				return weightedSum(graph.Mul(y, y), []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
			}
			checkGradient(t, be.Backend, "Slice", f, 1e-6, 1e-6, [][]float64{randSlice(rng, 4*3*3)}, [][]int{{4, 3, 3}})
		})
		t.Run(be.Name+"/strided", func(t *testing.T) {
			f := func(in []*graph.Node) *graph.Node {
				y := graph.Slice(in[0], graph.AxisRange(0, 5).Stride(2))
				return weightedSum(graph.Mul(y, y), []float64{1, 2, 3})
			}
			checkGradient(t, be.Backend, "Slice", f, 1e-6, 1e-6, [][]float64{randSlice(rng, 6)}, [][]int{{6}})
		})
	}
}

func TestDotGeneralGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, be := range backendtest.ForTests(t) {
		// Batch and contracting axes out of order, two contracting axes paired
		// in a different order on each side: every branch of the axis mapping
		// of vjp.go (GoMLX v0.28.2's own gradient fails on this shape).
		t.Run(be.Name+"/mixed-axes", func(t *testing.T) {
			r := randSlice(rng, 4*3*6)
			f := func(in []*graph.Node) *graph.Node {
				y := graph.DotGeneral(in[0], []int{3, 0}, []int{2}, in[1], []int{0, 2}, []int{1}) // [4, 3, 6]
				return weightedSum(graph.Mul(y, y), r)
			}
			checkGradient(t, be.Backend, "DotGeneral", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 2*3*4*5), randSlice(rng, 5*4*2*6)}, [][]int{{2, 3, 4, 5}, {5, 4, 2, 6}})
		})
		// The same pairing with equal sizes on the paired axes: GoMLX v0.28.2's
		// own gradient then has the right shape and wrong values.
		t.Run(be.Name+"/mixed-axes-equal-sizes", func(t *testing.T) {
			r := randSlice(rng, 4*3*6)
			f := func(in []*graph.Node) *graph.Node {
				y := graph.DotGeneral(in[0], []int{3, 0}, []int{2}, in[1], []int{0, 2}, []int{1}) // [4, 3, 6]
				return weightedSum(graph.Mul(y, y), r)
			}
			checkGradient(t, be.Backend, "DotGeneral", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 5*3*4*5), randSlice(rng, 5*4*5*6)}, [][]int{{5, 3, 4, 5}, {5, 4, 5, 6}})
		})
		// Contracting axes in increasing order on both sides: GoMLX's gradient.
		t.Run(be.Name+"/batched-conv-product", func(t *testing.T) {
			r := randSlice(rng, 2*5*3)
			f := func(in []*graph.Node) *graph.Node {
				y := graph.DotGeneral(in[0], []int{2}, []int{0}, in[1], []int{2}, []int{0}) // [2, 5, 3], as Conv2D's
				return weightedSum(graph.Mul(y, y), r)
			}
			checkGradient(t, be.Backend, "DotGeneral", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 2*5*4), randSlice(rng, 2*3*4)}, [][]int{{2, 5, 4}, {2, 3, 4}})
		})
		t.Run(be.Name+"/matmul-transposed", func(t *testing.T) {
			r := randSlice(rng, 5*3)
			f := func(in []*graph.Node) *graph.Node {
				y := graph.DotGeneral(in[0], []int{0}, nil, in[1], []int{1}, nil) // aᵀ·bᵀ: [5, 3]
				return weightedSum(graph.Mul(y, y), r)
			}
			checkGradient(t, be.Backend, "DotGeneral", f, 1e-6, 1e-6,
				[][]float64{randSlice(rng, 4*5), randSlice(rng, 3*4)}, [][]int{{4, 5}, {3, 4}})
		})
	}
}
