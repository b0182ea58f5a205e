package pgstorage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/jackc/pgx/v5"
)

// Heartbeats and worker leases. Both are timestamps of the server's clock (localtimestamp, as
// Optuna's func.now() in a timestamp column), so workers on machines with skewed clocks agree
// on what is stale, and an Optuna worker and this storage fail each other's stale trials alike.

// lease is the value of a worker index's study system attribute.
type lease struct {
	Owner     string `json:"owner"`
	Heartbeat string `json:"heartbeat"`
}

// leaseSQL builds a lease's value_json on the server ($3 is the owner).
const leaseSQL = `json_build_object('owner', $3::text, 'heartbeat', localtimestamp)::text`

// leaseOwnerPrefix is how a lease of owner begins (json_build_object's spelling), to release or
// renew it only while it is still owner's.
func leaseOwnerPrefix(owner string) string { return `{"owner" : ` + jsonString(owner) + `,` }

func parseLease(valueJSON string) (lease, time.Time, error) {
	var l lease
	if err := json.Unmarshal([]byte(valueJSON), &l); err != nil {
		return l, time.Time{}, err
	}
	at, err := time.Parse("2006-01-02T15:04:05.999999", l.Heartbeat)
	return l, at, err
}

// keep renews the heartbeats of the trials this storage runs and the leases of its worker
// indices, every interval, until Close.
func (s *Storage) keep() {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.leaseEvery)
	defer tick.Stop()
	var failing error
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if s.paused.Load() {
			continue
		}
		err := s.beat()
		switch {
		case err != nil && failing == nil:
			s.logf("heartbeat failed (retrying every %s; trials are failed by other workers after %s without one): %v", s.cfg.leaseEvery, s.cfg.grace, err)
		case err == nil && failing != nil:
			s.logf("heartbeat recorded again after: %v", failing)
		}
		failing = err
	}
}

// beat records one heartbeat for each trial this storage runs and renews its leases.
func (s *Storage) beat() error {
	ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.callTimeout(), max(s.cfg.leaseEvery, time.Second)))
	defer cancel()
	s.mu.Lock()
	ids := make([]int32, 0, len(s.running))
	for id := range s.running {
		ids = append(ids, id)
	}
	workers := make(map[int]string, len(s.workers))
	for k, o := range s.workers {
		workers[k] = o
	}
	s.mu.Unlock()
	if s.cfg.heartbeat > 0 && len(ids) > 0 {
		rows, err := s.pool.Query(ctx, `UPDATE trial_heartbeats h SET heartbeat = localtimestamp FROM trials t
			WHERE t.trial_id = h.trial_id AND h.trial_id = ANY($1) AND t.state = 'RUNNING' RETURNING h.trial_id`, ids)
		if err != nil {
			return fmt.Errorf("trial heartbeats: %w", err)
		}
		alive, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("trial heartbeats: %w", err)
		}
		beat := map[int32]bool{}
		for _, id := range alive {
			beat[id] = true
		}
		s.mu.Lock()
		for _, id := range ids {
			if !beat[id] {
				// Finished meanwhile by this storage, or failed by another worker: its next
				// write says which.
				delete(s.running, id)
			}
		}
		s.mu.Unlock()
	}
	for k, owner := range workers {
		tag, err := s.pool.Exec(ctx, `UPDATE study_system_attributes SET value_json = `+leaseSQL+`
			WHERE study_id = $1 AND key = $2 AND starts_with(value_json, $4)`,
			s.studyID, attrWorkerPrefix+strconv.Itoa(k), owner, leaseOwnerPrefix(owner))
		if err != nil {
			return fmt.Errorf("worker %d lease: %w", k, err)
		}
		if tag.RowsAffected() == 0 {
			s.logf("worker index %d was taken by another worker (this one was cut off for longer than the %s lease): both now draw the same random stream", k, s.cfg.lease)
			s.mu.Lock()
			delete(s.workers, k)
			s.mu.Unlock()
		}
	}
	return nil
}

// FailStaleTrials fails the study's RUNNING trials whose heartbeat is older than the grace
// period (re-queueing them with WithRetryFailed), as Optuna's fail_stale_trials, and returns
// their numbers. CreateTrial does it before every trial; a supervisor may call it too. It does
// nothing when heartbeats are off.
func (s *Storage) FailStaleTrials() ([]int, error) {
	if s.cfg.heartbeat <= 0 {
		return nil, nil
	}
	var failed []int
	err := s.call("fail stale trials", func(ctx context.Context, _ int) error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockStudy(ctx, tx); err != nil {
				return err
			}
			var err error
			failed, err = s.failStale(ctx, tx)
			return err
		})
	})
	return failed, err
}

