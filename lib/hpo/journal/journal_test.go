package journal

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// journalObjective is slow enough (a few ms over several reports) for kills to land mid-trial.
func journalObjective(t *hpo.Trial) (float64, error) {
	x, err := t.SuggestFloat("x", -2, 2)
	if err != nil {
		return 0, err
	}
	opt, err := t.SuggestCategorical("opt", []string{"adam", "sgd"})
	if err != nil {
		return 0, err
	}
	v := x * x
	if opt == "sgd" {
		v += 0.5
	}
	for step := 0; step < 3; step++ {
		time.Sleep(time.Millisecond)
		if err := t.Report(step, v+1/float64(step+1)); err != nil {
			return 0, err
		}
		if t.ShouldPrune() {
			return 0, hpo.ErrPruned
		}
	}
	return v, nil
}

// TestJournalWorker is the study process that TestJournalSurvivesKill9 starts and kills; it
// does nothing in a normal test run.
func TestJournalWorker(t *testing.T) {
	path := os.Getenv("HPO_JOURNAL_WORKER")
	if path == "" {
		t.Skip("only runs as a child of TestJournalSurvivesKill9")
	}
	target, _ := strconv.Atoi(os.Getenv("HPO_JOURNAL_TARGET"))
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(journalSeed))), hpo.WithMaxTrials(target))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), journalObjective); err != nil {
		t.Fatal(err)
	}
}

// journalSeed is the seed of every worker of TestJournalSurvivesKill9: one seeded study,
// however often killed, draws what the uninterrupted study draws.
const journalSeed = 8

