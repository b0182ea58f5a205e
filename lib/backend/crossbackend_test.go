package backend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/dlworkbench/hw1/lib/backend"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// denseCase is a dense layer y = tanh(x·W + b) with the loss mean((y-t)²),
// small enough to work out by hand in float64.
type denseCase struct {
	rows, in, out int
	x, w, b, t    []float32
}

func newDenseCase(seed uint64, rows, in, out int) denseCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	fill := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((rng.Float64()*2 - 1) * scale)
		}
		return v
	}
	return denseCase{rows: rows, in: in, out: out,
		x: fill(rows*in, 1), w: fill(in*out, 0.8), b: fill(out, 0.3), t: fill(rows*out, 1)}
}

// reference computes the forward output, the loss and its gradients with
// respect to W and b in float64, from the chain rule written out.
func (c denseCase) reference() (y []float64, loss float64, dW, dB []float64) {
	y = make([]float64, c.rows*c.out)
	dZ := make([]float64, c.rows*c.out)
	n := float64(c.rows * c.out)
	for r := 0; r < c.rows; r++ {
		for o := 0; o < c.out; o++ {
			z := float64(c.b[o])
			for i := 0; i < c.in; i++ {
				z += float64(c.x[r*c.in+i]) * float64(c.w[i*c.out+o])
			}
			yy := math.Tanh(z)
			diff := yy - float64(c.t[r*c.out+o])
			y[r*c.out+o] = yy
			loss += diff * diff / n
			dZ[r*c.out+o] = 2 * diff / n * (1 - yy*yy)
		}
	}
	dW = make([]float64, c.in*c.out)
	dB = make([]float64, c.out)
	for r := 0; r < c.rows; r++ {
		for o := 0; o < c.out; o++ {
			dB[o] += dZ[r*c.out+o]
			for i := 0; i < c.in; i++ {
				dW[i*c.out+o] += float64(c.x[r*c.in+i]) * dZ[r*c.out+o]
			}
		}
	}
	return y, loss, dW, dB
}

// denseGraph is the same layer as a GoMLX graph: outputs y, loss, dLoss/dW, dLoss/dB.
func denseGraph(x, w, b, t *graph.Node) []*graph.Node {
	y := graph.Tanh(graph.Add(graph.Dot(x, w).Product(), graph.InsertAxes(b, 0)))
	loss := graph.ReduceAllMean(graph.Square(graph.Sub(y, t)))
	grads := graph.Gradient(loss, w, b)
	return []*graph.Node{y, loss, grads[0], grads[1]}
}

func runDense(be *backend.Choice, c denseCase) (outs [4][]float32, err error) {
	exec, err := graph.NewExec(be.Backend, denseGraph)
	if err != nil {
		return outs, err
	}
	results, err := exec.Call(
		tensors.FromFlatDataAndDimensions(c.x, c.rows, c.in),
		tensors.FromFlatDataAndDimensions(c.w, c.in, c.out),
		tensors.FromFlatDataAndDimensions(c.b, c.out),
		tensors.FromFlatDataAndDimensions(c.t, c.rows, c.out))
	if err != nil {
		return outs, err
	}
	for i, r := range results {
		if outs[i], err = tensors.CopyFlatData[float32](r); err != nil {
			return outs, fmt.Errorf("output %d: %w", i, err)
		}
	}
	return outs, nil
}

// TestDenseLayerAgreesAcrossBackends is the project's cross-backend check: the
// forward pass and the gradients of a dense layer agree within 1e-5 on every
// backend, and with the float64 chain rule.
func TestDenseLayerAgreesAcrossBackends(t *testing.T) {
	const tol = 1e-5
	backends := backendtest.ForTests(t)
	for _, shape := range [][3]int{{4, 3, 5}, {7, 16, 8}, {1, 1, 1}} {
		c := newDenseCase(uint64(shape[0]*100+shape[1]), shape[0], shape[1], shape[2])
		y, loss, dW, dB := c.reference()
		want := [4][]float64{y, {loss}, dW, dB}
		names := [4]string{"y", "loss", "dLoss/dW", "dLoss/db"}
		var first [4][]float32
		for k, be := range backends {
			t.Run(fmt.Sprintf("%s/%dx%d->%d", be.ID(), shape[0], shape[1], shape[2]), func(t *testing.T) {
				got, err := runDense(be, c)
				if err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if len(got[i]) != len(want[i]) {
						t.Fatalf("%s has %d values, want %d", names[i], len(got[i]), len(want[i]))
					}
					for j := range got[i] {
						if d := math.Abs(float64(got[i][j]) - want[i][j]); d > tol {
							t.Errorf("%s[%d] = %.8g, chain rule gives %.8g (|diff| %.2g > %g)", names[i], j, got[i][j], want[i][j], d, tol)
						}
						if k > 0 {
							if d := math.Abs(float64(got[i][j] - first[i][j])); d > tol {
								t.Errorf("%s[%d] = %.8g on %s, %.8g on %s (|diff| %.2g > %g)", names[i], j, got[i][j], be.ID(), first[i][j], backends[0].ID(), d, tol)
							}
						}
					}
				}
				if k == 0 {
					first = got
				}
			})
		}
	}
}
