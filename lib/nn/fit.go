package nn

import (
	stdcontext "context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads better unqualified, as in GoMLX's examples.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// EpochStats are the numbers of one epoch, as the seed plots them.
type EpochStats struct {
	// Epoch counts from 1.
	Epoch int `json:"epoch"`
	// TrainLoss is the mean of the batch losses over the epoch, with dropout
	// on and the weights changing from batch to batch (as the seed's).
	TrainLoss float64 `json:"train_loss"`
	// ValLoss is the mean loss over the validation examples at the end of the
	// epoch, dropout off; NaN without validation data.
	ValLoss float64 `json:"val_loss"`
	// TrainAccuracy is the fraction of training examples classified right
	// over the epoch, for classifiers (NaN otherwise).
	TrainAccuracy float64 `json:"train_accuracy"`
	// ValAccuracy is the validation accuracy at the end of the epoch, for
	// classifiers with validation data (NaN otherwise).
	ValAccuracy float64 `json:"val_accuracy"`
	// Seconds is the wall time of the epoch, validation included.
	Seconds float64 `json:"seconds"`
}

// History is what Fit records, one entry per epoch trained.
type History struct {
	// Epochs are the stats of each epoch trained, in order.
	Epochs []EpochStats `json:"epochs"`
	// Stopped is set when a callback ended training before the last epoch.
	Stopped bool `json:"stopped,omitempty"`
	// StopReason is the callback's reason.
	StopReason string `json:"stop_reason,omitempty"`
	// Pruned is set when the callback that stopped training was PruneWith's:
	// the search pruned the trial (its objective then returns hpo.ErrPruned).
	Pruned bool `json:"pruned,omitempty"`
}

// Last returns the stats of the last epoch trained (zero when none).
func (h *History) Last() EpochStats {
	if h == nil || len(h.Epochs) == 0 {
		return EpochStats{}
	}
	return h.Epochs[len(h.Epochs)-1]
}

// ErrStop, returned by a callback (possibly wrapped), ends training early
// without failing Fit: the history records it as Stopped with its message.
var ErrStop = fmt.Errorf("training stopped by a callback")

// Callback runs after each epoch with the model as it is then. Returning an
// error wrapping ErrStop ends training (a pruned trial); any other error ends
// it and makes Fit fail.
type Callback func(m *Model, stats EpochStats) error

// Options of Fit that are not hyperparameters.
type Options struct {
	// Seed drives the shuffling of the batches and dropout; the same seed (and
	// model seed) gives the same numbers.
	Seed int64
	// Callbacks run after each epoch, in order.
	Callbacks []Callback
	// Label names the run on the progress display ("fold 2/5").
	Label string
	// Progress chooses the progress display; ProgressAuto by default.
	Progress ProgressMode
	// ProgressOut receives the terminal bar (os.Stderr when nil).
	ProgressOut io.Writer
	// EvalBatchSize is the batch size of validation (500 when 0).
	EvalBatchSize int
	// Context, when set, stops training before the next batch once it is
	// done (cancelled, or past its deadline; before the next epoch where an
	// epoch is one call, epoch.go): Fit then returns the epochs trained so
	// far and an error wrapping the context's error.
	Context stdcontext.Context
}

// Fit trains the model on train for hp.Epochs epochs, validating on val
// (which may be nil) at the end of each, and returns the history, also kept in
// m.History. Batches are reshuffled every epoch, like a PyTorch DataLoader with
// shuffle=True; the last batch may be smaller.
func Fit(m *Model, train, val *Data, hp Hyperparameters, opts Options) (history *History, err error) {
	if m == nil || m.weights == nil {
		return nil, fmt.Errorf("nn.Fit: model not built with nn.New or nn.Load")
	}
	if err := hp.Validate(); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	if err := train.check(m.Spec, true, "training data"); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	batch := min(hp.BatchSize, train.Len())
	if val != nil {
		if err := val.check(m.Spec, true, "validation data"); err != nil {
			return nil, fmt.Errorf("nn.Fit: %w", err)
		}
		evalBatch := opts.EvalBatchSize
		if evalBatch <= 0 {
			evalBatch = defaultEvalBatch
		}
		batch = max(batch, min(evalBatch, val.Len()))
	}
	if err := m.Spec.CheckSize(batch); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = stdcontext.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nn.Fit: not started: %w", err)
	}
	kind, _ := optimizerKind(hp.Optimizer)
	kind = trainKind(kind, hp)

	// Attach a workspace for the whole run; callbacks reach it through m.ws.
	m.mu.Lock()
	if m.ws != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("nn.Fit: the model is already being trained")
	}
	ws, err := m.workspace()
	if err != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	m.ws = ws
	m.mu.Unlock()
	ws.mu.Lock()
	loaded := false
	defer func() {
		// Keep what was trained, even when a later epoch failed.
		if loaded {
			if storeErr := m.store(ws); storeErr != nil && err == nil {
				err = fmt.Errorf("nn.Fit: %w", storeErr)
			}
		}
		ws.mu.Unlock()
		m.mu.Lock()
		m.ws = nil
		m.mu.Unlock()
		ws.release()
	}()
	if err := m.load(ws); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	loaded = true
	// One call per epoch where the model allows it (epoch.go), else one
	// per batch.
	var exec, epochExec *model.Exec
	if ws.epochLoop(train) {
		epochExec, err = ws.epochExec()
	} else {
		exec, err = ws.trainExec(kind)
	}
	if err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	if err := resetOptimizer(ws.store, m.Spec, hp); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	// Dropout draws from the store's generator: seed it apart from the
	// weights' stream so that it does not repeat their draws.
	if err := ws.store.SetRNGStateFromSeed(mix(opts.Seed, 0x64726f70)); err != nil {
		return nil, fmt.Errorf("nn.Fit: %w", err)
	}
	shuffle := rand.New(rand.NewPCG(uint64(opts.Seed), 0x73687566))

	hpCopy := hp
	m.Hyperparameters = &hpCopy
	history = &History{}
	m.History = history
	bar := newProgress(opts, hp.Epochs, (train.Len()+hp.BatchSize-1)/hp.BatchSize)
	defer bar.done()

	n := train.Len()
	// Every batch, the last one included, is padded to one bucket when the
	// model's Padding has batch buckets: one compiled train graph.
	padTo := ws.padTo(min(hp.BatchSize, n))
	// The pool counts the train shapes a workspace compiled: with padding,
	// many batch sizes share one.
	ws.batchSizes[max(padTo, min(hp.BatchSize, n))] = true
	order := make([]int, n)
	for epoch := 1; epoch <= hp.Epochs; epoch++ {
		start := time.Now()
		for i := range order {
			order[i] = i
		}
		shuffle.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lossSum, correct float64
		batches := 0
		stopped := func() error {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("nn.Fit: stopped in epoch %d after %d epochs: %w", epoch, epoch-1, err)
			}
			return nil
		}
		if epochExec != nil {
			if err := stopped(); err != nil {
				return history, err
			}
			lossSum, correct, batches, err = ws.runEpoch(epochExec, train, order, hp.BatchSize, padTo)
			if err != nil {
				return history, fmt.Errorf("nn.Fit: epoch %d: %w", epoch, err)
			}
			bar.batch(epoch, batches, lossSum/float64(batches))
		} else {
			for lo := 0; lo < n; lo += hp.BatchSize {
				if err := stopped(); err != nil {
					return history, err
				}
				rows := order[lo:min(lo+hp.BatchSize, n)]
				loss, right, err := ws.step(exec, "train/"+kind, train, rows, max(padTo, len(rows)))
				if err != nil {
					return history, fmt.Errorf("nn.Fit: epoch %d, batch %d: %w", epoch, batches+1, err)
				}
				lossSum += loss
				correct += right
				batches++
				bar.batch(epoch, batches, lossSum/float64(batches))
			}
		}
		stats := EpochStats{Epoch: epoch, TrainLoss: lossSum / float64(batches),
			ValLoss: math.NaN(), TrainAccuracy: math.NaN(), ValAccuracy: math.NaN()}
		if m.Spec.Classifier() {
			stats.TrainAccuracy = correct / float64(n)
		}
		if val != nil {
			loss, acc, err := ws.evaluate(val, opts.EvalBatchSize)
			if err != nil {
				return history, fmt.Errorf("nn.Fit: epoch %d validation: %w", epoch, err)
			}
			stats.ValLoss, stats.ValAccuracy = loss, acc
		}
		stats.Seconds = time.Since(start).Seconds()
		history.Epochs = append(history.Epochs, stats)
		bar.epoch(stats)
		if math.IsNaN(stats.TrainLoss) || math.IsInf(stats.TrainLoss, 0) {
			return history, fmt.Errorf("nn.Fit: epoch %d: training loss is %g (learning rate %g too high?)", epoch, stats.TrainLoss, hp.LearningRate)
		}
		for _, cb := range opts.Callbacks {
			ws.mu.Unlock() // callbacks may predict with the model
			err := cb(m, stats)
			ws.mu.Lock()
			if err != nil {
				if isStop(err) {
					history.Stopped, history.StopReason = true, err.Error()
					history.Pruned = errors.Is(err, errPruned)
					return history, nil
				}
				return history, fmt.Errorf("nn.Fit: epoch %d callback: %w", epoch, err)
			}
		}
	}
	return history, nil
}

