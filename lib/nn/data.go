package nn

import (
	"fmt"
	"slices"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/gomlx/gomlx/core/tensors"
)

// Data is a set of examples as the models take them: inputs as numbers (the
// regression points) or as bytes (images, scaled to [0, 1] like
// torchvision's ToTensor when fed), with regression targets or class labels.
// Subsets share the parent's storage, so k folds of 60,000 images cost
// nothing; its storage is therefore unexported, and Targets and Labels give
// the rows of the view (a subset's own, in its order).
//
// Build one with FromCSV, FromImages, Inputs, NewRegressionData,
// NewClassificationData or NewImageData. A Data keeps the slices it is built
// from (FromCSV and Inputs copy theirs): do not change them afterwards.
type Data struct {
	// shape of one example, e.g. [1] or [28, 28, 1] (channels last).
	shape []int
	// values holds the inputs as numbers, example after example; or nil.
	values []float64
	// pixels holds the inputs as bytes, fed as x/255; used when values is nil.
	pixels []uint8
	// targets are the regression targets, outputs per example (nil for
	// classification).
	targets []float64
	// outputs is the number of targets per example (1 when 0).
	outputs int
	// labels are the class labels (nil for regression).
	labels []int32

	// idx selects and orders the examples of the storage; nil means all.
	idx []int
}

// FromCSV returns the regression points as Data: one input, one target each.
func FromCSV(ds *data.CSVDataset) *Data {
	return &Data{shape: []int{1}, values: slices.Clone(ds.Inputs), targets: slices.Clone(ds.Labels), outputs: 1}
}

// FromImages returns images and their labels as Data of shape [rows, cols, 1].
func FromImages(im *data.Images) *Data {
	labels := make([]int32, len(im.Labels))
	for i, l := range im.Labels {
		labels[i] = int32(l)
	}
	return &Data{shape: []int{im.Rows, im.Cols, 1}, pixels: im.Pixels, labels: labels}
}

// Inputs returns Data with one input per example and no targets: a grid
// over which to predict a regression curve.
func Inputs(xs []float64) *Data {
	return &Data{shape: []int{1}, values: slices.Clone(xs)}
}

// NewRegressionData returns examples of the given shape whose inputs are
// values (example after example) with regression targets: the same number
// of targets, at least one, for each example (a model's Outputs). targets
// may be nil for inputs only, to predict on.
func NewRegressionData(values, targets []float64, shape []int) (*Data, error) {
	d := &Data{shape: slices.Clone(shape), values: values, targets: targets, outputs: 1}
	n, err := d.sized(len(values), "values")
	if err != nil {
		return nil, fmt.Errorf("nn.NewRegressionData: %w", err)
	}
	if targets != nil {
		if n == 0 || len(targets) == 0 || len(targets)%n != 0 {
			return nil, fmt.Errorf("nn.NewRegressionData: %d targets for %d examples: want the same number for each", len(targets), n)
		}
		d.outputs = len(targets) / n
	}
	return d, nil
}

// NewClassificationData returns examples of the given shape whose inputs
// are values (example after example) with one class label each (labels may
// be nil, to predict on).
func NewClassificationData(values []float64, labels []int32, shape []int) (*Data, error) {
	d := &Data{shape: slices.Clone(shape), values: values, labels: labels}
	if err := d.checkLabels(len(values), "values", "nn.NewClassificationData"); err != nil {
		return nil, err
	}
	return d, nil
}

// NewImageData returns images of the given shape (e.g. [28, 28, 1]) from
// their bytes, image after image, fed as x/255, with one class label each
// (labels may be nil, to predict on).
func NewImageData(pixels []uint8, labels []int32, shape []int) (*Data, error) {
	d := &Data{shape: slices.Clone(shape), pixels: pixels, labels: labels}
	if err := d.checkLabels(len(pixels), "pixels", "nn.NewImageData"); err != nil {
		return nil, err
	}
	return d, nil
}

