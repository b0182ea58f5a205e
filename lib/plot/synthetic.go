package plot

// SYNTHETIC DATA. Everything in this file is made up, shaped like the
// homework's results, so that every figure can be drawn and looked at
// before (or without) a training run. Nothing here is trained or measured;
// the gallery page says so. The integrator replaces these with a real run.

import (
	"math"
	"math/rand/v2"

	"github.com/dlworkbench/hw1/lib/data"
)

// SyntheticRegression returns made-up regression results: noisy points of a
// smooth function with two gaps in the training x, five "models" that are
// the function plus smooth errors, and decaying loss curves.
func SyntheticRegression(seed uint64) RegressionResults {
	rng := rand.New(rand.NewPCG(seed, 1))
	f := func(x float64) float64 { return 2 + 2.2*math.Sin(x+1.1) + 0.02*x*x*x }
	var r RegressionResults
	for len(r.Train.X) < 100 {
		x := -5 + 10*rng.Float64()
		if (x > -3 && x < -0.9) || (x > 1.7 && x < 3.1) {
			continue // the real training set has two such gaps
		}
		r.Train.X = append(r.Train.X, x)
		r.Train.Y = append(r.Train.Y, f(x)+0.5*rng.NormFloat64())
	}
	for range 100 {
		x := -5 + 10*rng.Float64()
		r.Test.X = append(r.Test.X, x)
		r.Test.Y = append(r.Test.Y, f(x)+0.1*rng.NormFloat64())
	}
	const k = 5
	for x := -5.5; x <= 5.5+1e-9; x += 0.05 {
		r.Xs = append(r.Xs, x)
	}
	model := func(x float64, phase, amp float64) float64 {
		return f(x) + amp*math.Sin(1.7*x+phase) + 0.15*amp*x
	}
	for range k {
		phase, amp := rng.Float64()*6, 0.15+0.25*rng.Float64()
		ys := make([]float64, len(r.Xs))
		var mse float64
		for i, x := range r.Xs {
			ys[i] = model(x, phase, amp)
		}
		for i, x := range r.Test.X {
			d := model(x, phase, amp) - r.Test.Y[i]
			mse += d * d / float64(len(r.Test.X))
		}
		r.Preds = append(r.Preds, ys)
		r.TestLoss = append(r.TestLoss, mse)
	}
	best := argmin(r.TestLoss)
	r.Best = XY{X: r.Xs, Y: r.Preds[best]}
	const epochs = 180
	for m := range k {
		h := History{}
		lvl := 0.18 + 0.06*rng.Float64()
		for e := 1; e <= epochs; e++ {
			decay := math.Exp(-float64(e) / 12)
			h.Epochs = append(h.Epochs, e)
			h.TrainLoss = append(h.TrainLoss, lvl+0.1+6*decay+0.03*rng.NormFloat64()*(1+decay))
			h.ValLoss = append(h.ValLoss, lvl+5*decay+0.05*math.Abs(rng.NormFloat64())+0.02*float64(m))
		}
		r.Folds = append(r.Folds, h)
	}
	last := r.Preds[k-1]
	for e := 5; e <= epochs; e += 5 {
		t := 1 - math.Exp(-float64(e)/30)
		ys := make([]float64, len(r.Xs))
		for i, x := range r.Xs {
			ys[i] = 2*(1-t) + t*last[i] + (1-t)*0.4*math.Sin(3*x)
		}
		r.Frames = append(r.Frames, FitFrame{Epoch: e, Curve: XY{X: r.Xs, Y: ys}})
	}
	units := []int{1, 216, 154, 1}
	names := []string{"hidden 1", "hidden 2", "output"}
	for i, n := range names {
		in, out := units[i], units[i+1]
		w := make([]float32, in*out)
		std := math.Sqrt(2 / float64(in))
		for j := range w {
			w[j] = float32(std * rng.NormFloat64() * 0.7)
		}
		r.Layers = append(r.Layers, Layer{Name: n + " weights", Weights: w, Shape: []int{out, in}})
	}
	r.Activations = map[float64][]Activation{}
	for _, x := range []float64{-4, -1, 2, 4.5} {
		var acts []Activation
		for i, n := range names[:2] {
			vs := make([]float32, units[i+1])
			for j := range vs {
				vs[j] = float32(math.Max(0, math.Sin(float64(j)*0.37+x)*1.2+0.4*rng.NormFloat64()-0.3*float64(i)))
			}
			acts = append(acts, Activation{Layer: n, Values: vs})
		}
		r.Activations[x] = acts
	}
	return r
}

