//go:build linux

package pgstorage

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// A worker process killed with SIGKILL mid-trial: its trial is failed by heartbeat once the
// grace period (1 s) has passed and not before, and re-run with the same parameter as Optuna's
// RetryFailedTrialCallback does.
func TestKilledWorkerTrialIsFailedAndRetried(t *testing.T) {
	url := pgtest.Database(t)
	const grace = time.Second
	s := openTest(t, url, "k", WithHeartbeat(200*time.Millisecond, grace), WithRetryFailed(1))
	cmd, out := startWorker(t, "hang", url, "k", 0)
	n := runningLine(t, out)
	before, err := s.Trial(n)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let it record a heartbeat or two
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed := time.Now()
	var failedAt time.Duration
	for {
		failed, err := s.FailStaleTrials()
		if err != nil {
			t.Fatal(err)
		}
		since := time.Since(killed)
		if len(failed) > 0 {
			if len(failed) != 1 || failed[0] != n {
				t.Fatalf("failed trials %v, want [%d]", failed, n)
			}
			failedAt = since
			break
		}
		if since > grace+2*time.Second {
			t.Fatalf("trial %d not failed %s after the kill (grace %s)", n, since, grace)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The last heartbeat was at most one interval before the kill: the trial is stale between
	// grace - interval and grace after it (plus the polling step and some scheduling).
	if failedAt < grace-250*time.Millisecond || failedAt > grace+700*time.Millisecond {
		t.Errorf("trial failed %s after the kill, want about the grace period %s", failedAt, grace)
	}
	t.Logf("trial %d failed by heartbeat %s after SIGKILL (grace %s)", n, failedAt.Round(time.Millisecond), grace)

	ts := mustTrials(t, s)
	dead := ts[n]
	if dead.State != hpo.Failed || !strings.HasPrefix(dead.FailReason, "worker ") || !strings.HasSuffix(dead.FailReason, " died while the trial was running") {
		t.Fatalf("killed trial: %s %q", dead.State, dead.FailReason)
	}
	if len(ts) != n+2 || ts[n+1].State != hpo.Waiting {
		t.Fatalf("want a WAITING retry after trial %d, got %d trials", n, len(ts))
	}
	retry := ts[n+1]
	if retry.SystemAttrs["failed_trial"] != float64(n) || retry.Params["x"] != before.Params["x"] {
		t.Fatalf("retry: failed_trial %v, x %v; want %d and %v", retry.SystemAttrs["failed_trial"], retry.Params["x"], n, before.Params["x"])
	}
	// A study on the storage runs the retry with the killed trial's parameter.
	var got float64
	study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithSampler(hpo.NewRandomSampler(9)))
	if err != nil {
		t.Fatal(err)
	}
	err = study.Optimize(context.Background(), func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", -1, 1)
		got = x
		return x, err
	}, hpo.NTrials(1))
	if err != nil {
		t.Fatal(err)
	}
	if got != before.Params["x"] {
		t.Fatalf("the retry drew x = %v, want the killed trial's %v", got, before.Params["x"])
	}
	final, _ := s.Trial(n + 1)
	if final.State != hpo.Complete {
		t.Fatalf("retry ended %s", final.State)
	}
	var history string
	if err := s.pool.QueryRow(t.Context(), `SELECT a.value_json FROM trial_system_attributes a JOIN trials t USING (trial_id)
		WHERE t.study_id = $1 AND t.number = $2 AND a.key = 'retry_history'`, s.studyID, n+1).Scan(&history); err != nil || history != "["+strconv.Itoa(n)+"]" {
		t.Fatalf("retry_history %q (%v), want [%d]", history, err, n)
	}
}

