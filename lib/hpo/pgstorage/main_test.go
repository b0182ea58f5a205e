//go:build linux

package pgstorage

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// The test binary is also the worker process of the multi-process tests: with $PGSTORAGE_WORKER
// set it runs workerMain (workers_test.go) instead of the tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv(workerEnv); mode != "" {
		os.Exit(workerMain(mode))
	}
	os.Exit(pgtest.Main(m))
}

// testLog sends the storage's warnings to the test log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// openTest opens a storage on url for the test and closes it at the end. Heartbeats are fast
// so that tests about them do not wait long.
func openTest(t testing.TB, url, study string, opts ...Option) *Storage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all := append([]Option{WithLog(testLog{t}), WithHeartbeat(200*time.Millisecond, time.Second)}, opts...)
	s, err := Open(ctx, url, study, all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cfg.log = io.Discard // the test may be over when Close logs
		s.Close()
	})
	return s
}

// mustTrials returns the storage's trials or fails the test.
func mustTrials(t testing.TB, s hpo.Storage) []hpo.FrozenTrial {
	t.Helper()
	ts, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkNumbers fails unless the trials are numbered 0..n-1 in order.
func checkNumbers(t testing.TB, ts []hpo.FrozenTrial) {
	t.Helper()
	for i, tr := range ts {
		if tr.Number != i {
			numbers := make([]int, len(ts))
			for j := range ts {
				numbers[j] = ts[j].Number
			}
			t.Fatalf("trial numbers %v, want 0..%d without duplicates or gaps", numbers, len(ts)-1)
		}
	}
}

// waitFor polls cond every 50 ms until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