// SyntheticClassification returns made-up classification results: ten
// models near 0.89 accuracy whose confusions follow Fashion-MNIST's known
// weak spot (shirt against t-shirt, pullover, coat), random kernels, and
// feature maps computed from them on a drawn "trouser".
func SyntheticClassification(seed uint64) ClassificationResults {
	rng := rand.New(rand.NewPCG(seed, 2))
	c := ClassificationResults{Classes: data.ClassNames[:]}
	const k = 10
	for range k {
		c.TestAcc = append(c.TestAcc, 0.885+0.01*rng.Float64())
		c.TestLoss = append(c.TestLoss, 0.30+0.03*rng.Float64())
	}
	// Accuracy per class and which classes each is mistaken for.
	acc := []float64{0.86, 0.975, 0.83, 0.9, 0.82, 0.97, 0.68, 0.95, 0.975, 0.955}
	confusedWith := [][]int{{6, 3, 2}, {3}, {4, 6}, {6, 1, 4}, {2, 6, 3}, {7, 9}, {0, 2, 4}, {5, 9}, {6, 0}, {7, 5}}
	confusion := func(bonus float64) [][]int {
		m := make([][]int, 10)
		for i := range m {
			m[i] = make([]int, 10)
			right := int(1000 * math.Min(0.995, acc[i]+bonus+0.01*rng.NormFloat64()))
			m[i][i] = right
			rest := 1000 - right
			for n, j := range confusedWith[i] {
				share := rest * (len(confusedWith[i]) - n) / (len(confusedWith[i]) + 2)
				m[i][j] += share
				rest -= share
			}
			for rest > 0 {
				j := rng.IntN(10)
				if j != i {
					m[i][j]++
					rest--
				}
			}
		}
		return m
	}
	c.ConfusionBest = confusion(0)
	c.ConfusionVote = confusion(0.005)
	const epochs = 40
	for range k {
		h := History{}
		for e := 1; e <= epochs; e++ {
			d := math.Exp(-float64(e) / 6)
			h.Epochs = append(h.Epochs, e)
			h.TrainLoss = append(h.TrainLoss, 0.33+0.9*d+0.01*rng.NormFloat64())
			h.ValLoss = append(h.ValLoss, 0.29+0.7*d+0.015*rng.NormFloat64())
			h.TrainAcc = append(h.TrainAcc, 0.88-0.35*d+0.004*rng.NormFloat64())
			h.ValAcc = append(h.ValAcc, 0.895-0.3*d+0.006*rng.NormFloat64())
		}
		c.Folds = append(c.Folds, h)
	}
	dense := func(name string, in, out int) Layer {
		w := make([]float32, in*out)
		for j := range w {
			w[j] = float32(rng.NormFloat64() * math.Sqrt(1/float64(in)))
		}
		return Layer{Name: name, Weights: w, Shape: []int{out, in}}
	}
	c.Linear = []Layer{dense("fc1", 400, 120), dense("fc2", 120, 84), dense("fc3", 84, 10)}
	kernel := func(name string, out, in int) Layer {
		w := make([]float32, out*in*25)
		for o := range out {
			for i := range in {
				// Oriented, smooth kernels look like trained edge detectors.
				a, ph := rng.Float64()*math.Pi, rng.Float64()*math.Pi
				for y := range 5 {
					for x := range 5 {
						u := math.Cos(a)*float64(x-2) + math.Sin(a)*float64(y-2)
						w[((o*in+i)*5+y)*5+x] = float32(0.4*math.Cos(1.3*u+ph) + 0.08*rng.NormFloat64())
					}
				}
			}
		}
		return Layer{Name: name, Weights: w, Shape: []int{out, in, 5, 5}}
	}
	c.Conv1, c.Conv2 = kernel("conv1", 6, 1), kernel("conv2", 16, 6)
	c.Input = drawnTrouser()
	in := Layer{Name: "input", Weights: c.Input.Pixels, Shape: []int{1, 28, 28}}
	c.Maps1 = convReLU(in, c.Conv1, 2)
	c.Maps1.Name = "conv1"
	c.Maps2 = convReLU(maxPool2(c.Maps1), c.Conv2, 0)
	c.Maps2.Name = "conv2"
	for i := range 16 {
		label := i % 10
		c.Samples = append(c.Samples, drawnItem(label, rng))
		c.Labels = append(c.Labels, label)
		p := label
		if rng.Float64() < 0.15 {
			p = confusedWith[label][0]
		}
		c.Predicted = append(c.Predicted, p)
	}
	return c
}

