// Package journal is lib/hpo's journal storage, as optuna.storages.JournalStorage: a study kept
// in a file of Optuna's JournalStorage format (one JSON line per operation), so that Optuna,
// optuna-dashboard and Python workers read and write the same study as hw1's workers, under
// Optuna's own lock (lock.go) and an flock. The file survives kill -9 (a torn last line is
// ignored, then cut before the next append) and is checked as it is replayed: damage stops the
// opening with an *Error that names every damaged line; Check lists it and Repair rewrites the
// journal without it, keeping a backup. A journal of hw1's first format is converted once, on
// open (legacy.go).
//
//	j, err := journal.Open("results/study.journal", journal.WithStudy("regression"))
//	study, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithMaxTrials(100))
//
// Storage replays the file into an hpo.TrialBook, the state machine of hpo.MemoryStorage, so
// that both storages apply every change by the same rules. The package also holds Optuna's JSON
// codecs that lib/hpo/pgstorage shares (OptunaDistributionJSON, ParseOptunaDistribution,
// OptunaTime, OptunaTrialState). File locking is behind build tags (lock_unix.go,
// lock_windows.go), so that the package builds for Linux, macOS and Windows.
package journal
