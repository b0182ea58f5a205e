// Package hpo is a define-by-run hyperparameter search engine in the manner of Optuna: a Study
// runs an objective that asks its Trial for parameters (SuggestFloat, SuggestInt,
// SuggestCategorical), reports intermediate values (Report) and stops early when ShouldPrune
// says so. Samplers (TPE with Optuna's defaults, random, grid) choose parameters: TPE and random
// draw from NumPy's RandomState stream in Optuna's order, so a seeded study suggests what the
// same study suggests under Optuna 3.1 with the same seed (NewOptuna5TPESampler: under Optuna
// 5.0, whose TPE estimator differs; ConstantLiar is Optuna's constant_liar). Pruners
// (median, percentile, successive halving, none) stop trials, storages (memory, a journal file
// in Optuna's JournalStorage format that Optuna, optuna-dashboard and Python workers share, that
// survives kill -9 and is checked as it is read: CheckJournal and RepairJournal) keep trials.
//
// Studies that share a storage are its workers: each draws its own random stream, an enqueued
// trial runs once (SkipIfExists for workers that all enqueue it), and WithMaxTrials is a target
// they share. A seeded study resumed from its storage goes on with its random stream, so it
// draws no trial twice and, however often it is interrupted, ends with the trials of the
// uninterrupted study (stream.go). Optimize stops when its context is cancelled, the
// running trial recorded as FAIL "interrupted" (Trial.Context lets the objective stop early).
//
// Options follow two styles: a study is configured with functional options
// (NewStudy(WithDirection(Maximize), WithSampler(...))); samplers and pruners are small structs
// returned by New... with Optuna's defaults, whose exported fields may be changed before use
// (p := NewMedianPruner(); p.NWarmupSteps = 2).
//
// It knows nothing of neural networks, training or plotting: the objective does the work, and
// Export hands trials to whoever draws them. Study.ParamImportances wraps hpo/importance (fANOVA,
// mean decrease in impurity), which works on plain matrices.
package hpo