// drawnTrouser is a 28x28 picture of two legs, a stand-in for a test image.
func drawnTrouser() Image {
	im := Image{Pixels: make([]float32, 28*28), Height: 28, Width: 28}
	for y := 3; y < 26; y++ {
		for x := 8; x < 20; x++ {
			if y > 9 && x >= 13 && x <= 14 {
				continue // the gap between the legs
			}
			im.Pixels[y*28+x] = 0.55 + 0.25*float32(math.Sin(float64(x+y)))
		}
	}
	return im
}

// drawnItem is a crude silhouette whose size depends on the class, so that
// the sample grid has something to show; it is not Fashion-MNIST.
func drawnItem(label int, rng *rand.Rand) Image {
	im := Image{Pixels: make([]float32, 28*28), Height: 28, Width: 28}
	w := 6 + label%5*2
	h := 8 + (label*7)%14
	x0, y0 := 14-w/2, 14-h/2
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			im.Pixels[y*28+x] = float32(0.5 + 0.4*rng.Float64())
		}
	}
	return im
}

// convReLU is a plain "same"-style convolution (stride 1, given padding)
// followed by ReLU: input [in, h, w], kernel [out, in, 5, 5].
func convReLU(in, kernel Layer, pad int) Layer {
	ci, h, w := in.Shape[0], in.Shape[1], in.Shape[2]
	co, kh, kw := kernel.Shape[0], kernel.Shape[2], kernel.Shape[3]
	oh, ow := h+2*pad-kh+1, w+2*pad-kw+1
	out := make([]float32, co*oh*ow)
	for o := range co {
		for y := range oh {
			for x := range ow {
				var s float32
				for i := range ci {
					for dy := range kh {
						for dx := range kw {
							yy, xx := y+dy-pad, x+dx-pad
							if yy >= 0 && yy < h && xx >= 0 && xx < w {
								s += in.Weights[(i*h+yy)*w+xx] * kernel.Weights[((o*ci+i)*kh+dy)*kw+dx]
							}
						}
					}
				}
				out[(o*oh+y)*ow+x] = max(s, 0)
			}
		}
	}
	return Layer{Weights: out, Shape: []int{co, oh, ow}}
}

func maxPool2(in Layer) Layer {
	c, h, w := in.Shape[0], in.Shape[1], in.Shape[2]
	oh, ow := h/2, w/2
	out := make([]float32, c*oh*ow)
	for k := range c {
		for y := range oh {
			for x := range ow {
				m := in.Weights[(k*h+2*y)*w+2*x]
				m = max(m, in.Weights[(k*h+2*y)*w+2*x+1], in.Weights[(k*h+2*y+1)*w+2*x], in.Weights[(k*h+2*y+1)*w+2*x+1])
				out[(k*oh+y)*ow+x] = m
			}
		}
	}
	return Layer{Weights: out, Shape: []int{c, oh, ow}}
}

