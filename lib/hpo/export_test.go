package hpo

// Helpers of the internal tests for the external ones (package hpo_test), which may import
// lib/hpo/samplers and lib/hpo/pruners where the internal tests may not (an import cycle).
var (
	LegacyObjective      = legacyObjective
	LegacyEnqueuedA      = legacyEnqueuedA
	LegacyEnqueuedB      = legacyEnqueuedB
	FinishedParams       = finishedParams
	QuietJournalWarnings = quietJournalWarnings
)