// A worker cut off from the server (its heartbeats stop) past the grace period: another worker
// fails its trial, and its late writes get hpo.ErrTrialNotRunning naming the trial and why; it
// then goes on with a new trial.
func TestLateWriteAfterFailureIsRefused(t *testing.T) {
	url := pgtest.Database(t)
	opts := []Option{WithHeartbeat(100*time.Millisecond, 400*time.Millisecond)}
	cut, other := openTest(t, url, "l", opts...), openTest(t, url, "l", opts...)
	tr, err := cut.CreateTrial(0)
	if err != nil {
		t.Fatal(err)
	}
	d := hpo.FloatDistribution(0, 1, false, 0)
	if err := cut.SetParam(tr.Number, "x", d, 0.5); err != nil {
		t.Fatal(err)
	}
	cut.paused.Store(true)
	waitFor(t, 5*time.Second, func() bool {
		failed, err := other.FailStaleTrials()
		return err == nil && len(failed) == 1
	})
	cut.paused.Store(false)
	for name, err := range map[string]error{
		"Report":        cut.Report(tr.Number, 0, 0.1),
		"SetParam":      cut.SetParam(tr.Number, "y", d, 0.1),
		"SetSystemAttr": cut.SetSystemAttr(tr.Number, "hpo:worker", 0),
		"FinishTrial":   cut.FinishTrial(tr.Number, hpo.Complete, 0.1, ""),
	} {
		if !errors.Is(err, hpo.ErrTrialNotRunning) {
			t.Fatalf("late %s: %v, want hpo.ErrTrialNotRunning", name, err)
		}
		if !strings.Contains(err.Error(), "trial 0 is FAIL") || !strings.Contains(err.Error(), "no heartbeat") {
			t.Errorf("late %s: %q does not say the trial was failed for lack of heartbeat", name, err)
		}
	}
	t.Logf("late write: %v", cut.Report(tr.Number, 1, 0.1))
	got, _ := other.Trial(tr.Number)
	if got.State != hpo.Failed || len(got.Intermediate) != 0 || !math.IsNaN(got.Value) {
		t.Fatalf("the late writes changed the failed trial: %+v", got)
	}
	next, err := cut.CreateTrial(0)
	if err != nil || next.Number != 1 {
		t.Fatalf("the cut-off worker's next trial: %d %v, want trial 1", next.Number, err)
	}
	if err := cut.FinishTrial(next.Number, hpo.Complete, 1, ""); err != nil {
		t.Fatal(err)
	}
}

// A study whose trial another worker failed under it (its heartbeat went stale while it was
// cut off) gets hpo.ErrTrialNotRunning on its late writes, leaves the record as the other
// worker wrote it, and goes on with new trials.
func TestStudyGoesOnAfterALateWrite(t *testing.T) {
	url := pgtest.Database(t)
	opts := []Option{WithHeartbeat(100*time.Millisecond, 400*time.Millisecond)}
	cut, other := openTest(t, url, "l", opts...), openTest(t, url, "l", opts...)
	study, err := hpo.NewStudy(hpo.WithStorage(cut), hpo.WithSampler(hpo.NewRandomSampler(1)))
	if err != nil {
		t.Fatal(err)
	}
	err = study.Optimize(context.Background(), func(tr *hpo.Trial) (float64, error) {
		if _, err := tr.SuggestFloat("x", 0, 1); err != nil {
			return 0, err
		}
		if tr.Number() == 0 {
			cut.paused.Store(true)
			waitFor(t, 5*time.Second, func() bool {
				failed, err := other.FailStaleTrials()
				return err == nil && len(failed) == 1
			})
			cut.paused.Store(false)
			if err := tr.Report(0, 1); !errors.Is(err, hpo.ErrTrialNotRunning) {
				t.Errorf("report after the failure: %v", err)
			}
			if !tr.ShouldPrune() {
				t.Error("ShouldPrune is false after a failed write")
			}
			return 0, hpo.ErrPruned
		}
		return 1, nil
	}, hpo.NTrials(3))
	if err != nil {
		t.Fatalf("Optimize stopped after its trial was failed by another worker: %v", err)
	}
	ts, err := cut.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[0].State != hpo.Failed || ts[1].State != hpo.Complete || ts[2].State != hpo.Complete {
		t.Fatalf("want trial 0 failed by the other worker and trials 1-2 complete, got %d trials: %+v", len(ts), ts)
	}
}

// Close fails the trials the storage still runs as cut short (so the study draws them again),
// with heartbeats or without.
func TestCloseFailsRunningTrials(t *testing.T) {
	url := pgtest.Database(t)
	for _, hb := range []time.Duration{200 * time.Millisecond, 0} {
		a := openTest(t, url, "c", WithHeartbeat(hb, 0))
		tr, _ := a.CreateTrial(0)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		b := openTest(t, url, "c")
		got, _ := b.Trial(tr.Number)
		if got.State != hpo.Failed || !strings.Contains(got.FailReason, "its storage was closed") {
			t.Fatalf("heartbeat %s: trial left by Close: %s %q", hb, got.State, got.FailReason)
		}
		if err := a.Report(tr.Number, 0, 1); err == nil {
			t.Fatal("a closed storage accepted a write")
		}
	}
}
