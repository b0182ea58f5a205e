package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// referenceParams is what an uninterrupted single-worker study of n trials draws, trial by trial.
func referenceParams(t *testing.T, seed uint64, obj hpo.Objective, n int) []string {
	t.Helper()
	s, err := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(seed))))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), obj, hpo.NTrials(n)); err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials()
	return finishedParams(trials)
}

// finishedParams lists the parameters of the COMPLETE and PRUNED trials in number order.
func finishedParams(trials []hpo.FrozenTrial) []string {
	var out []string
	for _, tr := range trials {
		if tr.State == hpo.Complete || tr.State == hpo.Pruned {
			out = append(out, fmt.Sprint(tr.ExternalParams()))
		}
	}
	return out
}

func assertNoRepeats(t *testing.T, params []string) {
	t.Helper()
	seen := map[string]int{}
	for i, p := range params {
		if j, ok := seen[p]; ok {
			t.Fatalf("finished trials %d and %d (in order) drew the same parameters %s", j, i, p)
		}
		seen[p] = i
	}
}

func openStudyOn(t *testing.T, path string, opts ...hpo.Option) (*hpo.Study, *Storage) {
	t.Helper()
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := hpo.NewStudy(append([]hpo.Option{hpo.WithStorage(j)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s, j
}

// TestResumedStudyGoesOnWithItsStream: a study resumed twice from its journal draws what the
// uninterrupted study draws, so no trial is drawn twice.
func TestResumedStudyGoesOnWithItsStream(t *testing.T) {
	want := referenceParams(t, 11, hpotest.MixedObjective, 12)
	path := filepath.Join(t.TempDir(), "study.journal")
	for _, n := range []int{5, 4, 3} {
		s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(11))))
		if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(n)); err != nil {
			t.Fatal(err)
		}
		j.Close()
	}
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(11))))
	defer j.Close()
	trials, _ := s.Trials()
	got := finishedParams(trials)
	assertNoRepeats(t, got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resumed study drew\n%v\nthe uninterrupted one\n%v", got, want)
	}
}

// cancelAt is an objective that runs hpotest.MixedObjective but cancels the study's context in the
// middle of the trials whose number is in at, then stops as a training loop would.
func cancelAt(cancel context.CancelFunc, at ...int) hpo.Objective {
	return func(t *hpo.Trial) (float64, error) {
		for _, n := range at {
			if t.Number() == n {
				if _, err := t.SuggestCategorical("kind", []string{"a", "b"}); err != nil {
					return 0, err
				}
				cancel()
				if err := t.Context().Err(); err != nil {
					return 0, err
				}
			}
		}
		return hpotest.MixedObjective(t)
	}
}

// TestInterruptedStudyGivesTheSameTrials: a seeded study interrupted (its context cancelled
// mid-trial) in several places and resumed, in the same process or after reopening the
// journal, ends with the same finished trials as the uninterrupted study; each interrupted
// trial is FAIL "interrupted", none is left RUNNING, and the trial after it draws the same
// parameters.
func TestInterruptedStudyGivesTheSameTrials(t *testing.T) {
	want := referenceParams(t, 13, hpotest.MixedObjective, 14)
	path := filepath.Join(t.TempDir(), "study.journal")
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(13))), hpo.WithMaxTrials(14))
	ctx, cancel := context.WithCancel(context.Background())
	uninterrupted := map[int]int{}
	record := func(obj hpo.Objective) hpo.Objective {
		return func(tr *hpo.Trial) (float64, error) {
			uninterrupted[tr.Number()] = tr.UninterruptedNumber()
			return obj(tr)
		}
	}
	err := s.Optimize(ctx, record(cancelAt(cancel, 3)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Optimize after cancel: %v, want context.Canceled", err)
	}
	// Same process, same study: a fresh context goes on.
	ctx, cancel = context.WithCancel(context.Background())
	if err := s.Optimize(ctx, record(cancelAt(cancel, 8))); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Optimize: %v", err)
	}
	j.Close()
	// Another process: reopen the journal.
	s, j = openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(13))), hpo.WithMaxTrials(14))
	defer j.Close()
	if err := s.Optimize(context.Background(), record(hpotest.MixedObjective)); err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials()
	done := 0
	for _, tr := range trials {
		if tr.State.Finished() && tr.State != hpo.Failed {
			if uninterrupted[tr.Number] != done {
				t.Fatalf("trial %d: UninterruptedNumber %d, want %d (its number in the uninterrupted study)", tr.Number, uninterrupted[tr.Number], done)
			}
			done++
		}
	}
	interrupted := 0
	for i, tr := range trials {
		switch tr.State {
		case hpo.Running, hpo.Waiting:
			t.Fatalf("trial %d left %s", i, tr.State)
		case hpo.Failed:
			if tr.FailReason != hpo.ReasonInterrupted {
				t.Fatalf("trial %d failed with %q, want %q", i, tr.FailReason, hpo.ReasonInterrupted)
			}
			interrupted++
			next := trials[i+1]
			if a, b := tr.Params["kind"], next.Params["kind"]; a != b {
				t.Fatalf("trial %d (after the interrupted trial %d) drew kind %v, the interrupted one %v", i+1, i, b, a)
			}
		}
	}
	if interrupted != 2 {
		t.Fatalf("%d interrupted trials, want 2", interrupted)
	}
	got := finishedParams(trials)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("interrupted study drew\n%v\nthe uninterrupted one\n%v", got, want)
	}
}

