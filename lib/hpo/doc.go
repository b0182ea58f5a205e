// Package hpo is a define-by-run hyperparameter search engine in the manner of Optuna: a Study
// runs an objective that asks its Trial for parameters (SuggestFloat, SuggestInt,
// SuggestCategorical, SuggestChoice), reports intermediate values (Report) and stops early
// when ShouldPrune says so.
//
// It is the centre of a set of packages laid out as Optuna's (optuna.samplers,
// optuna.pruners, optuna.storages):
//   - lib/hpo: Study, Trial, FrozenTrial, Distribution, TrialState, Direction, the Sampler,
//     Pruner and Storage interfaces, the errors, and the defaults of a study configured with
//     nothing: RandomSampler, NopPruner and MemoryStorage (Optuna's InMemoryStorage); what
//     samplers, pruners and storages of other packages need is exported on purpose (Snapshot,
//     StreamSampler, AfterTrialSampler, Study.SharedTrials, TrialBook, storagekit.go);
//     statistics and reports;
//   - lib/hpo/samplers: TPE (NewTPE, Optuna 3.1's; NewOptuna5TPE, Optuna 5.0's) and grid;
//   - lib/hpo/pruners: median, percentile, successive halving;
//   - lib/hpo/journal: a Storage in a file of Optuna's JournalStorage format that Optuna,
//     optuna-dashboard and Python workers share, that survives kill -9 and is checked as it is
//     read (journal.Check, journal.Repair);
//   - lib/hpo/pgstorage: a Storage on PostgreSQL in Optuna 5.0's RDB schema;
//   - lib/hpo/importance: fANOVA and mean decrease in impurity (Study.ParamImportances).
//
// lib/hpo imports none of them but importance, so its defaults differ from Optuna's (TPE and
// the median pruner): give them explicitly,
//
//	study, err := hpo.NewStudy(hpo.WithDirection(hpo.Maximize),
//		hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))), hpo.WithPruner(pruners.NewMedian()))
//	err = study.Optimize(ctx, objective, hpo.NTrials(50), hpo.Timeout(time.Hour),
//		hpo.Callbacks(func(s *hpo.Study, t hpo.FrozenTrial) { log.Println(t.Number, t.State, t.Duration()) }))
//
// TPE and random draw from NumPy's RandomState stream in Optuna's order, so a seeded study
// suggests what the same study suggests under Optuna with the same seed.
//
// Studies that share a storage are its workers: each draws its own random stream, an enqueued
// trial runs once (SkipIfExists for workers that all enqueue it), and WithMaxTrials is a target
// they share. A seeded study resumed from its storage goes on with its random stream, so it
// draws no trial twice and, however often it is interrupted, ends with the trials of the
// uninterrupted study (stream.go, StreamSampler). Optimize stops when its context is cancelled,
// the running trial recorded as FAIL "interrupted" (Trial.Context lets the objective stop
// early). Every storage records when each trial started and finished (FrozenTrial's
// DatetimeStart and DatetimeComplete, Optuna's datetime_start and datetime_complete).
//
// Options are functional everywhere: a study is configured by NewStudy's (WithDirection,
// WithSampler, ...), one Optimize call by its own (NTrials, Timeout, Callbacks, Catch), and
// samplers and pruners by their constructors' (samplers.NewTPE(samplers.WithSeed(1)),
// pruners.NewMedian(pruners.WithNWarmupSteps(2))), after which they are read-only.
//
// It knows nothing of neural networks, training or plotting: the objective does the work, and
// a figure package takes *Study or []FrozenTrial (FrozenTrial.NumericParams, LabelParams and
// IntermediateValues give plain values).
package hpo
