package hpo

import "errors"

// What a Storage implemented outside this package (lib/hpo/pgstorage) needs to behave as
// MemoryStorage and lib/hpo/journal's Storage do, without copying their rules (see also
// TrialBook and SharedStorage in storage.go).

// ErrTrialNotRunning is returned (wrapped, with the trial's number and state) by every storage
// when a write reaches a trial that is no longer RUNNING: typically a worker that was cut off
// from a shared storage long enough for another worker to fail its trial (no heartbeat within
// the grace period), whose late writes must not change the record. Study.Optimize then
// goes on with a new trial.
var ErrTrialNotRunning = errors.New("the trial is not running")

// ReasonWorkerDied is the FailReason of a trial whose worker died (or was cut off) while it
// ran, in the words lib/hpo/journal uses, so that the study treats it as cut short and draws it
// again (stream.go). worker names the worker (host:pid, and why it counts as dead).
func ReasonWorkerDied(worker string) string {
	return reasonWorkerDiedPrefix + worker + reasonWorkerDiedSuffix
}

// The FailReason of a trial whose worker died is "worker <host:pid> died while ...".
const (
	reasonWorkerDiedPrefix = "worker "
	reasonWorkerDiedSuffix = " died while the trial was running"
)

// EnqueuedMatch reports whether trial t stands for the parameters fixed, as EnqueueTrial's
// skipIfExists test: t is WAITING, RUNNING, COMPLETE or PRUNED, and was enqueued with fixed or
// (once started) has those parameters.
func EnqueuedMatch(t *FrozenTrial, fixed map[string]any) bool {
	if t.State == Failed {
		return false
	}
	return (t.FixedParams != nil && sameParams(t.FixedParams, fixed)) || (t.State != Waiting && sameParams(t.ExternalParams(), fixed))
}