// SyntheticRegressionStudy is a made-up study shaped like the seed's
// regression one (most trials pruned, learning rate the most important).
func SyntheticRegressionStudy(seed uint64) StudyResults {
	rng := rand.New(rand.NewPCG(seed, 3))
	params := []Param{
		{Name: "n_layers", Low: 1, High: 3},
		{Name: "n_units_l0", Low: 128, High: 256},
		{Name: "batch_size", Low: 4, High: 50},
		{Name: "n_epochs", Low: 100, High: 1000},
		{Name: "lr", Low: 1e-4, High: 1e-2, Log: true},
		{Name: "weight_decay", Low: 1e-7, High: 0.1, Log: true},
		{Name: "optimizer", Choices: []string{"Adam", "SGD", "RMSprop"}},
	}
	s := Study{Name: "regression (synthetic)", Direction: "minimize", Objective: "validation loss", Params: params}
	opt := params[6].Choices
	for n := range 80 {
		lr := math.Pow(10, -4+2*rng.Float64())
		wd := math.Pow(10, -7+6*rng.Float64())
		units := float64(128 + rng.IntN(129))
		t := Trial{Number: n, Params: map[string]float64{
			"n_layers": float64(1 + rng.IntN(3)), "n_units_l0": units, "batch_size": float64(4 + rng.IntN(47)),
			"n_epochs": float64(100 + rng.IntN(901)), "lr": lr, "weight_decay": wd,
		}, CategoricalParams: map[string]string{"optimizer": opt[rng.IntN(3)]}}
		final := 0.19 + 0.6*math.Pow(math.Log10(lr/1.4e-3), 2) + 0.15*math.Max(0, math.Log10(wd)+3) +
			0.0005*math.Abs(units-216) + 0.03*rng.Float64()
		t.Intermediate = map[int]float64{}
		stop := 100
		pruned := n > 10 && rng.Float64() < 0.8
		if pruned {
			stop = 10 + 10*rng.IntN(5)
		}
		for e := 5; e <= stop; e += 5 {
			t.Intermediate[e] = final + 3*math.Exp(-float64(e)/15)
		}
		s.Trials = append(s.Trials, ended(t, pruned, stop))
	}
	return StudyResults{Study: s, Importances: map[string]float64{
		"lr": 0.52, "n_units_l0": 0.17, "weight_decay": 0.12, "batch_size": 0.07,
		"n_epochs": 0.05, "optimizer": 0.04, "n_layers": 0.03,
	}}
}

// ended is a synthetic trial stopped at step stop: pruned there, or
// complete with the value it reported last.
func ended(t Trial, pruned bool, stop int) Trial {
	if pruned {
		t.State = "PRUNED"
	} else {
		t.State, t.Value = "COMPLETE", t.Intermediate[stop]
	}
	return t
}

// SyntheticClassificationStudy is a made-up study shaped like the seed's
// classification one (maximizing accuracy, the optimizer most important).
func SyntheticClassificationStudy(seed uint64) StudyResults {
	rng := rand.New(rand.NewPCG(seed, 4))
	params := []Param{
		{Name: "n_epochs", Low: 10, High: 100},
		{Name: "batch_size", Low: 64, High: 256},
		{Name: "lr", Low: 1e-4, High: 1e-2, Log: true},
		{Name: "weight_decay", Low: 1e-4, High: 1e-2, Log: true},
		{Name: "dropout", Low: 0.1, High: 0.5},
		{Name: "optimizer", Choices: []string{"Adam", "SGD", "RMSprop"}},
	}
	s := Study{Name: "classification (synthetic)", Direction: "maximize", Objective: "validation accuracy", Params: params}
	base := map[string]float64{"Adam": 0.89, "RMSprop": 0.87, "SGD": 0.8}
	for n := range 60 {
		o := params[5].Choices[rng.IntN(3)]
		lr := math.Pow(10, -4+2*rng.Float64())
		wd := math.Pow(10, -4+2*rng.Float64())
		t := Trial{Number: n, Params: map[string]float64{
			"n_epochs": float64(10 + rng.IntN(91)), "batch_size": float64(64 + rng.IntN(193)),
			"lr": lr, "weight_decay": wd, "dropout": 0.1 + 0.4*rng.Float64(),
		}, CategoricalParams: map[string]string{"optimizer": o}}
		final := base[o] - 0.04*math.Pow(math.Log10(lr/2e-3), 2) - 0.02*(math.Log10(wd)+4) + 0.01*rng.Float64()
		t.Intermediate = map[int]float64{}
		stop := 30
		pruned := n > 8 && rng.Float64() < 0.85
		if pruned {
			stop = 3 + rng.IntN(10)
		}
		for e := 1; e <= stop; e++ {
			t.Intermediate[e] = final - 0.25*math.Exp(-float64(e)/4)
		}
		s.Trials = append(s.Trials, ended(t, pruned, stop))
	}
	return StudyResults{Study: s, Importances: map[string]float64{
		"optimizer": 0.46, "lr": 0.25, "weight_decay": 0.14, "dropout": 0.07, "batch_size": 0.05, "n_epochs": 0.03,
	}}
}
