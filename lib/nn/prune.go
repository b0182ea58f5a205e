package nn

import "fmt"

// Reporter is what a pruning callback needs from a trial of a
// hyperparameter search: *hpo.Trial (lib/hpo) has both methods. lib/nn does
// not import lib/hpo; any search with these two methods can prune Fit.
type Reporter interface {
	// Report records the objective's value at a step (the epoch).
	Report(step int, value float64) error
	// ShouldPrune says whether the search wants the trial stopped now.
	ShouldPrune() bool
}

// errPruned, wrapped in the error of PruneWith's callback (itself wrapping
// ErrStop), says that the trial's search pruned the training: Fit then
// returns without error and its History has Pruned set. It is unexported so
// that it is not mistaken for hpo.ErrPruned, which is what the objective
// returns; History.Pruned is the signal callers read.
var errPruned = fmt.Errorf("%w: pruned by the search", ErrStop)

// PruneWith returns a callback that, after each epoch, reports metric(stats)
// at step stats.Epoch to r, then asks r.ShouldPrune; when it says yes, the
// callback returns an error wrapping ErrStop: Fit stops
// without an error and sets History.Pruned. An error from Report makes Fit
// fail.
//
// The objective turns that into lib/hpo's pruned state by returning
// hpo.ErrPruned:
//
//	metric := func(s nn.EpochStats) float64 { return s.ValLoss }
//	h, err := nn.Fit(m, train, val, hp, nn.Options{Callbacks: []nn.Callback{nn.PruneWith(trial, metric)}})
//	if err != nil {
//		return math.NaN(), err
//	}
//	if h.Pruned {
//		return metric(h.Last()), hpo.ErrPruned
//	}
//	return metric(h.Last()), nil
func PruneWith(r Reporter, metric func(EpochStats) float64) Callback {
	return func(_ *Model, stats EpochStats) error {
		if err := r.Report(stats.Epoch, metric(stats)); err != nil {
			return fmt.Errorf("report epoch %d: %w", stats.Epoch, err)
		}
		if r.ShouldPrune() {
			return fmt.Errorf("%w at epoch %d", errPruned, stats.Epoch)
		}
		return nil
	}
}
