package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// varValues reads a variable created by Conv or Dense, checking its shape and
// that its initial values fill PyTorch's range [-bound, bound] (not zeros,
// not a narrower or wider distribution).
func varValues(t *testing.T, store *model.Store, scope, name string, dims []int, bound float64) []float64 {
	t.Helper()
	v := store.GetVariable(model.JoinPath(scope, name))
	if v == nil {
		t.Fatalf("no variable %s/%s", scope, name)
	}
	if got := v.Shape().Dimensions; len(got) != len(dims) || prod(got) != prod(dims) {
		t.Fatalf("%s/%s shape %v, want %v", scope, name, got, dims)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	vals := tensors.MustCopyFlatData[float64](val)
	var maxAbs float64
	for _, x := range vals {
		maxAbs = max(maxAbs, math.Abs(x))
	}
	if maxAbs > bound || (len(vals) >= 20 && maxAbs < bound/2) {
		t.Fatalf("%s/%s: max |value| %.4g, want values spread in [-%.4g, %.4g]", scope, name, maxAbs, bound, bound)
	}
	return vals
}

func TestConvAndDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const b, h, w, cin, cout, k, pad, out = 2, 6, 6, 3, 4, 3, 1, 5
	x := randSlice(rng, b*h*w*cin)
	for _, be := range backendtest.ForTests(t) {
		t.Run(be.Name, func(t *testing.T) {
			store := model.NewStore()
			store.SetParam(model.ParamInitialSeed, int64(42))
			exec, err := model.NewExec(be.Backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
				c := Conv(scope.In("conv"), x, cout, k, pad)
				return []*graph.Node{c, Dense(scope.In("dense"), graph.Reshape(c, b, -1), out), Dense(scope.In("dense3"), c, out)}
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Call(tensors.FromFlatDataAndDimensions(x, b, h, w, cin))
			if err != nil {
				t.Fatal(err)
			}
			convBound := 1 / math.Sqrt(cin*k*k)
			kernel := varValues(t, store, "/conv", "weights", []int{k, k, cin, cout}, convBound)
			bias := varValues(t, store, "/conv", "biases", []int{cout}, convBound)
			want, ho, wo := naiveConv(x, b, h, w, cin, kernel, k, k, cout, pad)
			for i := range want {
				want[i] += bias[i%cout]
			}
			conv := tensors.MustCopyFlatData[float64](res[0])
			assertClose(t, "Conv", conv, want, 1e-12)

			in := ho * wo * cout
			denseBound := 1 / math.Sqrt(float64(in))
			wd := varValues(t, store, "/dense", "weights", []int{in, out}, denseBound)
			bd := varValues(t, store, "/dense", "biases", []int{out}, denseBound)
			wantDense := make([]float64, b*out)
			for n := range b {
				for o := range out {
					s := bd[o]
					for i := range in {
						s += conv[n*in+i] * wd[i*out+o]
					}
					wantDense[n*out+o] = s
				}
			}
			assertClose(t, "Dense", tensors.MustCopyFlatData[float64](res[1]), wantDense, 1e-12)
			if got := res[2].Shape().Dimensions; len(got) != 4 || got[3] != out || got[0] != b {
				t.Fatalf("Dense on rank-4 input: shape %v, want [%d %d %d %d]", got, b, ho, wo, out)
			}
		})
	}
}
