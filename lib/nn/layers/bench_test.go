package layers

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/backendtest"
	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// lenet5 is the homework's LeNet5 without dropout: the shapes these layers
// must be fast for. x is [batch, 28, 28, 1]; it returns logits [batch, 10].
func lenet5(scope *model.Scope, x *graph.Node) *graph.Node {
	relu := func(x *graph.Node) *graph.Node { return graph.MaxScalar(x, 0.0) }
	x = MaxPool2D(relu(Conv(scope.In("conv1"), x, 6, 5, 2)), 2)  // [b, 14, 14, 6]
	x = MaxPool2D(relu(Conv(scope.In("conv2"), x, 16, 5, 0)), 2) // [b, 5, 5, 16]
	x = graph.Reshape(x, x.Shape().Dimensions[0], -1)            // [b, 400]
	x = relu(Dense(scope.In("fc1"), x, 120))
	x = relu(Dense(scope.In("fc2"), x, 84))
	return Dense(scope.In("fc3"), x, 10)
}

// sgdStep builds one LeNet5 training step: mean softmax cross-entropy on
// one-hot labels, then a plain SGD update of every variable.
func sgdStep(scope *model.Scope, x, onehot *graph.Node) *graph.Node {
	logits := lenet5(scope, x)
	loss := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(onehot, graph.LogSoftmax(logits)), -1)))
	var vars []*model.Variable
	var values []*graph.Node
	for v := range scope.IterVariables() {
		if v.Trainable && v.Shape().DType.IsFloat() {
			vars = append(vars, v)
			values = append(values, v.NodeValue(x.Graph()))
		}
	}
	grads := graph.Gradient(loss, values...)
	for i, v := range vars {
		v.SetNodeValue(graph.Sub(values[i], graph.MulScalar(grads[i], 0.01)))
	}
	return loss
}

// fakeBatch is a random batch of images and one-hot labels; timing does not
// depend on the values.
func fakeBatch(n int) (*tensors.Tensor, *tensors.Tensor) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]float32, n*10)
	for i := range n {
		y[i*10+rng.IntN(10)] = 1
	}
	return tensors.FromFlatDataAndDimensions(x, n, 28, 28, 1), tensors.FromFlatDataAndDimensions(y, n, 10)
}

// benchBackends are the backends benchmarks run on: those of the tests, or
// the GoMLX configurations listed in $LAYERS_BENCH_CONFIGS, separated by ";"
// (e.g. "go;go:dotgeneral_small;xla"), to compare the backend's options.
func benchBackends(b *testing.B) []*backend.Choice {
	list := os.Getenv("LAYERS_BENCH_CONFIGS")
	if list == "" {
		return backendtest.ForTests(b)
	}
	var all []*backend.Choice
	for _, cfg := range splitList(list) {
		c, err := backend.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, c)
	}
	return all
}

func splitList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ';' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func configName(c *backend.Choice) string {
	if c.Name == "xla" {
		return "xla"
	}
	return c.Config
}

// BenchmarkLeNet5Step times one forward+backward+SGD step; "first-ms" is the
// first call, which includes building and compiling the graph.
func BenchmarkLeNet5Step(b *testing.B) {
	for _, be := range benchBackends(b) {
		for _, batch := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/batch=%d", configName(be), batch), func(b *testing.B) {
				benchStep(b, be.Backend, batch)
			})
		}
	}
}

func benchStep(b *testing.B, be compute.Backend, batch int) {
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(1))
	exec, err := model.NewExec(be, store, sgdStep)
	if err != nil {
		b.Fatal(err)
	}
	x, y := fakeBatch(batch)
	defer benchVariant()()
	start := time.Now()
	if _, err := exec.Call(x, y); err != nil {
		b.Fatal(err)
	}
	first := time.Since(start)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		out, err := exec.Call(x, y)
		if err != nil {
			b.Fatal(err)
		}
		out[0].FinalizeAll()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/step")
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/step")
}

// BenchmarkLeNet5Eval10k times the forward pass (predicted classes) of the
// 10k images of the Fashion-MNIST test set, in one call (chunk=10000) or in
// calls of chunk images: the im2col of one 10k call is about 1.4 GB.
func BenchmarkLeNet5Eval10k(b *testing.B) {
	for _, be := range benchBackends(b) {
		for _, chunk := range []int{10000, 1000} {
			b.Run(fmt.Sprintf("%s/chunk=%d", configName(be), chunk), func(b *testing.B) {
				defer benchVariant()()
				store := model.NewStore()
				store.SetParam(model.ParamInitialSeed, int64(1))
				exec, err := model.NewExec(be.Backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
					return graph.ArgMax(lenet5(scope, x), -1, dtypes.Int32)
				})
				if err != nil {
					b.Fatal(err)
				}
				x, _ := fakeBatch(chunk)
				if _, err := exec.Call(x); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				cpu0 := cpuTime()
				for range b.N {
					for range 10000 / chunk {
						out, err := exec.Call(x)
						if err != nil {
							b.Fatal(err)
						}
						out[0].FinalizeAll()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/eval")
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/eval")
			})
		}
	}
}

// cpuTime is the CPU time this process has used: on a shared machine it
// shows the work a step costs, where wall time also shows the contention.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchVariant applies the layer variants named in the environment, for
// comparing them on the same backend: LAYERS_BENCH_CONV=native (the backend's
// ConvGeneral), im2col, or flat (the im2col with one flat Dot instead of the
// batched DotGeneral); LAYERS_BENCH_POOL=native (ReduceWindow) or reshape;
// LAYERS_BENCH_VJP=stock (GoMLX's own gradient of DotGeneral in every case,
// see vjp.go). Unset, each is the backend's default. It returns the undo
// function.
func benchVariant() func() {
	conv, pool, matmul := convImpl, poolImpl, convMatmul
	dotGeneralVJP := graph.VJPRegistration[graph.NodeTypeDotGeneral]
	if os.Getenv("LAYERS_BENCH_VJP") == "stock" {
		graph.VJPRegistration[graph.NodeTypeDotGeneral] = defaultDotGeneralVJP
	}
	switch os.Getenv("LAYERS_BENCH_CONV") {
	case "native":
		convImpl = implNative
	case "im2col":
		convImpl = implPortable
	case "flat":
		convImpl, convMatmul = implPortable, matmulFlat
	}
	switch os.Getenv("LAYERS_BENCH_POOL") {
	case "native":
		poolImpl = implNative
	case "reshape":
		poolImpl = implPortable
	}
	return func() {
		convImpl, poolImpl, convMatmul = conv, pool, matmul
		graph.VJPRegistration[graph.NodeTypeDotGeneral] = dotGeneralVJP
	}
}
