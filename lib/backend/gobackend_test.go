package backend

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestGoDefaultOptions checks that the default pure-Go backend has no limit on
// its worker pool, that the options of $HW1_GO_OPTIONS replace the default,
// and that setting the pool's size prints nothing on standard output.
func TestGoDefaultOptions(t *testing.T) {
	t.Setenv(GoOptionsEnvVar, "")
	c := Go()
	if c.Config != "go:"+DefaultGoOptions {
		t.Errorf("Go().Config = %q, want %q", c.Config, "go:"+DefaultGoOptions)
	}
	if d := c.Backend.Description(); !strings.Contains(d, "parallelism=-1") {
		t.Errorf("default pure-Go backend: %q, want an unlimited pool (parallelism=-1)", d)
	}

	t.Setenv(GoOptionsEnvVar, "ops_sequential")
	c, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if c.Config != "go:ops_sequential" || !strings.Contains(c.Reason, GoOptionsEnvVar) {
		t.Errorf("with $%s=ops_sequential: %s (config %q)", GoOptionsEnvVar, c, c.Config)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	b, err := newGoBackend("ops_sequential,parallelism=3")
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if d := b.Description(); !strings.Contains(d, "parallelism=3") {
		t.Errorf("parallelism=3: %q", d)
	}
	if len(printed) != 0 {
		t.Errorf("creating the backend printed %q on standard output", printed)
	}
	if _, err := newGoBackend("parallelism=many"); err == nil {
		t.Error("parallelism=many: no error")
	}
}

// TestGoDefaultDoesNotDeadlock runs the graph of
// internal/repro/simplegodeadlock (independent batched matrix products, each
// fanned out over the worker pool) on the default pure-Go backend: with the
// pool's default limit it hangs within a few executions on 2 cores.
func TestGoDefaultDoesNotDeadlock(t *testing.T) {
	t.Setenv(GoOptionsEnvVar, "")
	exec, err := graph.NewExec(Go().Backend, func(x *graph.Node) *graph.Node {
		var sum *graph.Node
		for i := range 8 {
			y := graph.DotGeneral(graph.AddScalar(x, float64(i)), []int{2}, []int{0}, x, []int{1}, []int{0})
			if sum == nil {
				sum = y
			} else {
				sum = graph.Add(sum, y)
			}
		}
		return graph.ReduceAllSum(sum)
	})
	if err != nil {
		t.Fatal(err)
	}
	input := tensors.FromShape(shapes.Make(dtypes.Float32, 16, 64, 64))
	done := make(chan error, 1)
	go func() {
		for range 20 {
			if _, err := exec.Call(input); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("20 executions made no progress for 60 s: the pure-Go backend's worker pool deadlocked")
	}
}
