package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// permanentError is a failure that a retry cannot change (a trial that is not running, a target
// that is reached, a record that does not decode): call returns it at once.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// transient reports whether a failure may pass on retry: serialization failures and deadlocks
// (the transaction was rolled back), a server shutting down or out of connections, and lost
// or timed-out connections (the network, not the statement). Every method is written so that
// running it again after an attempt whose outcome is unknown writes nothing twice.
func transient(err error) bool {
	var p permanentError
	if errors.As(err, &p) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "40001", "40P01", // serialization_failure, deadlock_detected
			"57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			"53300",          // too_many_connections
			"57014", "55P03", // statement timeout, lock timeout: a lock held by a worker that vanished
			"42P07", "42710": // duplicate table or type: Optuna created the schema meanwhile
			return true
		}
		return strings.HasPrefix(pg.Code, "08") // connection_exception
	}
	// pgx's own failures that are not about the connection.
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, pgx.ErrTooManyRows) {
		return false
	}
	var scan pgx.ScanArgError
	if errors.As(err, &scan) {
		return false
	}
	// What is left comes from the connection: dial errors, EOF, resets, an attempt's deadline.
	return true
}

// testHookLostReply, set by tests, turns a successful attempt into a failure, as if its reply
// had been lost on the way back: the retry must find what the attempt wrote, not write again.
var testHookLostReply func(op string, attempt int) error

// call runs fn until it succeeds, fails for good, or has failed transiently cfg.attempts
// times, sleeping with jittered exponential backoff between attempts. Each attempt has its own
// deadline (connect + statement timeout), so a call stuck on a dead link is abandoned (pgx then
// closes the connection) and tried again on a new one. attempt counts from 1; a method whose
// write may have been committed by an earlier attempt checks for it when attempt > 1.
func (s *Storage) call(op string, fn func(ctx context.Context, attempt int) error) error {
	backoff := s.cfg.backoff
	var errs []error
	for attempt := 1; ; attempt++ {
		if s.ctx.Err() != nil {
			return fmt.Errorf("pgstorage %s: %s: the storage is closed", s.name, op)
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.callTimeout())
		err := fn(ctx, attempt)
		cancel()
		if err == nil && testHookLostReply != nil {
			err = testHookLostReply(op, attempt)
		}
		if err == nil {
			if attempt > 1 {
				s.logf("%s succeeded on attempt %d (the last failure: %v)", op, attempt, errs[len(errs)-1])
			}
			return nil
		}
		retry := transient(err) && s.ctx.Err() == nil
		var p permanentError
		if errors.As(err, &p) {
			err = p.err
		}
		if !retry {
			return fmt.Errorf("pgstorage %s: %s: %w", s.name, op, err)
		}
		errs = append(errs, err)
		if attempt >= s.cfg.attempts {
			return fmt.Errorf("pgstorage %s: %s: gave up after %d attempts: %w", s.name, op, attempt, errors.Join(errs...))
		}
		sleep := backoff/2 + time.Duration(rand.Int64N(int64(backoff)+1))/2
		select {
		case <-time.After(sleep):
		case <-s.ctx.Done():
		}
		backoff = min(2*backoff, s.cfg.maxBackoff)
	}
}

// inTx runs fn in a transaction and commits it; fn's error rolls it back.
func (s *Storage) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		// A rollback on a dead link must not hang the call: pgx closes the connection when
		// it cannot roll back, and the server rolls back what it had.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		tx.Rollback(rctx)
		cancel()
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
