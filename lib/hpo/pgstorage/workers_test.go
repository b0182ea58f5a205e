//go:build linux

package pgstorage

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// Worker processes: the test binary re-executed with these variables set.
const (
	workerEnv    = "PGSTORAGE_WORKER" // the mode: "study" or "hang"
	workerURL    = "PGSTORAGE_URL"
	workerStudy  = "PGSTORAGE_STUDY"
	workerTarget = "PGSTORAGE_TARGET"
)

// workerMain is a worker process. "study" runs trials until the study's target; "hang" starts
// one trial, records a parameter and a report, says "running <n>" and blocks until it is
// killed. It opens the storage with fast heartbeats (200 ms, grace 1 s).
func workerMain(mode string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := []Option{WithHeartbeat(200*time.Millisecond, time.Second), WithLog(os.Stderr)}
	if mode == "netns" {
		opts = netnsOptions
	}
	s, err := Open(ctx, os.Getenv(workerURL), os.Getenv(workerStudy), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	target, _ := strconv.Atoi(os.Getenv(workerTarget))
	study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithMaxTrials(target), hpo.WithSampler(hpo.NewRandomSampler(uint64(os.Getpid()))))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch mode {
	case "study":
		err = study.Optimize(context.Background(), sleepyObjective(30*time.Millisecond))
	case "netns":
		err = study.Optimize(context.Background(), func(t *hpo.Trial) (float64, error) {
			x, err := t.SuggestFloat("x", -2, 2)
			if err != nil {
				return 0, err
			}
			for step := 0; step < netnsSteps; step++ {
				time.Sleep(100 * time.Millisecond)
				if err := t.Report(step, x+float64(step)); err != nil {
					return 0, err
				}
				fmt.Printf("trial %d step %d\n", t.Number(), step)
			}
			return x * x, nil
		})
	case "hang":
		err = study.Optimize(context.Background(), func(t *hpo.Trial) (float64, error) {
			x, err := t.SuggestFloat("x", -1, 1)
			if err != nil {
				return 0, err
			}
			if err := t.Report(0, x); err != nil {
				return 0, err
			}
			fmt.Printf("running %d\n", t.Number())
			select {}
		}, hpo.NTrials(1))
	default:
		err = fmt.Errorf("unknown worker mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// sleepyObjective is a small objective that takes a while, so that workers overlap.
func sleepyObjective(d time.Duration) hpo.Objective {
	return func(t *hpo.Trial) (float64, error) {
		x, err := t.SuggestFloat("x", -2, 2)
		if err != nil {
			return 0, err
		}
		n, err := t.SuggestInt("n", 1, 4)
		if err != nil {
			return 0, err
		}
		for step := 0; step < 3; step++ {
			time.Sleep(d / 3)
			if err := t.Report(step, x*x+float64(step)); err != nil {
				return 0, err
			}
		}
		return x*x + float64(n), nil
	}
}

// startWorker runs the test binary as a worker process of the study.
func startWorker(t *testing.T, mode, url, study string, target int) (*exec.Cmd, io.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+mode, workerURL+"="+url, workerStudy+"="+study, workerTarget+"="+strconv.Itoa(target))
	cmd.Stderr = testLog{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, out
}

// Goroutines with a storage each (as processes would) and goroutines sharing one storage run
// one study to exactly its target, numbers unique and consecutive, the enqueued trial once.
func TestConcurrentWorkersReachTheTarget(t *testing.T) {
	url := pgtest.Database(t)
	const target = 36
	shared := openTest(t, url, "s")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		s := shared
		if w < 5 {
			s = openTest(t, url, "s", WithPool(2))
		}
		wg.Add(1)
		go func(w int, s hpo.Storage) {
			defer wg.Done()
			study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithMaxTrials(target), hpo.WithSampler(hpo.NewRandomSampler(uint64(w))))
			if err == nil {
				err = study.EnqueueTrial(map[string]any{"x": 0.25, "n": 2}, hpo.SkipIfExists())
			}
			if err == nil {
				err = study.Optimize(context.Background(), sleepyObjective(3*time.Millisecond))
			}
			errs <- err
		}(w, s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := mustTrials(t, shared)
	if len(ts) != target {
		t.Fatalf("%d trials, want exactly %d", len(ts), target)
	}
	checkNumbers(t, ts)
	enqueued, workers := 0, map[float64]bool{}
	for _, tr := range ts {
		if tr.State != hpo.Complete {
			t.Errorf("trial %d is %s", tr.Number, tr.State)
		}
		if tr.FixedParams != nil {
			enqueued++
		}
		workers[tr.SystemAttrs["hpo:worker"]] = true
	}
	if enqueued != 1 {
		t.Errorf("the enqueued trial ran %d times, want once", enqueued)
	}
	t.Logf("%d trials by %d distinct worker indices", len(ts), len(workers))
}

// Four worker processes on one study: exactly the target, numbers 0..n-1, every process ran.
func TestWorkerProcessesReachTheTarget(t *testing.T) {
	url := pgtest.Database(t)
	const target, procs = 40, 4
	s := openTest(t, url, "p")
	var cmds []*exec.Cmd
	for i := 0; i < procs; i++ {
		cmd, _ := startWorker(t, "study", url, "p", target)
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	ts := mustTrials(t, s)
	if len(ts) != target {
		t.Fatalf("%d trials, want exactly %d", len(ts), target)
	}
	checkNumbers(t, ts)
	byPid := map[string]int{}
	tokens := tokensOf(t, s)
	for _, tr := range ts {
		if tr.State != hpo.Complete {
			t.Errorf("trial %d is %s", tr.Number, tr.State)
		}
		byPid[strings.Join(strings.SplitN(tokens[tr.Number], ":", 3)[:2], ":")]++
	}
	if len(byPid) != procs {
		t.Errorf("trials by process %v, want all %d processes", byPid, procs)
	}
	t.Logf("trials by process: %v", byPid)
}

// tokensOf returns each trial's hpo:token (host:pid:storage:seq of the call that started it).
func tokensOf(t *testing.T, s *Storage) map[int]string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT t.number, a.value_json FROM trials t JOIN trial_system_attributes a ON a.trial_id = t.trial_id
		WHERE t.study_id = $1 AND a.key = $2`, s.studyID, attrToken)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var n int
		var v string
		if err := rows.Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		out[n] = strings.Trim(v, `"`)
	}
	return out
}

// runningLine waits for a "hang" worker to say which trial it runs.
func runningLine(t *testing.T, out io.Reader) int {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "running ")))
		if err != nil {
			t.Fatalf("worker said %q", l)
		}
		return n
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not start its trial in 30s")
	}
	return -1
}
