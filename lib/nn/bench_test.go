package nn

import (
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
)

// BenchmarkLeNet5Epoch1k trains LeNet5 on 1,024 random images (16 steps of
// the seed's batch 64); multiply by 58.6 for an epoch of Fashion-MNIST.
//
//	go test ./lib/nn -run ^$ -bench LeNet5 -benchtime 3x
func BenchmarkLeNet5Epoch1k(b *testing.B) {
	spec, hp := SeedClassificationBest()
	hp.Epochs = 1
	d := &Data{Shape: []int{28, 28, 1}, Pixels: make([]uint8, 1024*784), Labels: make([]int32, 1024)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(i * 7919 % 251)
	}
	for i := range d.Labels {
		d.Labels[i] = int32(i % 10)
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

func benchFit(b *testing.B, spec Spec, hp Hyperparameters, d *Data) {
	for _, be := range backend.ForTests(b) {
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