// sized checks that size inputs make whole examples of d's shape and returns
// how many.
func (d *Data) sized(size int, what string) (int, error) {
	for _, s := range d.shape {
		if s <= 0 {
			return 0, fmt.Errorf("example shape %v: every size must be positive", d.shape)
		}
	}
	if len(d.shape) == 0 {
		return 0, fmt.Errorf("empty example shape")
	}
	e := d.exampleSize()
	if size%e != 0 {
		return 0, fmt.Errorf("%d %s do not make whole examples of shape %v (%d each)", size, what, d.shape, e)
	}
	return size / e, nil
}

func (d *Data) checkLabels(size int, what, fn string) error {
	n, err := d.sized(size, what)
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	if d.labels != nil && len(d.labels) != n {
		return fmt.Errorf("%s: %d labels for %d examples", fn, len(d.labels), n)
	}
	return nil
}

// Shape returns the shape of one example, e.g. [1] or [28, 28, 1].
func (d *Data) Shape() []int { return slices.Clone(d.shape) }

// Outputs returns the number of regression targets per example (1 for
// classification data, which has labels instead).
func (d *Data) Outputs() int { return d.outputs1() }

// Len is the number of examples.
func (d *Data) Len() int {
	if d.idx != nil {
		return len(d.idx)
	}
	size := d.exampleSize()
	if size == 0 {
		return 0
	}
	if d.values != nil {
		return len(d.values) / size
	}
	return len(d.pixels) / size
}

// Subset returns the examples at indices (relative to d), in that order,
// sharing d's storage.
func (d *Data) Subset(indices []int) (*Data, error) {
	n := d.Len()
	sub := *d
	sub.idx = make([]int, len(indices))
	for i, j := range indices {
		if j < 0 || j >= n {
			return nil, fmt.Errorf("data subset: index %d (position %d) out of range [0, %d)", j, i, n)
		}
		sub.idx[i] = d.storageIndex(j)
	}
	return &sub, nil
}

func (d *Data) storageIndex(i int) int {
	if d.idx != nil {
		return d.idx[i]
	}
	return i
}

func (d *Data) exampleSize() int {
	size := 1
	for _, s := range d.shape {
		size *= s
	}
	return size
}

func (d *Data) outputs1() int {
	if d.outputs == 0 {
		return 1
	}
	return d.outputs
}

// Targets returns the regression targets of d's examples, in d's order
// (Outputs per example; nil when d has none): a subset's own, not its
// parent's.
func (d *Data) Targets() []float64 {
	if d.targets == nil {
		return nil
	}
	out := make([]float64, 0, d.Len()*d.outputs1())
	k := d.outputs1()
	for i := range d.Len() {
		j := d.storageIndex(i)
		out = append(out, d.targets[j*k:(j+1)*k]...)
	}
	return out
}

// Labels returns the class labels of d's examples, in d's order (nil when d
// has none): a subset's own, not its parent's.
func (d *Data) Labels() []int32 {
	if d.labels == nil {
		return nil
	}
	out := make([]int32, d.Len())
	for i := range out {
		out[i] = d.labels[d.storageIndex(i)]
	}
	return out
}

// check says whether d fits a model of spec, and has what training needs.
func (d *Data) check(spec Spec, needTargets bool, what string) error {
	if d == nil {
		return fmt.Errorf("%s: no data", what)
	}
	if !slices.Equal(d.shape, spec.ExampleShape()) {
		return fmt.Errorf("%s: examples of shape %v, model %s wants %v", what, d.shape, spec.Kind, spec.ExampleShape())
	}
	if d.values == nil && d.pixels == nil {
		return fmt.Errorf("%s: no inputs", what)
	}
	if d.Len() == 0 {
		return fmt.Errorf("%s: no examples", what)
	}
	if !needTargets {
		return nil
	}
	n := d.Len()
	if d.idx == nil {
		if spec.Classifier() && len(d.labels) != n {
			return fmt.Errorf("%s: %d labels for %d examples", what, len(d.labels), n)
		}
		if !spec.Classifier() && len(d.targets) != n*d.outputs1() {
			return fmt.Errorf("%s: %d targets for %d examples of %d outputs", what, len(d.targets), n, d.outputs1())
		}
	}
	if spec.Classifier() {
		if d.labels == nil {
			return fmt.Errorf("%s: a classifier needs labels", what)
		}
		for _, l := range d.labels {
			if l < 0 || int(l) >= spec.NumOutputs() {
				return fmt.Errorf("%s: label %d outside [0, %d)", what, l, spec.NumOutputs())
			}
		}
	} else {
		if d.targets == nil {
			return fmt.Errorf("%s: a regression needs targets", what)
		}
		if d.outputs1() != spec.NumOutputs() {
			return fmt.Errorf("%s: %d targets per example, model has %d outputs", what, d.outputs1(), spec.NumOutputs())
		}
	}
	return nil
}

