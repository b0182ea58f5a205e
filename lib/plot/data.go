package plot

import (
	"errors"
	"fmt"
	"math"
)

// XY is a set of points, or a curve when X is sorted.
type XY struct {
	X, Y []float64
}

// History is the per-epoch record of one training run (one fold). The
// accuracy slices are empty for the regression.
type History struct {
	Epochs             []int
	TrainLoss, ValLoss []float64
	TrainAcc, ValAcc   []float64
}

// Layer is a named weight tensor, flattened in row-major order of Shape.
// Filters expect Shape [out, in, height, width] (see KernelFromHWIO for
// GoMLX's layout); feature maps expect [channels, height, width].
type Layer struct {
	Name    string
	Weights []float32
	Shape   []int
}

// Activation is the output of one layer for one input, in the precision
// the models compute (float32, as Layer's weights).
type Activation struct {
	Layer  string
	Values []float32
}

// FitFrame is the model's curve after Epoch epochs, one frame of fit.gif.
type FitFrame struct {
	Epoch int
	Curve XY
}

// Image is a grey image, row-major, with pixels in any range: it is drawn
// scaled to its own min..max, black for the lowest as Fashion-MNIST is.
type Image struct {
	Pixels        []float32
	Height, Width int
}

// ErrNotNotebook is returned by Show outside a GoNB notebook.
var ErrNotNotebook = errors.New("plot: not running inside a GoNB notebook")

func checkFinite(what string, vs []float64) error {
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s[%d] is %v", what, i, v)
		}
	}
	return nil
}

func checkFinite32(what string, vs []float32) error {
	for i, v := range vs {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%s[%d] is %v", what, i, v)
		}
	}
	return nil
}

// check validates an XY: same lengths, finite, and at least min points.
func (d XY) check(what string, min int) error {
	if len(d.X) != len(d.Y) {
		return fmt.Errorf("%s: %d x values but %d y values", what, len(d.X), len(d.Y))
	}
	if len(d.X) < min {
		return fmt.Errorf("%s: %d points, need at least %d", what, len(d.X), min)
	}
	if err := checkFinite(what+".X", d.X); err != nil {
		return err
	}
	return checkFinite(what+".Y", d.Y)
}

// checkHistories checks that the folds have the same epochs and, for each
// field that fields names, a finite value per epoch.
func checkHistories(folds []History, fields ...string) error {
	if len(folds) == 0 {
		return errors.New("no folds")
	}
	n := len(folds[0].Epochs)
	if n == 0 {
		return errors.New("fold 1: no epochs")
	}
	for k, h := range folds {
		if len(h.Epochs) != n {
			return fmt.Errorf("fold %d: %d epochs, fold 1 has %d", k+1, len(h.Epochs), n)
		}
		for i, e := range h.Epochs {
			if e != folds[0].Epochs[i] {
				return fmt.Errorf("fold %d: epoch[%d] is %d, fold 1 has %d", k+1, i, e, folds[0].Epochs[i])
			}
		}
		for _, f := range fields {
			vs := h.field(f)
			if len(vs) != n {
				return fmt.Errorf("fold %d: %d %s values for %d epochs", k+1, len(vs), f, n)
			}
			if err := checkFinite(fmt.Sprintf("fold %d %s", k+1, f), vs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h History) field(name string) []float64 {
	switch name {
	case "TrainLoss":
		return h.TrainLoss
	case "ValLoss":
		return h.ValLoss
	case "TrainAcc":
		return h.TrainAcc
	case "ValAcc":
		return h.ValAcc
	}
	return nil
}

// foldStats returns, per epoch, the mean, min and max of a field over folds.
func foldStats(folds []History, field string) (mean, lo, hi []float64) {
	n := len(folds[0].Epochs)
	mean, lo, hi = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		lo[i], hi[i] = math.Inf(1), math.Inf(-1)
		for _, h := range folds {
			v := h.field(field)[i]
			mean[i] += v / float64(len(folds))
			lo[i], hi[i] = math.Min(lo[i], v), math.Max(hi[i], v)
		}
	}
	return mean, lo, hi
}

func epochsFloat(h History) []float64 {
	xs := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		xs[i] = float64(e)
	}
	return xs
}

// checkLayer checks that Weights has the size Shape says and is finite.
func (l Layer) check(dims int) error {
	if len(l.Weights) == 0 {
		return fmt.Errorf("layer %q: no weights", l.Name)
	}
	if dims > 0 && len(l.Shape) != dims {
		return fmt.Errorf("layer %q: shape %v, want %d dimensions", l.Name, l.Shape, dims)
	}
	if len(l.Shape) > 0 {
		n := 1
		for _, d := range l.Shape {
			if d <= 0 {
				return fmt.Errorf("layer %q: shape %v has a non-positive dimension", l.Name, l.Shape)
			}
			n *= d
		}
		if n != len(l.Weights) {
			return fmt.Errorf("layer %q: shape %v holds %d values, got %d", l.Name, l.Shape, n, len(l.Weights))
		}
	}
	return checkFinite32(fmt.Sprintf("layer %q weights", l.Name), l.Weights)
}

func (im Image) check(what string) error {
	if im.Height <= 0 || im.Width <= 0 {
		return fmt.Errorf("%s: size %dx%d", what, im.Height, im.Width)
	}
	if len(im.Pixels) != im.Height*im.Width {
		return fmt.Errorf("%s: %d pixels for %dx%d", what, len(im.Pixels), im.Height, im.Width)
	}
	return checkFinite32(what, im.Pixels)
}

// KernelFromHWIO converts a convolution kernel from GoMLX's default layout
// [height, width, in, out] to the [out, in, height, width] that Filters reads.
func KernelFromHWIO(l Layer) (Layer, error) {
	if err := l.check(4); err != nil {
		return Layer{}, fmt.Errorf("plot: KernelFromHWIO: %w", err)
	}
	h, w, in, out := l.Shape[0], l.Shape[1], l.Shape[2], l.Shape[3]
	dst := make([]float32, len(l.Weights))
	for y := range h {
		for x := range w {
			for i := range in {
				for o := range out {
					dst[((o*in+i)*h+y)*w+x] = l.Weights[((y*w+x)*in+i)*out+o]
				}
			}
		}
	}
	return Layer{Name: l.Name, Weights: dst, Shape: []int{out, in, h, w}}, nil
}

func argmin(vs []float64) int {
	best := 0
	for i, v := range vs {
		if v < vs[best] {
			best = i
		}
	}
	return best
}

func argmax(vs []float64) int {
	best := 0
	for i, v := range vs {
		if v > vs[best] {
			best = i
		}
	}
	return best
}
