// Package pruners holds lib/hpo's pruners beyond the centre's NopPruner, as optuna.pruners does
// Optuna's: PercentilePruner (NewPercentile; NewMedian is Optuna's MedianPruner, which follows
// Optuna's decisions step for step on the curves of testdata/median_parity.json) and
// SuccessiveHalvingPruner (NewSuccessiveHalving). Each is configured by its constructor's
// functional options, named after Optuna's arguments (WithNStartupTrials for
// n_startup_trials, ...), and is read-only afterwards.
//
//	study, err := hpo.NewStudy(hpo.WithPruner(pruners.NewMedian(pruners.WithNWarmupSteps(2))))
//
// A pruner reads the study through hpo.Study.SharedTrials and keeps what it needs on the trial
// (successive halving's rungs, hpo.Study.SetTrialSystemAttr); a pruner of another package can
// do the same, as it needs nothing unexported of lib/hpo.
package pruners
