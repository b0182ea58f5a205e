package figures

import (
	"errors"
	"fmt"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

var errNoModel = errors.New("figures: no model")

// Layers are the model's weights as lib/plot reads them: dense layers
// ([in, out]) as they are, convolution kernels in the [out, in, h, w]
// layout of Filters (plot.KernelFromHWIO).
func Layers(m *nn.Model) (dense, conv []plot.Layer, err error) {
	if m == nil {
		return nil, nil, errNoModel
	}
	weights, err := m.Weights()
	if err != nil {
		return nil, nil, err
	}
	for _, w := range weights {
		l := plot.Layer{Name: w.Layer, Weights: w.Weights, Shape: w.Shape}
		switch len(w.Shape) {
		case 4:
			k, err := plot.KernelFromHWIO(l)
			if err != nil {
				return nil, nil, err
			}
			conv = append(conv, k)
		default:
			dense = append(dense, l)
		}
	}
	return dense, conv, nil
}

// Weights draws a histogram of the weights of each dense layer.
func Weights(m *nn.Model) (*plot.Figure, error) {
	dense, _, err := Layers(m)
	if err != nil {
		return nil, err
	}
	return plot.Weights(dense)
}

// filterNames are the file names of the first two convolutions' figures.
var filterNames = []string{plot.NameFiltersConv1, plot.NameFiltersConv2}

// mapNames are those of their feature maps.
var mapNames = []string{plot.NameFeatureMapsConv1, plot.NameFeatureMapsConv2}

// Filters draws the kernels of each convolution, one figure each
// (filters_conv1, filters_conv2, then filters_<layer>).
func Filters(m *nn.Model) ([]*plot.Figure, error) {
	_, conv, err := Layers(m)
	if err != nil {
		return nil, err
	}
	if len(conv) == 0 {
		return nil, fmt.Errorf("figures: model %s has no convolution", m.Spec.Kind)
	}
	var figs []*plot.Figure
	for i, l := range conv {
		f, err := plot.Filters(nthName(filterNames, i, "filters_"+l.Name), l)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

func nthName(names []string, i int, other string) string {
	if i < len(names) {
		return names[i]
	}
	return other
}

// activationsOf converts one example's activations: dense ones as numbers,
// convolutions' [1, H, W, C] as [C, H, W] maps.
func activationsOf(acts []nn.Activation) (dense []plot.Activation, maps []plot.Layer) {
	for _, a := range acts {
		if len(a.Shape) == 4 {
			maps = append(maps, mapsCHW(a))
			continue
		}
		dense = append(dense, plot.Activation{Layer: a.Layer, Values: a.Values})
	}
	return dense, maps
}

// mapsCHW turns one example's [1, H, W, C] activations into [C, H, W].
func mapsCHW(a nn.Activation) plot.Layer {
	h, w, c := a.Shape[1], a.Shape[2], a.Shape[3]
	out := make([]float32, h*w*c)
	for y := range h {
		for x := range w {
			for ch := range c {
				out[(ch*h+y)*w+x] = a.Values[(y*w+x)*c+ch]
			}
		}
	}
	return plot.Layer{Name: a.Layer, Weights: out, Shape: []int{c, h, w}}
}

// ActivationsOf is the activation of every dense layer of an MLP for input
// x, as lib/plot reads it.
func ActivationsOf(m *nn.Model, x float64) ([]plot.Activation, error) {
	if m == nil {
		return nil, errNoModel
	}
	acts, err := m.Activations(nn.Inputs([]float64{x}))
	if err != nil {
		return nil, err
	}
	dense, _ := activationsOf(acts)
	return dense, nil
}

// Activations draws the activation profile of every layer of a regression
// MLP for each input x (activations_x_<x>), one figure per input.
func Activations(m *nn.Model, xs ...float64) ([]*plot.Figure, error) {
	var figs []*plot.Figure
	for _, x := range xs {
		acts, err := ActivationsOf(m, x)
		if err != nil {
			return nil, err
		}
		f, err := plot.Activations(x, acts)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// FeatureMaps draws the outputs of each convolution of m for image i of im,
// with the image (feature_maps_conv1, feature_maps_conv2).
func FeatureMaps(m *nn.Model, im *data.Images, i int) ([]*plot.Figure, error) {
	if m == nil {
		return nil, errNoModel
	}
	if im == nil || i < 0 || i >= im.Len() {
		return nil, fmt.Errorf("figures: feature maps: no image %d", i)
	}
	one, err := nn.FromImages(im).Subset([]int{i})
	if err != nil {
		return nil, err
	}
	acts, err := m.Activations(one)
	if err != nil {
		return nil, err
	}
	_, maps := activationsOf(acts)
	if len(maps) == 0 {
		return nil, fmt.Errorf("figures: model %s has no convolution", m.Spec.Kind)
	}
	input := Image(im, i)
	var figs []*plot.Figure
	for k, l := range maps {
		f, err := plot.FeatureMaps(nthName(mapNames, k, "feature_maps_"+l.Name), input, l)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// Image is image i of im, its pixels scaled to [0, 1].
func Image(im *data.Images, i int) plot.Image {
	size := im.Rows * im.Cols
	px := make([]float32, size)
	for j, p := range im.Image(i) {
		px[j] = float32(p) / 255
	}
	return plot.Image{Pixels: px, Height: im.Rows, Width: im.Cols}
}

// Samples draws the images of im at indices with their labels, and, when
// m is not nil, the model's answers with its mistakes marked.
func Samples(im *data.Images, indices []int, m *nn.Model) (*plot.Figure, error) {
	if im == nil {
		return nil, errors.New("figures: no images")
	}
	var images []plot.Image
	var labels, predicted []int
	for _, i := range indices {
		if i < 0 || i >= im.Len() {
			return nil, fmt.Errorf("figures: samples: no image %d of %d", i, im.Len())
		}
		images = append(images, Image(im, i))
		labels = append(labels, int(im.Labels[i]))
	}
	if m != nil {
		pred, err := m.PredictClasses(nn.FromImages(im.Slice(indices)))
		if err != nil {
			return nil, err
		}
		for _, p := range pred {
			predicted = append(predicted, int(p))
		}
	}
	return plot.Samples(images, labels, predicted, data.ClassNames[:])
}

// FirstOfEachClass are the indices of the first n images of every class,
// class by class: the data figure of the classification.
func FirstOfEachClass(im *data.Images, n int) []int {
	var idx []int
	for c := 0; c < data.NumClasses; c++ {
		found := 0
		for i := 0; i < im.Len() && found < n; i++ {
			if int(im.Labels[i]) == c {
				idx = append(idx, i)
				found++
			}
		}
	}
	return idx
}

// labels are the images' labels as the models answer them.
func labels(im *data.Images) []int32 {
	out := make([]int32, len(im.Labels))
	for i, l := range im.Labels {
		out[i] = int32(l)
	}
	return out
}

// Confusion counts, row by true label and column by answer, model m's
// answers over the images.
func Confusion(m *nn.Model, im *data.Images) ([][]int, error) {
	if m == nil {
		return nil, errNoModel
	}
	if im == nil {
		return nil, errors.New("figures: no images")
	}
	pred, err := m.PredictClasses(nn.FromImages(im))
	if err != nil {
		return nil, err
	}
	return nn.ConfusionMatrix(pred, labels(im), data.NumClasses), nil
}

// ConfusionBest draws the confusion matrix of model m over the test images.
func ConfusionBest(m *nn.Model, test *data.Images) (*plot.Figure, error) {
	counts, err := Confusion(m, test)
	if err != nil {
		return nil, err
	}
	return plot.ConfusionBest(counts, data.ClassNames[:])
}

// ConfusionVote draws the confusion matrix of the folds' majority vote over
// the test images (cv.Result.EnsembleClassification).
func ConfusionVote(votes []int32, test *data.Images) (*plot.Figure, error) {
	if test == nil || len(votes) != test.Len() {
		return nil, fmt.Errorf("figures: %d votes for the test images", len(votes))
	}
	return plot.ConfusionVote(nn.ConfusionMatrix(votes, labels(test), data.NumClasses), data.ClassNames[:])
}