// TestKilledTrialIsDrawnAgain: a trial whose process died (here: its storage closed without
// finishing it, as kill -9 would leave it) is failed when the study is reopened, and the next
// trial draws its parameters again; the finished trials are those of the uninterrupted study.
func TestKilledTrialIsDrawnAgain(t *testing.T) {
	quietJournalWarnings(t)
	want := referenceParams(t, 17, hpotest.MixedObjective, 8)
	path := filepath.Join(t.TempDir(), "study.journal")
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(17))))
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(4)); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Ask()
	if err != nil {
		t.Fatal(err)
	}
	killed, _ := tr.SuggestCategorical("kind", []string{"a", "b"})
	x, _ := tr.SuggestFloat("x", -3, 3)
	j.Close() // "killed": no Tell

	s, j = openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(17))))
	defer j.Close()
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(4)); err != nil {
		t.Fatal(err)
	}
	trials, _ := s.Trials()
	if trials[4].State != hpo.Failed || !strings.Contains(trials[4].FailReason, "died") {
		t.Fatalf("the killed trial is %s %q, want FAIL (worker died)", trials[4].State, trials[4].FailReason)
	}
	if got, _ := trials[5].Param("kind"); got != killed || trials[5].Params["x"] != x {
		t.Fatalf("trial 5 drew kind=%v x=%v, the killed trial 4 kind=%v x=%v", got, trials[5].Params["x"], killed, x)
	}
	got := finishedParams(trials)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("study with a killed trial drew\n%v\nthe uninterrupted one\n%v", got, want)
	}
}

// TestWorkersShareTheStudy: two studies on one journal file (two storages, as two processes
// would have), with the same seed, running at once: they draw distinct parameters, run the
// trial that both enqueued once, and stop together at the shared target.
func TestWorkersShareTheStudy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.journal")
	const target = 12
	seedTrial := map[string]any{"kind": "a", "x": 0.5, "lr": 0.01, "units": 32}
	var started sync.WaitGroup
	started.Add(2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for w := 0; w < 2; w++ {
		s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(5))), hpo.WithMaxTrials(target), hpo.WithPruner(hpo.NopPruner{}))
		defer j.Close()
		if err := s.EnqueueTrial(seedTrial, hpo.SkipIfExists()); err != nil {
			t.Fatal(err)
		}
		first := true
		obj := func(tr *hpo.Trial) (float64, error) {
			if first {
				// Both workers are in a trial before either goes on, so both draw.
				first = false
				started.Done()
				started.Wait()
			}
			time.Sleep(time.Millisecond)
			return hpotest.MixedObjective(tr)
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = s.Optimize(context.Background(), obj, hpo.NTrials(target))
		}(w)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, j := openStudyOn(t, path)
	defer j.Close()
	trials, _ := s.Trials()
	params := finishedParams(trials)
	if len(trials) != target || len(params) != target {
		t.Fatalf("%d trials, %d complete or pruned; want %d of each for a target of %d", len(trials), len(params), target, target)
	}
	assertNoRepeats(t, params)
	enqueued, workers := 0, map[float64]int{}
	for _, tr := range trials {
		if hpo.EnqueuedMatch(&tr, seedTrial) && tr.State != hpo.Waiting {
			enqueued++
		}
		workers[tr.SystemAttrs[attrWorker]]++
	}
	if enqueued != 1 {
		t.Fatalf("the enqueued trial ran %d times, want once", enqueued)
	}
	if len(workers) != 2 {
		t.Fatalf("trials by worker %v, want two workers", workers)
	}
}

// TestFailedTrialsDoNotTakeTheTarget: with a target, a failed trial (an error, or a worker that
// died) leaves its place to another trial.
func TestFailedTrialsDoNotTakeTheTarget(t *testing.T) {
	s, err := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(2))), hpo.WithMaxTrials(6), hpo.WithPruner(hpo.NopPruner{}))
	if err != nil {
		t.Fatal(err)
	}
	obj := func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", 0, 1)
		if tr.Number()%3 == 1 {
			return 0, errors.New("diverged")
		}
		return x, err
	}
	if err := s.Optimize(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats()
	if st.Complete != 6 || st.Failed != 3 {
		t.Fatalf("stats %+v, want 6 complete and the 3 failures beside them", st)
	}
	if _, err := s.Ask(); !errors.Is(err, hpo.ErrMaxTrials) {
		t.Fatalf("Ask past the target: %v, want ErrMaxTrials", err)
	}
}

