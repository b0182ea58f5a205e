// Package samplers holds lib/hpo's samplers beyond the centre's RandomSampler, as
// optuna.samplers does Optuna's: TPESampler (NewTPE: Optuna 3.1's TPE; NewOptuna5TPE: Optuna
// 5.0's estimator, multivariate and constant liar) and GridSampler (NewGrid). Both draw from
// NumPy's RandomState stream in Optuna's order, so a seeded study suggests what Optuna's
// sampler suggests with the same seed (parity_test.go and liar_test.go, against the goldens of
// lib/hpo/testdata), and both are hpo.StreamSamplers, so that a study resumed from its storage
// goes on with their streams. The grid is an hpo.AfterTrialSampler: it stops the study once
// every combination was tried.
//
//	study, err := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1), samplers.WithMultivariate(true))))
//
// One package rather than one per sampler (as Optuna, unlike goptuna's tpe/ and cmaes/): the TPE
// and the grid share the seed option and their stream plumbing, and a caller imports one
// package for any of them. Samplers are configured by their constructor's functional options
// (WithSeed for both; the TPE's named after Optuna's arguments) and are read-only afterwards.
// What they need of lib/hpo is exported there on purpose: hpo.Snapshot (the trials a sampler
// sees, with Memo for per-trial caches), hpo.Distribution's methods, hpo.StreamSampler,
// hpo.AfterTrialSampler and hpo.RandomSampler (TPE's start-up trials); the NumPy stream is
// lib/hpo/internal/nprand, which no package outside lib/hpo can import.
package samplers
