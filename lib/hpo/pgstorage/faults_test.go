//go:build linux

package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// errLostReply stands for a reply lost on the way back (a reset connection).
var errLostReply = errors.New("read tcp: connection reset by peer (injected)")

// loseReplyOnce makes the first attempt of every call whose name contains one of ops fail
// after it did its work.
func loseReplyOnce(t *testing.T, ops ...string) *[]string {
	var mu sync.Mutex
	var lost []string
	testHookLostReply = func(op string, attempt int) error {
		if attempt > 1 {
			return nil
		}
		for _, o := range ops {
			if strings.Contains(op, o) {
				mu.Lock()
				lost = append(lost, op)
				mu.Unlock()
				return errLostReply
			}
		}
		return nil
	}
	t.Cleanup(func() { testHookLostReply = nil })
	return &lost
}

// Every write whose reply is lost after it committed is retried, and the retry writes nothing
// twice: one trial per CreateTrial and EnqueueTrial (found again by its token), one parameter,
// one report, a finish that is not refused as "not running", one worker lease.
func TestLostRepliesDoNotWriteTwice(t *testing.T) {
	url := pgtest.Database(t)
	s := openTest(t, url, "lost")
	lost := loseReplyOnce(t, "create trial", "enqueue trial", "set parameter", "report", "set system attribute", "finish", "register worker")
	if k, err := s.RegisterWorker(); err != nil || k != 0 {
		t.Fatalf("RegisterWorker: %d %v", k, err)
	}
	if n, added, err := s.EnqueueTrial(map[string]any{"x": 0.5}, false); err != nil || n != 0 || !added {
		t.Fatalf("EnqueueTrial: %d %v %v", n, added, err)
	}
	a, err := s.CreateTrial(0)
	if err != nil || a.Number != 0 {
		t.Fatalf("CreateTrial claimed %d (%v), want the enqueued 0", a.Number, err)
	}
	b, err := s.CreateTrial(0)
	if err != nil || b.Number != 1 {
		t.Fatalf("CreateTrial: %d %v, want 1", b.Number, err)
	}
	d := hpo.FloatDistribution(0, 1, false, 0)
	for _, err := range []error{
		s.SetParam(1, "x", d, 0.25), s.Report(1, 0, 0.5), s.SetSystemAttr(1, "hpo:worker", 0),
		s.FinishTrial(1, hpo.Complete, 0.125, ""), s.FinishTrial(0, hpo.Failed, math.NaN(), "boom"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(*lost) < 9 {
		t.Fatalf("only %d replies were lost: %v", len(*lost), *lost)
	}
	ts := mustTrials(t, s)
	if len(ts) != 2 {
		t.Fatalf("%d trials, want 2", len(ts))
	}
	if ts[1].State != hpo.Complete || ts[1].Value != 0.125 || len(ts[1].Params) != 1 || len(ts[1].Intermediate) != 1 || ts[0].State != hpo.Failed {
		t.Fatalf("trials after lost replies: %+v", ts)
	}
	var leases, tokens int
	s.pool.QueryRow(t.Context(), `SELECT count(*) FROM study_system_attributes WHERE key LIKE 'hpo:worker:%'`).Scan(&leases)
	s.pool.QueryRow(t.Context(), `SELECT count(*) FROM trial_system_attributes WHERE key = 'hpo:token'`).Scan(&tokens)
	if leases != 1 || tokens != 2 {
		t.Fatalf("%d worker leases and %d tokens, want 1 and 2", leases, tokens)
	}
}

// proxy forwards TCP connections to a server and can cut them all at once, as a flaky network
// does (both sides see the connection end; with a real partition they would not, which the
// timeouts cover).
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	cuts   int
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { l.Close(); p.cut() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		go func() { io.Copy(s, c); s.Close(); c.Close() }()
		go func() { io.Copy(c, s); s.Close(); c.Close() }()
	}
}

// cut closes every connection through the proxy.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
	p.cuts++
}

// Workers whose connections are cut every few tens of milliseconds, mid-statement and
// mid-transaction, still end with exactly the target: every trial complete, numbered 0..n-1,
// with one row per parameter and per report, nothing lost or written twice.
func TestCutConnectionsLoseNothing(t *testing.T) {
	srv := pgtest.Require(t)
	url := pgtest.Database(t)
	p := newProxy(t, fmt.Sprintf("127.0.0.1:%d", srv.Port))
	viaProxy := strings.Replace(url, fmt.Sprintf(":%d/", srv.Port), fmt.Sprintf(":%d/", p.l.Addr().(*net.TCPAddr).Port), 1)
	const target = 30
	check := openTest(t, url, "cut") // creates the schema before the cuts begin
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			// Every 40-120 ms: often enough that most transactions meet a cut, rarely enough
			// that a retry gets through on a loaded 2-core machine (CI), where 20-60 ms
			// made a worker give up after its attempts.
			case <-time.After(time.Duration(40+rand.IntN(80)) * time.Millisecond):
				p.cut()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for w := range errs {
		s := openTest(t, viaProxy, "cut", WithRetry(40, 200*time.Millisecond), WithHeartbeat(200*time.Millisecond, 5*time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithMaxTrials(target), hpo.WithSampler(hpo.NewRandomSampler(uint64(w))))
			if err == nil {
				err = study.Optimize(context.Background(), sleepyObjective(15*time.Millisecond))
			}
			errs[w] = err
		}()
	}
	wg.Wait()
	close(done)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := mustTrials(t, check)
	if len(ts) != target {
		t.Fatalf("%d trials, want %d", len(ts), target)
	}
	checkNumbers(t, ts)
	for _, tr := range ts {
		if tr.State != hpo.Complete || len(tr.Params) != 2 || len(tr.Intermediate) != 3 {
			t.Errorf("trial %d: %s, %d params, %d reports; want COMPLETE, 2, 3", tr.Number, tr.State, len(tr.Params), len(tr.Intermediate))
		}
	}
	var rows [3]int
	check.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM trial_params), (SELECT count(*) FROM trial_intermediate_values), (SELECT count(*) FROM trial_values)`).Scan(&rows[0], &rows[1], &rows[2])
	if rows != [3]int{2 * target, 3 * target, target} {
		t.Errorf("rows of trial_params, trial_intermediate_values, trial_values: %v, want %v", rows, [3]int{2 * target, 3 * target, target})
	}
	t.Logf("%d trials complete through %d cuts of every connection", len(ts), p.cuts)
}
