package nn

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// Padding says which shapes the compiled graphs are padded to, so that the
// trials and folds of a search share a few compiled graphs instead of
// compiling their own: XLA compiles a LeNet5 train step in about a second,
// which in a short trial costs more than the padding.
//
// Batches are padded up to a bucket (the last, smaller batch of an epoch
// included) and carry a mask: the loss and its gradient are exactly the mean
// over the real examples, as a PyTorch DataLoader's last batch. An MLP's
// hidden layers are padded up to a bucket and the padded units masked: their
// outputs are zero, they receive no update and their weights stay zero, for
// any activation; the model keeps its real shape (checkpoints, figures,
// Variables) and initialises from its real fan-in. The one thing padding
// changes is the dropout masks, which are drawn for the padded shape.
//
// A bucket keeps the top Bits binary digits of a size and rounds the rest up:
// with 3 bits, 65..80 become 80, 81..96 become 96, 129..160 become 160 (at
// most 25% padding); with 2 bits, 65..96 become 96 (50%); with 1 bit, sizes
// go up to a power of two. 0 pads nothing.
type Padding struct {
	// BatchBits buckets the batch sizes of training, evaluation and
	// prediction.
	BatchBits int `json:"batch_bits"`
	// WidthBits buckets an MLP's hidden widths.
	WidthBits int `json:"width_bits"`
}

// NoPadding compiles every shape as it is.
var NoPadding = Padding{}

// DefaultPadding is what New gives a model of a kind (Spec.Kind) on a
// backend, from the measurements in docs/PERFORMANCE.md. On XLA, where a
// compilation costs about a second: for LeNet5 batches of 3 bits (at most
// 25% padding, 8-16% of a step); for an MLP widths and batches up to a power
// of two (a small network's step hardly grows with its batch, and a 50-trial
// regression study took 31.6 s instead of 44.8 s with 3 bits: 30 graphs
// compiled instead of 41). On the pure-Go backend exact shapes: it compiles
// in milliseconds and pays for every padded example.
func DefaultPadding(backend compute.Backend, kind string) Padding {
	if isPureGo(backend) {
		return NoPadding
	}
	if kind == KindLeNet5 {
		return Padding{BatchBits: 3}
	}
	return Padding{BatchBits: 1, WidthBits: 1}
}

// isPureGo reports whether backend is GoMLX's pure-Go backend (its String is
// "go", its Name "Go Backend").
func isPureGo(backend compute.Backend) bool {
	return backend != nil && backend.String() == "go"
}

// Validate says what is wrong with the padding.
func (p Padding) Validate() error {
	if p.BatchBits < 0 || p.BatchBits > 30 {
		return fmt.Errorf("padding: batch_bits %d: want 0 (none) to 30", p.BatchBits)
	}
	if p.WidthBits < 0 || p.WidthBits > 30 {
		return fmt.Errorf("padding: width_bits %d: want 0 (none) to 30", p.WidthBits)
	}
	return nil
}

// Batch is the batch size a batch of n examples is padded to.
func (p Padding) Batch(n int) int { return bucket(n, p.BatchBits) }

// Width is the width a hidden layer of n units is padded to.
func (p Padding) Width(n int) int { return bucket(n, p.WidthBits) }

// bucket rounds n up, keeping its top b binary digits.
func bucket(n, b int) int {
	if b <= 0 || n <= 1 {
		return n
	}
	drop := bits.Len(uint(n)) - b
	if drop <= 0 {
		return n
	}
	step := 1 << drop
	return (n + step - 1) / step * step
}

// padded is the spec of the graphs a model of spec runs on.
func (p Padding) padded(spec Spec) Spec {
	if p.WidthBits <= 0 || len(spec.Hidden) == 0 {
		return spec
	}
	out := spec
	out.Hidden = make([]int, len(spec.Hidden))
	for i, h := range spec.Hidden {
		out.Hidden[i] = p.Width(h)
	}
	return out
}

// CompileStats count the graphs compiled by this package (train steps,
// evaluation, prediction, activations), process-wide. A study or CV reports
// the difference between two readings.
type CompileStats struct {
	// Graphs compiled.
	Graphs int `json:"graphs"`
	// Seconds spent in the calls that compiled them (compilation and that
	// one execution).
	Seconds float64 `json:"seconds"`
}

// Sub is s minus an earlier reading.
func (s CompileStats) Sub(earlier CompileStats) CompileStats {
	return CompileStats{Graphs: s.Graphs - earlier.Graphs, Seconds: s.Seconds - earlier.Seconds}
}

// String reads "compiled N graphs in S s".
func (s CompileStats) String() string {
	if s.Graphs == 1 {
		return fmt.Sprintf("compiled 1 graph in %.1f s", s.Seconds)
	}
	return fmt.Sprintf("compiled %d graphs in %.1f s", s.Graphs, s.Seconds)
}

var compiles struct {
	sync.Mutex
	stats CompileStats
}

// Compilations returns the graphs compiled so far by this process.
func Compilations() CompileStats {
	compiles.Lock()
	defer compiles.Unlock()
	return compiles.stats
}

// timedFirstCall runs call, counting it as a compilation when the workspace
// has not run the graph key before (GoMLX compiles on the first call of each
// input shape).
func (ws *workspace) timedFirstCall(key string, call func() error) error {
	if ws.compiled[key] {
		return call()
	}
	start := time.Now()
	err := call()
	if err == nil {
		ws.compiled[key] = true
		compiles.Lock()
		compiles.stats.Graphs++
		compiles.stats.Seconds += time.Since(start).Seconds()
		compiles.Unlock()
	}
	return err
}

// resizeTensor copies t into a new tensor of dims: the common corner of the
// two, zero elsewhere, so it pads (dims at least t's) or crops (at most).
// Shapes that differ must be of rank 1 or 2 (an MLP's biases and weights);
// equal dims give a plain copy.
func resizeTensor(t *tensors.Tensor, dims []int) (*tensors.Tensor, error) {
	from := t.Shape().Dimensions
	if slices.Equal(from, dims) {
		return t.LocalClone()
	}
	if len(from) != len(dims) || len(dims) > 2 {
		return nil, fmt.Errorf("cannot pad or crop a tensor %v to %v", from, dims)
	}
	rows, cols := 1, dims[0]
	fromCols := from[0]
	if len(dims) == 2 {
		rows, cols, fromCols = min(from[0], dims[0]), dims[1], from[1]
	}
	n := min(cols, fromCols)
	var out *tensors.Tensor
	err := t.ConstFlatData(func(flat any) {
		switch src := flat.(type) {
		case []float32:
			dst := make([]float32, shapeSize(dims))
			for r := range rows {
				copy(dst[r*cols:r*cols+n], src[r*fromCols:r*fromCols+n])
			}
			out = tensors.FromFlatDataAndDimensions(dst, dims...)
		case []float64:
			dst := make([]float64, shapeSize(dims))
			for r := range rows {
				copy(dst[r*cols:r*cols+n], src[r*fromCols:r*fromCols+n])
			}
			out = tensors.FromFlatDataAndDimensions(dst, dims...)
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("cannot pad or crop a tensor of dtype %s", t.DType())
	}
	return out, nil
}

func shapeSize(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
