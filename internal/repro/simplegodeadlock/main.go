// Command simplegodeadlock reproduces GoMLX v0.26.0's simplego worker-pool
// deadlock (docs/upstream-simplego-deadlock.md): independent DotGenerals run
// by the parallel op executor each wait for workers of the same pool.
//
//	go run ./internal/repro/simplegodeadlock                 # may hang
//	go run ./internal/repro/simplegodeadlock ops_sequential  # finishes
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func main() {
	config := ""
	if len(os.Args) > 1 {
		config = os.Args[1]
	}
	b, err := gobackend.New(config)
	if err != nil {
		panic(err)
	}
	const n = 8 // independent matrix products in one graph
	exec, err := NewExec(b, func(x *Node) *Node {
		var sum *Node
		for i := 0; i < n; i++ {
			y := Dot(AddScalar(x, float64(i)), x).Product() // [128,128] x [128,128]
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
	data := make([][]float32, 128)
	for i := range data {
		data[i] = make([]float32, 128)
	}
	input := tensors.FromValue(data)
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