// batchInputs gathers the inputs of examples rows (positions in d) into a
// tensor [batch, Shape...] of the model's dtype; rows past len(rows) (a
// padded batch) and rows of row -1 (padding between batches) are zero.
func (d *Data) batchInputs(rows []int, batch int, dtype string) *tensors.Tensor {
	size := d.exampleSize()
	dims := append([]int{batch}, d.shape...)
	if dtype == Float64 {
		buf := make([]float64, batch*size)
		for r, i := range rows {
			if i < 0 {
				continue
			}
			j := d.storageIndex(i) * size
			dst := buf[r*size : (r+1)*size]
			if d.values != nil {
				copy(dst, d.values[j:j+size])
			} else {
				for k, p := range d.pixels[j : j+size] {
					dst[k] = float64(p) / 255
				}
			}
		}
		return tensors.FromFlatDataAndDimensions(buf, dims...)
	}
	buf := make([]float32, batch*size)
	for r, i := range rows {
		if i < 0 {
			continue
		}
		j := d.storageIndex(i) * size
		dst := buf[r*size : (r+1)*size]
		if d.values != nil {
			for k, v := range d.values[j : j+size] {
				dst[k] = float32(v)
			}
		} else {
			for k, p := range d.pixels[j : j+size] {
				dst[k] = float32(p) / 255
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(buf, dims...)
}

// batchTargets gathers regression targets [batch, outputs] or labels
// [batch] for examples rows; rows past len(rows) are zero (label 0).
func (d *Data) batchTargets(rows []int, batch int, spec Spec) *tensors.Tensor {
	if spec.Classifier() {
		buf := make([]int32, batch)
		for r, i := range rows {
			if i >= 0 {
				buf[r] = d.labels[d.storageIndex(i)]
			}
		}
		return tensors.FromFlatDataAndDimensions(buf, batch)
	}
	k := d.outputs1()
	if spec.DType == Float64 {
		buf := make([]float64, batch*k)
		for r, i := range rows {
			if i < 0 {
				continue
			}
			j := d.storageIndex(i) * k
			copy(buf[r*k:(r+1)*k], d.targets[j:j+k])
		}
		return tensors.FromFlatDataAndDimensions(buf, batch, k)
	}
	buf := make([]float32, batch*k)
	for r, i := range rows {
		if i < 0 {
			continue
		}
		j := d.storageIndex(i) * k
		for c := range k {
			buf[r*k+c] = float32(d.targets[j+c])
		}
	}
	return tensors.FromFlatDataAndDimensions(buf, batch, k)
}

// batchMask is 1 for the real examples of a batch (rows of rows that are not
// -1), 0 for the padding (rows past len(rows), or -1), in the model's dtype,
// shaped dims (their product rows at least).
func batchMask(rows []int, dtype string, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	if dtype == Float64 {
		buf := make([]float64, n)
		for r, i := range rows {
			if i >= 0 {
				buf[r] = 1
			}
		}
		return tensors.FromFlatDataAndDimensions(buf, dims...)
	}
	buf := make([]float32, n)
	for r, i := range rows {
		if i >= 0 {
			buf[r] = 1
		}
	}
	return tensors.FromFlatDataAndDimensions(buf, dims...)
}
