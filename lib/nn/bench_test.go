package nn

import (
	"fmt"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/backendtest"
)

// BenchmarkLeNet5Epoch1k trains LeNet5 on 1,024 random images (16 steps of
// the seed's batch 64); multiply by 58.6 for an epoch of Fashion-MNIST.
//
//	go test ./lib/nn -run ^$ -bench LeNet5 -benchtime 3x
func BenchmarkLeNet5Epoch1k(b *testing.B) {
	spec, hp := SeedClassificationBest()
	hp.Epochs = 1
	d := &Data{shape: []int{28, 28, 1}, pixels: make([]uint8, 1024*784), labels: make([]int32, 1024)}
	for i := range d.pixels {
		d.pixels[i] = uint8(i * 7919 % 251)
	}
	for i := range d.labels {
		d.labels[i] = int32(i % 10)
	}
	benchFit(b, spec, hp, d)
}

// BenchmarkRegressionEpoch is one epoch of the seed's best regression model
// on 80 points (a fold of the 5-fold CV): 8 steps of batch 10.
func BenchmarkRegressionEpoch(b *testing.B) {
	spec, hp := SeedRegressionBest()
	hp.Epochs = 1
	benchFit(b, spec, hp, wave(80))
}

// BenchmarkRegressionOptimizers is one epoch of 80 points for a network of
// the regression study's size (hidden 200, 180) per optimizer, at a small and
// a large batch of the study's range: on the pure-Go backend the small batch
// is where node dispatch and the optimizer's elementwise passes dominate.
//
//	go test ./lib/nn -run ^$ -bench RegressionOptimizers -benchtime 40x
func BenchmarkRegressionOptimizers(b *testing.B) {
	for _, opt := range []string{OptimizerAdam, OptimizerRMSprop, OptimizerSGD} {
		for _, batch := range []int{5, 29} {
			hp := Hyperparameters{Epochs: 1, BatchSize: batch, LearningRate: 1e-3, Optimizer: opt}
			if opt == OptimizerSGD {
				hp.Momentum = 0.5
			}
			b.Run(fmt.Sprintf("%s/b%d", opt, batch), func(b *testing.B) {
				benchFit(b, MLP([]int{200, 180}, nil, ActivationReLU), hp, wave(80))
			})
		}
	}
}

func benchFit(b *testing.B, spec Spec, hp Hyperparameters, d *Data) {
	for _, be := range backendtest.ForTests(b) {
		b.Run(be.Name, func(b *testing.B) {
			m, err := New(be.Backend, spec, 1)
			if err != nil {
				b.Fatal(err)
			}
			// The first Fit compiles.
			if _, err := Fit(m, d, nil, hp, Options{Progress: ProgressOff}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := Fit(m, d, nil, hp, Options{Progress: ProgressOff}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// firstEpoch is what a benchmark's first epoch took and compiled.
type firstEpoch struct {
	seconds  time.Duration
	compiled CompileStats
}

// firstEpochs are the first epochs of BenchmarkPadding's cases, by name.
var firstEpochs = map[string]firstEpoch{}

// BenchmarkPadding measures what batch and width buckets cost and save: for
// batch sizes and widths the seed's searches draw, the first epoch (which
// compiles: one train graph padded, two exact when the last batch is
// smaller) and the time per step afterwards, exact against padded
// (DefaultPadding of XLA). docs/PERFORMANCE.md has the numbers.
//
//	go test ./lib/nn -run ^$ -bench Padding -benchtime 20x
func BenchmarkPadding(b *testing.B) {
	images := func(n int) *Data {
		d := &Data{shape: []int{28, 28, 1}, pixels: make([]uint8, n*784), labels: make([]int32, n)}
		for i := range d.pixels {
			d.pixels[i] = uint8(i * 7919 % 251)
		}
		for i := range d.labels {
			d.labels[i] = int32(i % 10)
		}
		return d
	}
	lenet, lenetHP := SeedClassificationBest()
	mlp, mlpHP := SeedRegressionBest()
	cases := []struct {
		name   string
		spec   Spec
		hp     Hyperparameters
		hidden []int
		data   func(batch int) *Data
		batch  int
	}{
		{name: "lenet5", spec: lenet, hp: lenetHP, batch: 65, data: func(bs int) *Data { return images(4*bs - 1) }},
		{name: "lenet5", spec: lenet, hp: lenetHP, batch: 100, data: func(bs int) *Data { return images(4*bs - 1) }},
		{name: "lenet5", spec: lenet, hp: lenetHP, batch: 161, data: func(bs int) *Data { return images(4*bs - 1) }},
		{name: "mlp", spec: mlp, hp: mlpHP, hidden: []int{130, 200}, batch: 13, data: func(int) *Data { return wave(80) }},
		{name: "mlp", spec: mlp, hp: mlpHP, hidden: []int{129, 150, 170}, batch: 37, data: func(int) *Data { return wave(80) }},
	}
	for _, be := range backendtest.ForTests(b) {
		for _, c := range cases {
			for _, padded := range []bool{false, true} {
				pad, label := NoPadding, "exact"
				if padded {
					pad, label = Padding{BatchBits: 3, WidthBits: 1}, "padded"
				}
				spec := c.spec
				if c.hidden != nil {
					spec = MLP(c.hidden, nil, spec.Activation)
				}
				name := fmt.Sprintf("%s/%s/hidden=%v/batch=%d/%s", be.ID(), c.name, c.hidden, c.batch, label)
				b.Run(name, func(b *testing.B) {
					hp := c.hp
					hp.Epochs, hp.BatchSize = 1, c.batch
					d := c.data(c.batch)
					steps := (d.Len() + c.batch - 1) / c.batch
					m, err := New(be.Backend, spec, 1)
					if err != nil {
						b.Fatal(err)
					}
					m.Padding = pad
					// The testing package calls this function more than
					// once (b.N = 1, then the count asked for); only the
					// first call compiles, so its figures are kept.
					fe, ok := firstEpochs[name]
					if !ok {
						before := Compilations()
						start := time.Now()
						if _, err := Fit(m, d, nil, hp, Options{Progress: ProgressOff}); err != nil {
							b.Fatal(err)
						}
						fe = firstEpoch{time.Since(start), Compilations().Sub(before)}
						firstEpochs[name] = fe
					}
					b.ResetTimer()
					for range b.N {
						if _, err := Fit(m, d, nil, hp, Options{Progress: ProgressOff}); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					step := b.Elapsed().Seconds() / float64(b.N*steps)
					b.ReportMetric(step*1e3, "ms/step")
					b.ReportMetric(fe.seconds.Seconds(), "first-epoch-s")
					b.ReportMetric(float64(fe.compiled.Graphs), "graphs")
					b.ReportMetric(fe.compiled.Seconds, "compile-s")
				})
			}
		}
	}
}