func isStop(err error) bool { return errors.Is(err, ErrStop) }

// mix derives a seed for a separate random stream (splitmix64's finaliser).
func mix(seed int64, stream uint64) int64 {
	z := uint64(seed) + stream*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64(z ^ (z >> 31))
}

// masked keeps the values of the real examples of a batch (mask 1) and puts 0
// for the padding, whatever the padded examples' values (a select, not a
// product: an infinite loss times 0 would be NaN).
func masked(values, mask *Node) *Node {
	return Where(GreaterThan(mask, ZerosLike(mask)), values, ZerosLike(values))
}

// batchLoss is the loss of a batch: the mean over its real examples (mask
// 1), so that padded examples add nothing to the loss or its gradient.
func batchLoss(spec Spec, out, y, mask *Node) *Node {
	return Div(ReduceAllSum(masked(exampleLosses(spec.Loss, out, y), mask)), ReduceAllSum(mask))
}

// trainExec returns the compiled train step for an optimizer, building it the
// first time. Compiled graphs are kept per batch shape by GoMLX, so an epoch
// compiles at most twice (full batches and the last one), once with batch
// padding.
func (ws *workspace) trainExec(kind string) (*model.Exec, error) {
	if e := ws.train[kind]; e != nil {
		return e, nil
	}
	spec := ws.spec
	e, err := model.NewExec(ws.backend, ws.store, func(scope *model.Scope, x, y, mask *Node) []*Node {
		g := x.Graph()
		store := scope.Store()
		store.SetTraining(g, true)
		out := ws.forward(store, x, nil)
		loss := batchLoss(spec, out, y, mask)
		params := ws.vars
		nodes := make([]*Node, len(params))
		for i, v := range params {
			nodes[i] = v.NodeValue(g)
		}
		grads := Gradient(loss, nodes...)
		buildOptimizerUpdate(store, spec, kind, params, grads)
		return []*Node{loss, correctCount(spec, out, y, mask)}
	})
	if err != nil {
		return nil, fmt.Errorf("building the %s train step: %w", kind, err)
	}
	// A search tries many batch sizes, each compiling up to two graphs:
	// no limit here; the pool frees a workspace that compiled too many.
	e.SetMaxCache(0)
	ws.train[kind] = e
	return e, nil
}

