package plot

import "testing"

// BenchmarkRegressionFigures renders every regression figure as a PNG at
// its nominal size, the work of one results folder without fit.gif.
func BenchmarkRegressionFigures(b *testing.B) {
	figs, _, err := RegressionFigures(SyntheticRegression(1))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for _, f := range figs {
			if _, err := f.PNG(0, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFitGIF renders and encodes the 36 frames of fit.gif.
func BenchmarkFitGIF(b *testing.B) {
	_, anims, err := RegressionFigures(SyntheticRegression(1))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := anims[0].GIF(); err != nil {
			b.Fatal(err)
		}
	}
}
