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
// nothing.
type Data struct {
	// Shape of one example, e.g. [1] or [28, 28, 1] (channels last).
	Shape []int
	// Values holds the inputs as numbers, example after example; or nil.
	Values []float64
	// Pixels holds the inputs as bytes, fed as x/255; used when Values is nil.
	Pixels []uint8
	// Targets are the regression targets, Outputs per example (nil for
	// classification).
	Targets []float64
	// Outputs is the number of targets per example (1 when 0).
	Outputs int
	// Labels are the class labels (nil for regression).
	Labels []int32

	// idx selects and orders the examples of the storage; nil means all.
	idx []int
}

// FromCSV returns the regression points as Data: one input, one target each.
func FromCSV(ds *data.CSVDataset) *Data {
	return &Data{Shape: []int{1}, Values: slices.Clone(ds.Inputs), Targets: slices.Clone(ds.Labels), Outputs: 1}
}

// FromImages returns images and their labels as Data of shape [rows, cols, 1].
func FromImages(im *data.Images) *Data {
	labels := make([]int32, len(im.Labels))
	for i, l := range im.Labels {
		labels[i] = int32(l)
	}
	return &Data{Shape: []int{im.Rows, im.Cols, 1}, Pixels: im.Pixels, Labels: labels}
}

// Inputs returns Data with one input per example and no targets: a grid
// over which to predict a regression curve.
func Inputs(xs []float64) *Data {
	return &Data{Shape: []int{1}, Values: slices.Clone(xs)}
}

// Len is the number of examples.
func (d *Data) Len() int {
	if d.idx != nil {
		return len(d.idx)
	}
	size := d.exampleSize()
	if size == 0 {
		return 0
	}
	if d.Values != nil {
		return len(d.Values) / size
	}
	return len(d.Pixels) / size
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
	for _, s := range d.Shape {
		size *= s
	}
	return size
}

func (d *Data) outputs() int {
	if d.Outputs == 0 {
		return 1
	}
	return d.Outputs
}

// TargetsOf returns the regression targets in d's order.
func (d *Data) TargetsOf() []float64 {
	out := make([]float64, 0, d.Len()*d.outputs())
	k := d.outputs()
	for i := range d.Len() {
		j := d.storageIndex(i)
		out = append(out, d.Targets[j*k:(j+1)*k]...)
	}
	return out
}

// LabelsOf returns the class labels in d's order.
func (d *Data) LabelsOf() []int32 {
	out := make([]int32, d.Len())
	for i := range out {
		out[i] = d.Labels[d.storageIndex(i)]
	}
	return out
}

// check says whether d fits a model of spec, and has what training needs.
func (d *Data) check(spec Spec, needTargets bool, what string) error {
	if d == nil {
		return fmt.Errorf("%s: no data", what)
	}
	if !slices.Equal(d.Shape, spec.ExampleShape()) {
		return fmt.Errorf("%s: examples of shape %v, model %s wants %v", what, d.Shape, spec.Kind, spec.ExampleShape())
	}
	if d.Values == nil && d.Pixels == nil {
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
		if spec.Classifier() && len(d.Labels) != n {
			return fmt.Errorf("%s: %d labels for %d examples", what, len(d.Labels), n)
		}
		if !spec.Classifier() && len(d.Targets) != n*d.outputs() {
			return fmt.Errorf("%s: %d targets for %d examples of %d outputs", what, len(d.Targets), n, d.outputs())
		}
	}
	if spec.Classifier() {
		if d.Labels == nil {
			return fmt.Errorf("%s: a classifier needs labels", what)
		}
		for _, l := range d.Labels {
			if l < 0 || int(l) >= spec.NumOutputs() {
				return fmt.Errorf("%s: label %d outside [0, %d)", what, l, spec.NumOutputs())
			}
		}
	} else {
		if d.Targets == nil {
			return fmt.Errorf("%s: a regression needs targets", what)
		}
		if d.outputs() != spec.NumOutputs() {
			return fmt.Errorf("%s: %d targets per example, model has %d outputs", what, d.outputs(), spec.NumOutputs())
		}
	}
	return nil
}

// batchInputs gathers the inputs of examples rows (positions in d) into a
// tensor [batch, Shape...] of the model's dtype; rows past len(rows) (a
// padded batch) are zero.
func (d *Data) batchInputs(rows []int, batch int, dtype string) *tensors.Tensor {
	size := d.exampleSize()
	dims := append([]int{batch}, d.Shape...)
	if dtype == Float64 {
		buf := make([]float64, batch*size)
		for r, i := range rows {
			j := d.storageIndex(i) * size
			dst := buf[r*size : (r+1)*size]
			if d.Values != nil {
				copy(dst, d.Values[j:j+size])
			} else {
				for k, p := range d.Pixels[j : j+size] {
					dst[k] = float64(p) / 255
				}
			}
		}
		return tensors.FromFlatDataAndDimensions(buf, dims...)
	}
	buf := make([]float32, batch*size)
	for r, i := range rows {
		j := d.storageIndex(i) * size
		dst := buf[r*size : (r+1)*size]
		if d.Values != nil {
			for k, v := range d.Values[j : j+size] {
				dst[k] = float32(v)
			}
		} else {
			for k, p := range d.Pixels[j : j+size] {
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
			buf[r] = d.Labels[d.storageIndex(i)]
		}
		return tensors.FromFlatDataAndDimensions(buf, batch)
	}
	k := d.outputs()
	if spec.DType == Float64 {
		buf := make([]float64, batch*k)
		for r, i := range rows {
			j := d.storageIndex(i) * k
			copy(buf[r*k:(r+1)*k], d.Targets[j:j+k])
		}
		return tensors.FromFlatDataAndDimensions(buf, batch, k)
	}
	buf := make([]float32, batch*k)
	for r, i := range rows {
		j := d.storageIndex(i) * k
		for c := range k {
			buf[r*k+c] = float32(d.Targets[j+c])
		}
	}
	return tensors.FromFlatDataAndDimensions(buf, batch, k)
}

// batchMask is 1 for the len(rows) real examples of a batch of batch rows, 0
// for the padding, in the model's dtype.
func batchMask(rows []int, batch int, dtype string) *tensors.Tensor {
	if dtype == Float64 {
		buf := make([]float64, batch)
		for r := range rows {
			buf[r] = 1
		}
		return tensors.FromFlatDataAndDimensions(buf, batch)
	}
	buf := make([]float32, batch)
	for r := range rows {
		buf[r] = 1
	}
	return tensors.FromFlatDataAndDimensions(buf, batch)
}