// step runs a train or evaluation graph (named for the compilation count) on
// the examples rows of d, padded to batch rows.
func (ws *workspace) step(exec *model.Exec, name string, d *Data, rows []int, batch int) (loss, correct float64, err error) {
	x := d.batchInputs(rows, batch, ws.spec.DType)
	y := d.batchTargets(rows, batch, ws.spec)
	mask := batchMask(rows, ws.spec.DType, batch)
	return ws.callScalars(exec, name, fmt.Sprintf("%s/%d", name, batch), []any{x, y, mask}, x, y, mask)
}

// callScalars calls exec with args (what names it in errors; key is its
// graph for the compilation count), frees the input tensors, and returns the
// graph's two scalar outputs.
func (ws *workspace) callScalars(exec *model.Exec, what, key string, args []any, inputs ...*tensors.Tensor) (a, b float64, err error) {
	var out []*tensors.Tensor
	err = guard(what, func() error {
		return ws.timedFirstCall(key, func() error {
			var err error
			out, err = exec.Call(args...)
			return err
		})
	})
	finalize(inputs...)
	if err != nil {
		return 0, 0, err
	}
	defer finalize(out...)
	return scalarOf(out[0]), scalarOf(out[1]), nil
}

func finalize(ts ...*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

func scalarOf(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case int32:
		return float64(v)
	}
	return math.NaN()
}