// failStale fails the stale trials (the caller holds the study lock, so that re-queued trials
// get their numbers in order). Trial rows locked by a worker writing to them are skipped: that
// worker is alive.
func (s *Storage) failStale(ctx context.Context, tx pgx.Tx) ([]int, error) {
	rows, err := tx.Query(ctx, `SELECT t.trial_id, t.number, EXTRACT(EPOCH FROM localtimestamp - h.heartbeat)::float8,
			(SELECT a.value_json FROM trial_system_attributes a WHERE a.trial_id = t.trial_id AND a.key = $3)
		FROM trials t JOIN trial_heartbeats h ON h.trial_id = t.trial_id
		WHERE t.study_id = $1 AND t.state = 'RUNNING' AND h.heartbeat < localtimestamp - make_interval(secs => $2)
		ORDER BY t.trial_id
		FOR UPDATE OF t SKIP LOCKED`, s.studyID, s.cfg.grace.Seconds(), attrToken)
	if err != nil {
		return nil, fmt.Errorf("look for stale trials: %w", err)
	}
	type stale struct {
		id     int32
		number int32
		age    float64
		token  *string
	}
	var found []stale
	for rows.Next() {
		var st stale
		if err := rows.Scan(&st.id, &st.number, &st.age, &st.token); err != nil {
			rows.Close()
			return nil, fmt.Errorf("look for stale trials: %w", err)
		}
		found = append(found, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look for stale trials: %w", err)
	}
	var failed []int
	for _, st := range found {
		worker := "(not an hpo worker)"
		if st.token != nil {
			var tok string
			if json.Unmarshal([]byte(*st.token), &tok) == nil {
				// host:pid:storage:seq -> host:pid
				if i := strings.LastIndex(tok, ":"); i > 0 {
					if j := strings.LastIndex(tok[:i], ":"); j > 0 {
						worker = tok[:j]
					}
				}
			}
		}
		reason := hpo.ReasonWorkerDied(fmt.Sprintf("%s (no heartbeat for %.1fs, grace period %s)", worker, st.age, s.cfg.grace))
		b := &pgx.Batch{}
		b.Queue(`UPDATE trials SET state = 'FAIL', datetime_complete = `+sqlNow+` WHERE trial_id = $1`, st.id)
		b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3)
			ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json`, st.id, attrFailReason, jsonString(reason))
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("fail stale trial %d: %w", st.number, err)
		}
		failed = append(failed, int(st.number))
		note := ""
		if s.cfg.retryFailed != 0 {
			n, why, err := s.requeue(ctx, tx, st.id, int(st.number))
			if err != nil {
				return nil, fmt.Errorf("re-queue stale trial %d: %w", st.number, err)
			}
			if n >= 0 {
				note = fmt.Sprintf("; re-queued as trial %d", n)
			} else {
				note = "; not re-queued: " + why
			}
		}
		s.logf("trial %d failed: %s%s", st.number, reason, note)
	}
	return failed, nil
}

// requeue adds a WAITING copy of a failed trial, as Optuna's RetryFailedTrialCallback: the same
// parameters and distributions, user attributes and system attributes, plus failed_trial (the
// original's number) and retry_history (the numbers tried so far). It returns the new trial's
// number, or -1 and why when the retries are used up.
func (s *Storage) requeue(ctx context.Context, tx pgx.Tx, id int32, number int) (int, string, error) {
	var failedTrial, history *string
	err := tx.QueryRow(ctx, `SELECT
			(SELECT value_json FROM trial_system_attributes WHERE trial_id = $1 AND key = $2),
			(SELECT value_json FROM trial_system_attributes WHERE trial_id = $1 AND key = $3)`,
		id, attrFailedTrial, attrRetryHistory).Scan(&failedTrial, &history)
	if err != nil {
		return -1, "", err
	}
	var hist []int
	if history != nil {
		if hist, err = retryHistory(*history); err != nil {
			return -1, "", permanent(err)
		}
	}
	hist = append(hist, number)
	if s.cfg.retryFailed > 0 && len(hist) > s.cfg.retryFailed {
		return -1, fmt.Sprintf("retried %d times already (WithRetryFailed(%d))", len(hist)-1, s.cfg.retryFailed), nil
	}
	original := strconv.Itoa(number)
	if failedTrial != nil {
		original = *failedTrial
	}
	newID, newNumber, err := s.insertTrial(ctx, tx, "WAITING", false)
	if err != nil {
		return -1, "", err
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json)
		SELECT $2, param_name, param_value, distribution_json FROM trial_params WHERE trial_id = $1 ORDER BY param_id`, id, newID)
	b.Queue(`INSERT INTO trial_user_attributes (trial_id, key, value_json)
		SELECT $2, key, value_json FROM trial_user_attributes WHERE trial_id = $1`, id, newID)
	// The attributes that describe how the failed trial ran (its worker, its sampler's
	// position, its token, its failure) are not the new trial's.
	b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json)
		SELECT $2, key, value_json FROM trial_system_attributes
		WHERE trial_id = $1 AND key <> ALL($3) AND NOT starts_with(key, 'hpo:')`,
		id, newID, []string{attrFailReason, attrFailedTrial, attrRetryHistory})
	b.Queue(`INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3), ($1, $4, $5)`,
		newID, attrFailedTrial, original, attrRetryHistory, intListJSON(hist))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return -1, "", err
	}
	s.remember(newNumber, newID)
	return newNumber, "", nil
}
