// Command simplegodeadlock reproduces the pure-Go backend's worker-pool
// deadlock (docs/upstream-simplego-deadlock.md): independent matrix products
// run in parallel by the op executor each hold a worker of the pool while
// they wait for more workers of the same pool.
//
//	go run ./internal/repro/simplegodeadlock                 # hangs (compute v0.1.3, GoMLX v0.26.0)
//	go run ./internal/repro/simplegodeadlock ops_sequential  # finishes
//	go run ./internal/repro/simplegodeadlock parallelism=-1  # finishes: unlimited pool
//	go run ./internal/repro/simplegodeadlock -matrix         # hangs on GoMLX v0.26.0 only
//
// The products are batched ([16,64,64] x [16,64,64], batch axis 0), as the
// im2col convolution of lib/nn/layers makes them: compute v0.1.3 fans a
// batched product out over the pool (workerspool.Saturate). -matrix uses
// plain [128,128] matrices instead, the form that hung on GoMLX v0.26.0 and
// that compute v0.1.3 multiplies inline, without the pool.
//
// The argument is the backend's configuration ("" for its defaults). It
// prints "finished 20 executions", or "HUNG" and exits 1 after 60 s without
// progress.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func main() {
	matrix := flag.Bool("matrix", false, "multiply [128,128] matrices instead of batches of [64,64] ones")
	flag.Parse()
	b, err := gobackend.New(flag.Arg(0))
	if err != nil {
		panic(err)
	}
	const n = 8 // independent matrix products in one graph
	exec, err := NewExec(b, func(x *Node) *Node {
		var sum *Node
		for i := range n {
			xi := AddScalar(x, float64(i))
			var y *Node
			if *matrix {
				y = Dot(xi, x).Product() // [128,128] x [128,128]
			} else {
				y = DotGeneral(xi, []int{2}, []int{0}, x, []int{1}, []int{0}) // [16,64,64] x [16,64,64]
			}
			if sum == nil {
				sum = y
			} else {
				sum = Add(sum, y)
			}
		}
		return ReduceAllSum(sum)
	})
	if err != nil {
		panic(err)
	}
	dims := []int{16, 64, 64}
	if *matrix {
		dims = []int{128, 128}
	}
	input := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	done := make(chan int)
	go func() {
		for i := 0; ; i++ {
			if _, err := exec.Call(input); err != nil {
				panic(err)
			}
			if i == 20 {
				done <- i
				return
			}
		}
	}()
	select {
	case <-done:
		fmt.Println("finished 20 executions")
	case <-time.After(60 * time.Second):
		fmt.Println("HUNG: no progress for 60 s")
		os.Exit(1)
	}
}
