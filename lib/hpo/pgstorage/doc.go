// Package pgstorage keeps an hpo study in PostgreSQL, in Optuna's own RDB schema and formats
// (Optuna 5.0.0: alembic revision v3.2.0.a), so that one study can be shared by workers on
// several machines, and by Optuna itself: a study written here is read by
// optuna.load_study(storage=URL) and optuna-dashboard, and a study begun by Optuna is continued
// here.
//
//	s, err := pgstorage.Open(ctx, "postgresql://user:pass@host:5432/db?sslmode=require", "regression",
//		pgstorage.WithHeartbeat(10*time.Second, 60*time.Second), pgstorage.WithRetryFailed(1))
//	study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithMaxTrials(500))
//
// What it guarantees, whatever the number of workers:
//   - trial numbers as Optuna assigns them: the study row is locked (SELECT ... FOR UPDATE) and a
//     new trial's number is the count of the study's earlier trials, so numbers are unique and
//     have no gaps; a WAITING trial is started by exactly one worker (FOR UPDATE SKIP LOCKED);
//     the target of hpo.WithMaxTrials is counted in the same transaction;
//   - heartbeats as Optuna's (trial_heartbeats): a trial this storage runs records one every
//     interval; before a new trial, trials whose heartbeat is older than the grace period are
//     failed (and, with WithRetryFailed, re-queued as WAITING with the same parameters and
//     Optuna's failed_trial and retry_history attributes). A write to a trial that is no longer
//     RUNNING fails with hpo.ErrTrialNotRunning, naming the trial and why it was failed;
//   - lost connections: every call is retried on serialization failures, deadlocks and lost
//     connections, a bounded number of times with backoff, and every write is idempotent (a
//     trial created by a commit whose reply was lost is found again by a token), so a retry
//     never writes twice.
//
// Worker indices (hpo.Storage.RegisterWorker) are leases kept as study system attributes
// ("hpo:worker:<k>"), so Optuna's schema is not extended. Failure reasons go to the trial system
// attribute "fail_reason", as Optuna 2 and 3.0 kept them.
//
// It is not a general Optuna storage: one study per Storage, single objective, and it neither
// migrates nor deletes anything. Importing lib/hpo alone never needs it or a database.
package pgstorage