// TestEnqueueSkipIfExists: a trial enqueued twice with SkipIfExists is added once; once it
// failed, it may be enqueued again; once it completed, not.
func TestEnqueueSkipIfExists(t *testing.T) {
	for _, name := range []string{"memory", "journal"} {
		var st hpo.Storage = hpo.NewMemoryStorage()
		if name == "journal" {
			j, err := Open(filepath.Join(t.TempDir(), "study.journal"))
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			st = j
		}
		s, _ := hpo.NewStudy(hpo.WithStorage(st), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
		p := map[string]any{"x": 0.25, "n": 3}
		for i := 0; i < 2; i++ {
			if err := s.EnqueueTrial(p, hpo.SkipIfExists()); err != nil {
				t.Fatal(err)
			}
		}
		fail := true
		obj := func(tr *hpo.Trial) (float64, error) {
			x, _ := tr.SuggestFloat("x", 0, 1)
			tr.SuggestInt("n", 1, 5)
			if fail {
				return 0, errors.New("boom")
			}
			return x, nil
		}
		s.Optimize(context.Background(), obj, hpo.NTrials(1))
		trials, _ := s.Trials()
		if len(trials) != 1 {
			t.Fatalf("%s: %d trials after enqueueing the same trial twice, want 1", name, len(trials))
		}
		s.EnqueueTrial(p, hpo.SkipIfExists())
		fail = false
		s.Optimize(context.Background(), obj, hpo.NTrials(1))
		s.EnqueueTrial(p, hpo.SkipIfExists())
		trials, _ = s.Trials()
		if len(trials) != 2 || trials[1].State != hpo.Complete || trials[1].Params["x"] != 0.25 {
			t.Fatalf("%s: after the failure: %d trials, want the trial enqueued again and complete, and not a third time", name, len(trials))
		}
	}
}

// TestInterruptFailsRunningTrialsAtOnce: Study.Interrupt (a second Ctrl-C) records the running
// trial as interrupted while its objective still runs; the objective's return then changes
// nothing.
func TestInterruptFailsRunningTrialsAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "study.journal")
	s, j := openStudyOn(t, path, hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(3))))
	defer j.Close()
	obj := func(tr *hpo.Trial) (float64, error) {
		tr.SuggestFloat("x", 0, 1)
		if tr.Number() == 2 {
			if err := s.Interrupt(); err != nil {
				return 0, err
			}
		}
		return 1, nil
	}
	if err := s.Optimize(context.Background(), obj, hpo.NTrials(5)); err == nil {
		t.Fatal("Optimize went on after Interrupt")
	}
	trials, _ := s.Trials()
	if len(trials) != 3 || trials[2].State != hpo.Failed || trials[2].FailReason != hpo.ReasonInterrupted {
		t.Fatalf("trial 2 after Interrupt: %d trials, %s %q", len(trials), trials[2].State, trials[2].FailReason)
	}
}

// TestObjectiveFinishingAfterCancelIsKept: a trial whose objective returns a value although the
// context was cancelled is recorded as complete, and Optimize still reports the
// interruption.
func TestObjectiveFinishingAfterCancelIsKept(t *testing.T) {
	s, _ := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(3))))
	ctx, cancel := context.WithCancel(context.Background())
	obj := func(tr *hpo.Trial) (float64, error) {
		x, err := tr.SuggestFloat("x", 0, 1)
		cancel()
		return x, err
	}
	err := s.Optimize(ctx, obj, hpo.NTrials(5))
	trials, _ := s.Trials()
	if !errors.Is(err, context.Canceled) || len(trials) != 1 || trials[0].State != hpo.Complete {
		t.Fatalf("err %v, %d trials (%v); want context.Canceled and one complete trial", err, len(trials), trials[0].State)
	}
}

// TestInterruptedReasonSaysWhy: the reason carries the cancellation's cause, or the
// objective's own account when it starts with "interrupted"; the error still wraps
// context.Canceled.
func TestInterruptedReasonSaysWhy(t *testing.T) {
	for _, c := range []struct {
		objErr func(ctx context.Context) error
		want   string
	}{
		{func(ctx context.Context) error { return ctx.Err() }, "interrupted: signal: terminated"},
		{func(context.Context) error { return errors.New("interrupted after 2 of 5 epochs") }, "interrupted after 2 of 5 epochs"},
	} {
		s, _ := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(3))))
		ctx, cancel := context.WithCancelCause(context.Background())
		obj := func(tr *hpo.Trial) (float64, error) {
			tr.SuggestFloat("x", 0, 1)
			cancel(errors.New("signal: terminated"))
			return 0, c.objErr(tr.Context())
		}
		err := s.Optimize(ctx, obj, hpo.NTrials(5))
		trials, _ := s.Trials()
		if !errors.Is(err, context.Canceled) || len(trials) != 1 || trials[0].FailReason != c.want {
			t.Fatalf("err %v, trials %d, reason %q; want context.Canceled, 1 trial, %q", err, len(trials), trials[0].FailReason, c.want)
		}
	}
}