// Evaluate returns the mean loss over d (dropout off) and, for classifiers,
// the accuracy (NaN for regression).
func (m *Model) Evaluate(d *Data) (loss, accuracy float64, err error) {
	if m != nil {
		if err := d.check(m.Spec, true, "evaluation data"); err != nil {
			return 0, 0, fmt.Errorf("nn.Evaluate: %w", err)
		}
	}
	err = m.with(false, func(ws *workspace) error {
		var err error
		loss, accuracy, err = ws.evaluate(d, 0)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("nn.Evaluate: %w", err)
	}
	return loss, accuracy, nil
}

const defaultEvalBatch = 500

// padTo is the size training, evaluation and prediction pad their batches
// of up to chunk examples to (0: none), from the Padding of the model using
// the workspace (set by Model.workspace).
func (ws *workspace) padTo(chunk int) int {
	if ws.batchBits <= 0 {
		return 0
	}
	return bucket(chunk, ws.batchBits)
}

func (ws *workspace) evaluate(d *Data, batch int) (loss, accuracy float64, err error) {
	if batch <= 0 {
		batch = defaultEvalBatch
	}
	if ws.eval == nil {
		spec := ws.spec
		ws.eval, err = model.NewExec(ws.backend, ws.store, func(scope *model.Scope, x, y, mask *Node) []*Node {
			out := ws.forward(scope.Store(), x, nil)
			return []*Node{ReduceAllSum(masked(exampleLosses(spec.Loss, out, y), mask)), correctCount(spec, out, y, mask)}
		})
		if err != nil {
			return 0, 0, fmt.Errorf("building the evaluation graph: %w", err)
		}
		ws.eval.SetMaxCache(0)
	}
	n := d.Len()
	rows := make([]int, 0, batch)
	padTo := ws.padTo(min(batch, n))
	var lossSum, correct float64
	for lo := 0; lo < n; lo += batch {
		rows = rows[:0]
		for i := lo; i < min(lo+batch, n); i++ {
			rows = append(rows, i)
		}
		l, c, err := ws.step(ws.eval, "eval", d, rows, max(padTo, len(rows)))
		if err != nil {
			return 0, 0, fmt.Errorf("evaluation: %w", err)
		}
		lossSum += l
		correct += c
	}
	accuracy = math.NaN()
	if ws.spec.Classifier() {
		accuracy = correct / float64(n)
	}
	return lossSum / float64(n), accuracy, nil
}

// Predict returns the model's outputs for d, dropout off: [d.Len()] rows of
// Spec.NumOutputs() values (regression values, or a classifier's logits),
// flattened row after row.
func (m *Model) Predict(d *Data) ([]float64, error) {
	if m != nil {
		if err := d.check(m.Spec, false, "prediction inputs"); err != nil {
			return nil, fmt.Errorf("nn.Predict: %w", err)
		}
	}
	var out []float64
	err := m.with(false, func(ws *workspace) error {
		var err error
		out, err = ws.predictAll(d)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nn.Predict: %w", err)
	}
	return out, nil
}

func (ws *workspace) predictAll(d *Data) ([]float64, error) {
	if ws.predict == nil {
		var err error
		ws.predict, err = model.NewExec(ws.backend, ws.store, func(scope *model.Scope, x *Node) *Node {
			return ws.forward(scope.Store(), x, nil)
		})
		if err != nil {
			return nil, fmt.Errorf("building the graph: %w", err)
		}
		ws.predict.SetMaxCache(0)
	}
	n := d.Len()
	k := ws.spec.NumOutputs()
	out := make([]float64, 0, n*k)
	rows := make([]int, 0, defaultEvalBatch)
	padTo := ws.padTo(min(defaultEvalBatch, n))
	for lo := 0; lo < n; lo += defaultEvalBatch {
		rows = rows[:0]
		for i := lo; i < min(lo+defaultEvalBatch, n); i++ {
			rows = append(rows, i)
		}
		batch := max(padTo, len(rows))
		x := d.batchInputs(rows, batch, ws.spec.DType)
		var res []*tensors.Tensor
		err := guard("prediction", func() error {
			return ws.timedFirstCall(fmt.Sprintf("predict/%d", batch), func() error {
				var err error
				res, err = ws.predict.Call(x)
				return err
			})
		})
		finalize(x)
		if err != nil {
			return nil, err
		}
		values, err := tensorFloats(res[0])
		finalize(res...)
		if err != nil {
			return nil, err
		}
		out = append(out, values[:len(rows)*k]...)
	}
	return out, nil
}

// PredictClasses returns a classifier's predicted label for each example of d:
// the class of the highest logit.
func (m *Model) PredictClasses(d *Data) ([]int32, error) {
	if m != nil && !m.Spec.Classifier() {
		return nil, fmt.Errorf("nn.PredictClasses: the %s model is not a classifier", m.Spec.Kind)
	}
	logits, err := m.Predict(d)
	if err != nil {
		return nil, err
	}
	return ArgMaxRows(logits, m.Spec.NumOutputs()), nil
}

// ArgMaxRows returns, for each row of width k of values, the index of its
// largest value (the first one on ties, as torch.argmax).
func ArgMaxRows(values []float64, k int) []int32 {
	out := make([]int32, len(values)/k)
	for i := range out {
		row := values[i*k : (i+1)*k]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = int32(best)
	}
	return out
}