func startWorker(t *testing.T, path string, target int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalWorker$")
	cmd.Env = append(os.Environ(), "HPO_JOURNAL_WORKER="+path, fmt.Sprintf("HPO_JOURNAL_TARGET=%d", target))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// checkJournal reopens the journal and checks what must hold after any crash: trial numbers
// 0..n-1, nothing left RUNNING (the dead workers' trials come back failed), every trial that
// was finished before still there with the same state, value and parameters.
func checkJournal(t *testing.T, path string, before map[int]hpo.FrozenTrial) map[int]hpo.FrozenTrial {
	t.Helper()
	var warn bytes.Buffer
	saved := defaultLog
	defaultLog = &warn
	defer func() { defaultLog = saved }()
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	trials, err := j.Trials()
	if err != nil {
		t.Fatal(err)
	}
	after := map[int]hpo.FrozenTrial{}
	for i, tr := range trials {
		if tr.Number != i {
			t.Fatalf("trial at position %d has number %d", i, tr.Number)
		}
		if tr.State == hpo.Running {
			t.Fatalf("trial %d still RUNNING after its worker died", i)
		}
		if tr.State.Finished() {
			after[tr.Number] = tr
		}
	}
	for n, old := range before {
		now, ok := after[n]
		if !ok || now.State != old.State || !(now.Value == old.Value || math.IsNaN(now.Value) && math.IsNaN(old.Value)) ||
			fmt.Sprint(now.ExternalParams()) != fmt.Sprint(old.ExternalParams()) {
			t.Fatalf("finished trial %d changed or vanished: before %s %v %v, after %s %v %v", n,
				old.State, old.Value, old.ExternalParams(), now.State, now.Value, now.ExternalParams())
		}
	}
	return after
}

func TestJournalSurvivesKill9(t *testing.T) {
	path := t.TempDir() + "/study.jsonl"
	// Enough trials that no round finishes the study: every worker is killed mid-run.
	const target = 150
	finished := map[int]hpo.FrozenTrial{}
	kills, diedMidTrial := 0, 0
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 6; round++ {
		size := int64(0)
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		cmd := startWorker(t, path, target)
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		// Wait until the worker is writing, then kill it at a random moment. A worker that
		// exits first (it found the study done, or crashed) ends the wait at once.
		deadline := time.After(20 * time.Second)
	wait:
		for {
			if st, err := os.Stat(path); err == nil && st.Size() > size {
				break
			}
			select {
			case <-exited:
				break wait
			case <-deadline:
				break wait
			case <-time.After(time.Millisecond):
			}
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		<-exited
		finished = checkJournal(t, path, finished)
	}
	for _, tr := range finished {
		if strings.Contains(tr.FailReason, "died") {
			diedMidTrial++
		}
	}
	if kills < 5 {
		t.Fatalf("only %d of 6 workers were still running when killed", kills)
	}
	// Killed five times or more, the study has the finished trials of the uninterrupted study
	// (each trial cut short was drawn again by the next).
	ordered := make([]hpo.FrozenTrial, 0, len(finished))
	for n := 0; n < len(finished); n++ {
		ordered = append(ordered, finished[n])
	}
	killedRun := finishedParams(ordered)
	if want := referenceParams(t, journalSeed, journalObjective, len(killedRun)); !reflect.DeepEqual(killedRun, want) {
		t.Fatalf("after %d kills the study drew\n%v\nthe uninterrupted study\n%v", kills, killedRun, want)
	}
	// Two workers finish the study together on the same file.
	a, b := startWorker(t, path, target), startWorker(t, path, target)
	if err := a.Wait(); err != nil {
		t.Fatalf("worker a: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("worker b: %v", err)
	}
	finished = checkJournal(t, path, finished)
	ordered = ordered[:0]
	for n := 0; n < len(finished); n++ {
		ordered = append(ordered, finished[n])
	}
	// The two workers drew distinct streams and stopped together at the shared target.
	all := finishedParams(ordered)
	assertNoRepeats(t, all)
	if len(all) != target {
		t.Fatalf("%d complete or pruned trials, want the target %d exactly", len(all), target)
	}
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := hpo.NewStudy(hpo.WithStorage(j))
	if err != nil {
		t.Fatal(err)
	}
	best, err := s.BestValue()
	if err != nil {
		t.Fatal(err)
	}
	want := math.Inf(1)
	for _, tr := range finished {
		if tr.State == hpo.Complete {
			want = math.Min(want, tr.Value)
		}
	}
	if best != want {
		t.Fatalf("best value %v, minimum over complete trials %v", best, want)
	}
	t.Logf("%d kills, %d trials failed as 'worker died', %d complete or pruned before the last two workers (as uninterrupted), %d finished, best %.4g",
		kills, diedMidTrial, len(killedRun), len(finished), best)
}

func TestJournalIgnoresTornLastLine(t *testing.T) {
	path := t.TempDir() + "/study.jsonl"
	run := func(n int) {
		j, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(5))))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Optimize(context.Background(), journalObjective, hpo.NTrials(n)); err != nil {
			t.Fatal(err)
		}
	}
	run(3)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op_code":6,"worker_id":"w","trial_id":2,"sta`)
	f.Close()
	var warn bytes.Buffer
	saved := defaultLog
	defaultLog = &warn
	defer func() { defaultLog = saved }()
	run(2)
	if !strings.Contains(warn.String(), "torn last line") {
		t.Fatalf("no warning about the torn line; got %q", warn.String())
	}
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	trials, _ := j.Trials()
	if len(trials) != 5 {
		t.Fatalf("%d trials after the torn line, want 5", len(trials))
	}
	for _, tr := range trials {
		if !tr.State.Finished() {
			t.Fatalf("trial %d is %s", tr.Number, tr.State)
		}
	}
	if _, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithDirection(hpo.Maximize)); err == nil {
		t.Fatal("reopening a minimizing study to maximize must fail")
	}
}

// TestTrialTimesRecordedAndReplayed: the memory storage and the journal record when each trial
// started and finished (Optuna's datetime_start and datetime_complete), a WAITING trial has
// neither, a RUNNING one no end, and a reopened journal gives the times back (to Optuna's
// microseconds).
func TestTrialTimesRecordedAndReplayed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "times.journal")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []hpo.Storage{hpo.NewMemoryStorage(), j} {
		before := time.Now()
		s, err := hpo.NewStudy(hpo.WithStorage(st), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(1))))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Optimize(context.Background(), func(tr *hpo.Trial) (float64, error) {
			time.Sleep(2 * time.Millisecond)
			return tr.SuggestFloat("x", 0, 1)
		}, hpo.NTrials(3)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ask(); err != nil {
			t.Fatal(err)
		}
		if err := s.EnqueueTrial(map[string]any{"x": 0.5}); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		trials, _ := s.Trials()
		for _, tr := range trials[:3] {
			if tr.DatetimeStart.Before(before.Add(-time.Millisecond)) || tr.DatetimeComplete.After(after.Add(time.Millisecond)) ||
				tr.Duration() < 2*time.Millisecond {
				t.Fatalf("%T trial %d: start %v complete %v (study ran %v to %v)", st, tr.Number, tr.DatetimeStart, tr.DatetimeComplete, before, after)
			}
		}
		if r := trials[3]; r.State != hpo.Running || r.DatetimeStart.IsZero() || !r.DatetimeComplete.IsZero() {
			t.Fatalf("%T running trial: %s start %v complete %v", st, r.State, r.DatetimeStart, r.DatetimeComplete)
		}
		if w := trials[4]; w.State != hpo.Waiting || !w.DatetimeStart.IsZero() || !w.DatetimeComplete.IsZero() {
			t.Fatalf("%T waiting trial: %s start %v complete %v", st, w.State, w.DatetimeStart, w.DatetimeComplete)
		}
	}
	written, _ := j.Trials()
	j.Close()
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	replayed, _ := j.Trials()
	for i := range written {
		w, r := written[i], replayed[i]
		if w.State == hpo.Running {
			// Its worker closed the journal: on reopen the trial is failed (worker died), now.
			if !w.DatetimeStart.Truncate(time.Microsecond).Equal(r.DatetimeStart) || r.DatetimeComplete.IsZero() {
				t.Fatalf("trial %d left running: written %v, replayed %s %v to %v", i, w.DatetimeStart, r.State, r.DatetimeStart, r.DatetimeComplete)
			}
			continue
		}
		if !w.DatetimeStart.Truncate(time.Microsecond).Equal(r.DatetimeStart) || !w.DatetimeComplete.Truncate(time.Microsecond).Equal(r.DatetimeComplete) {
			t.Fatalf("trial %d: written %v to %v, replayed %v to %v", i, w.DatetimeStart, w.DatetimeComplete, r.DatetimeStart, r.DatetimeComplete)
		}
	}
}
