package hpo

// Pruner decides whether a running trial should stop early, from its intermediate values and
// those of the other trials.
type Pruner interface {
	Prune(s *Study, t *FrozenTrial) (bool, error)
}

// NopPruner never prunes: the default pruner of a study without WithPruner (Optuna's default
// is its MedianPruner, pruners.NewMedian here; the centre does not import lib/hpo/pruners).
type NopPruner struct{}

// Prune implements Pruner.
func (NopPruner) Prune(*Study, *FrozenTrial) (bool, error) { return false, nil }
