package nn

import (
	"fmt"
	"sync/atomic"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// A small network's step costs less than the call that runs it: on XLA CPU a
// regression step of batch 5 took about 0.4 ms, most of it the call. So
// where batches are padded to one shape and nothing is drawn at random, an
// epoch runs as one call: the epoch's batches are stacked into one input,
// and a While loop in the graph runs the train step on each, carrying the
// parameters and the optimizer's state from one to the next. The step is
// the step graph's (trainExec), in the same order of batches, with the
// update of buildAnyOptimizerUpdate, each optimizer's arithmetic selected by
// variables: one compiled graph serves the three optimizers. docs/PERFORMANCE.md has
// what it saves.
//
// GoMLX v0.28.2 with go-xla v0.4.1 shapes how the loop is written: the body
// of a While sees only its state (a value of the enclosing function is
// refused), so the data and the variables the step only reads travel in
// the state too; and both libraries cache constants and reduction functions
// per graph, not per function, so the enclosing function creates no scalar
// constant the body also uses, and reduces nothing after the loop.

// epochLoopMaxValues bounds the values of an epoch's stacked inputs: above
// it (images), each step is its own call, as the step's work dwarfs a call.
const epochLoopMaxValues = 1 << 20

// stepCallsOnly turns the epoch loop off, and epochCalls counts its calls,
// for the tests that compare it with the step graphs.
var (
	stepCallsOnly = false
	epochCalls    atomic.Int64
)

// epochLoop reports whether Fit runs each epoch of train as one call: batches
// padded to buckets (one shape for every batch), no dropout (no random draws
// in the step), and an epoch's data small enough to send at once.
func (ws *workspace) epochLoop(train *Data) bool {
	return !stepCallsOnly && ws.batchBits > 0 && ws.spec.Kind != KindLeNet5 && !ws.spec.hasDropout() &&
		train.Len()*train.exampleSize() <= epochLoopMaxValues &&
		!isPureGo(ws.backend) // it has no DynamicSlice
}

// epochExec returns the compiled train epoch, building it the first time.
// Its inputs are the epoch's batches stacked, x [steps*batch, example...],
// y [steps*batch, ...] and mask [steps, batch] (padding rows 0, also whole
// padding batches past the epoch's last), and the number of real batches;
// its outputs the sum of the batches' mean losses and the count of correct
// predictions.
func (ws *workspace) epochExec() (*model.Exec, error) {
	if ws.epoch != nil {
		return ws.epoch, nil
	}
	spec := ws.spec
	e, err := model.NewExec(ws.backend, ws.store, func(scope *model.Scope, inputs []*Node) []*Node {
		x, y, mask, steps := inputs[0], inputs[1], inputs[2], inputs[3]
		g := x.Graph()
		store := scope.Store()
		store.SetTraining(g, true)
		stacked, batch := mask.Shape().Dimensions[0], mask.Shape().Dimensions[1]
		x = Reshape(x, append([]int{stacked, batch}, x.Shape().Dimensions[1:]...)...)
		y = Reshape(y, append([]int{stacked, batch}, y.Shape().Dimensions[1:]...)...)
		// The loop carries what a step changes, and also, unchanged, all
		// the step reads: the body of an XLA While sees nothing but its
		// state.
		changed := append(append([]*model.Variable(nil), ws.vars...), anyOptimizerState(store, spec, ws.vars)...)
		read := append([]*model.Variable(nil), ws.masks...)
		for _, name := range anyOptimizerInputs {
			read = append(read, hyperparameterVar(store, spec, name))
		}
		dtype := ws.dtype()
		// Const, not Scalar: the body would get these nodes of the
		// enclosing function from GoMLX's cache of scalars.
		zero := func() *Node {
			if dtype == dtypes.Float64 {
				return Const(g, float64(0))
			}
			return Const(g, float32(0))
		}
		// The state: batch index, loss sum, correct sum, the changed
		// variables, the data, and the variables only read.
		init := []*Node{Const(g, int32(0)), zero(), zero()}
		for _, v := range changed {
			init = append(init, v.NodeValue(g))
		}
		init = append(init, x, y, mask, steps)
		for _, v := range read {
			init = append(init, v.NodeValue(g))
		}
		nChanged := len(changed)
		state := func(g *Graph) []*Node {
			params := make([]*Node, len(init))
			for k, n := range init {
				params[k] = Parameter(g, fmt.Sprintf("state_%d", k), n.Shape())
			}
			return params
		}
		// data returns x, y, mask and steps of a state.
		data := func(st []*Node) (x, y, mask, steps *Node) {
			d := st[3+nChanged:]
			return d[0], d[1], d[2], d[3]
		}
		cond := NewClosure(g, func(g *Graph) []*Node {
			st := state(g)
			_, _, _, steps := data(st)
			return []*Node{LessThan(st[0], steps)}
		})
		body := NewClosure(g, func(g *Graph) []*Node {
			st := state(g)
			i, lossSum, rightSum := st[0], st[1], st[2]
			for k, v := range changed {
				v.SetNodeValue(st[3+k])
			}
			for k, v := range read {
				v.SetNodeValue(st[3+nChanged+4+k])
			}
			x, y, mask, _ := data(st)
			xb, yb, mb := batchAt(x, i), batchAt(y, i), batchAt(mask, i)
			out := ws.forward(store, xb, nil)
			loss := batchLoss(spec, out, yb, mb)
			params := make([]*Node, len(ws.vars))
			for k, v := range ws.vars {
				params[k] = v.NodeValue(g)
			}
			buildAnyOptimizerUpdate(store, spec, ws.vars, Gradient(loss, params...))
			next := []*Node{OnePlus(i), Add(lossSum, loss), Add(rightSum, correctCount(spec, out, yb, mb))}
			for _, v := range changed {
				next = append(next, v.NodeValue(g))
			}
			return append(next, st[3+nChanged:]...)
		})
		final := While(cond, body, init...)
		for k, v := range changed {
			v.SetNodeValue(final[3+k])
		}
		// Read-only variables get back their value outside the loop, so
		// that the call does not write them.
		for k, v := range read {
			v.SetNodeValue(init[3+nChanged+4+k])
		}
		return []*Node{final[1], final[2]}
	})
	if err != nil {
		return nil, fmt.Errorf("building the train epoch: %w", err)
	}
	e.SetMaxCache(0)
	ws.epoch = e
	return e, nil
}

// batchAt is batch i of stacked batches [steps, batch, ...].
func batchAt(stacked, i *Node) *Node {
	dims := stacked.Shape().Dimensions
	g := i.Graph()
	starts := []*Node{i}
	for range dims[1:] {
		starts = append(starts, Scalar(g, dtypes.Int32, 0))
	}
	sizes := append([]int{1}, dims[1:]...)
	return Reshape(DynamicSlice(stacked, starts, sizes), dims[1:]...)
}

// runEpoch trains one epoch of the batches of order (batch examples each,
// the last one shorter) in one call of exec, each padded to padTo rows; it
// returns the sum of the batches' mean losses, the correct predictions and
// the number of batches.
func (ws *workspace) runEpoch(exec *model.Exec, d *Data, order []int, batch, padTo int) (lossSum, correct float64, batches int, err error) {
	batches = (len(order) + batch - 1) / batch
	// Stacked as many batches as the smallest batch size padded to padTo
	// makes, so that all the batch sizes of a bucket share one graph.
	smallest := batch
	for smallest > 1 && bucket(smallest-1, ws.batchBits) == padTo {
		smallest--
	}
	stacked := (len(order) + smallest - 1) / smallest
	rows := make([]int, stacked*padTo)
	for i := range rows {
		rows[i] = -1
	}
	for b := range batches {
		copy(rows[b*padTo:], order[b*batch:min((b+1)*batch, len(order))])
	}
	inputs := []*tensors.Tensor{
		d.batchInputs(rows, len(rows), ws.spec.DType),
		d.batchTargets(rows, len(rows), ws.spec),
		batchMask(rows, ws.spec.DType, stacked, padTo),
		tensors.FromScalar(int32(batches)),
	}
	epochCalls.Add(1)
	lossSum, correct, err = ws.callScalars(exec, "train epoch", fmt.Sprintf("epoch/%dx%d", stacked, padTo), []any{inputs}, inputs...)
	return lossSum, correct, batches, err
}
