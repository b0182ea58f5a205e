package cv

import "fmt"

// MeanEnsemble averages the predictions of several models, element by
// element.
func MeanEnsemble(predictions [][]float64) ([]float64, error) {
	if len(predictions) == 0 {
		return nil, fmt.Errorf("mean ensemble: no predictions")
	}
	n := len(predictions[0])
	mean := make([]float64, n)
	for m, p := range predictions {
		if len(p) != n {
			return nil, fmt.Errorf("mean ensemble: model %d has %d predictions, model 0 has %d", m, len(p), n)
		}
		for i, v := range p {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(len(predictions))
	}
	return mean, nil
}

// MajorityVote returns, for each example, the label most models predicted.
// When two or more labels share the most votes, the example gets the
// prediction of the model at index best, as the seed does (even if that
// model's label is not among the tied ones).
func MajorityVote(predictions [][]int32, best int) ([]int32, error) {
	if len(predictions) == 0 {
		return nil, fmt.Errorf("majority vote: no predictions")
	}
	if best < 0 || best >= len(predictions) {
		return nil, fmt.Errorf("majority vote: best model %d out of range [0, %d)", best, len(predictions))
	}
	n := len(predictions[0])
	for m, p := range predictions {
		if len(p) != n {
			return nil, fmt.Errorf("majority vote: model %d has %d predictions, model 0 has %d", m, len(p), n)
		}
	}
	out := make([]int32, n)
	counts := map[int32]int{}
	for i := range n {
		clear(counts)
		for _, p := range predictions {
			counts[p[i]]++
		}
		top, winner, tie := 0, int32(0), false
		for label, c := range counts {
			switch {
			case c > top:
				top, winner, tie = c, label, false
			case c == top:
				tie = true
			}
		}
		if tie {
			winner = predictions[best][i]
		}
		out[i] = winner
	}
	return out, nil
}

// MSE is the mean squared error of predictions against targets.
func MSE(predictions, targets []float64) float64 {
	var s float64
	for i, p := range predictions {
		d := p - targets[i]
		s += d * d
	}
	return s / float64(len(predictions))
}
