//go:build linux

package pgstorage

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
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

// The network-namespace worker: short timeouts so that a call stuck on the dead link is given
// up and retried within seconds, and a grace period longer than the outage, so that its trial
// survives it.
var netnsOptions = []Option{WithTimeouts(time.Second, 2*time.Second), WithHeartbeat(200*time.Millisecond, 15*time.Second),
	WithRetry(40, time.Second), WithLog(os.Stderr)}

const netnsSteps = 6

// ipCmd runs ip(8) and returns its combined output.
func ipCmd(args ...string) (string, error) {
	out, err := exec.Command("ip", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// A worker process in its own network namespace, with its own address (link-local, on a veth
// pair to the host, where a forwarder reaches the server on 127.0.0.1), loses its link in the
// middle of a trial for 3 s (packets dropped, no reset: a real partition) and gets it back. It
// finishes its trial, the study reaches its target with a worker on the host running all
// along, and nothing is lost or counted twice.
func TestWorkerInNetnsLosesItsLink(t *testing.T) {
	srv := pgtest.Require(t)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip(8) to make a network namespace")
	}
	tag := fmt.Sprintf("%06x", rand.IntN(1<<24))
	ns, hostIf, nsIf := "pgtest-"+tag, "pgh"+tag, "pgn"+tag
	if out, err := ipCmd("netns", "add", ns); err != nil {
		t.Skipf("ip netns add is not permitted here (%v: %s); this test needs root and CAP_SYS_ADMIN", err, out)
	}
	t.Cleanup(func() { ipCmd("netns", "del", ns); ipCmd("link", "del", hostIf) })
	octet := 1 + rand.IntN(250)
	hostIP, nsIP := fmt.Sprintf("169.254.%d.1", octet), fmt.Sprintf("169.254.%d.2", octet)
	for _, args := range [][]string{
		{"link", "add", hostIf, "type", "veth", "peer", "name", nsIf},
		{"link", "set", nsIf, "netns", ns},
		{"addr", "add", hostIP + "/30", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", ns, "addr", "add", nsIP + "/30", "dev", nsIf},
		{"-n", ns, "link", "set", nsIf, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if out, err := ipCmd(args...); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	// The server listens on 127.0.0.1 only; a forwarder on the host's veth address reaches it.
	fwd, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: fwd, target: fmt.Sprintf("127.0.0.1:%d", srv.Port), conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { fwd.Close(); p.cut() })

	url := pgtest.Database(t)
	const target = 12
	host := openTest(t, url, "netns", netnsOptions[:3]...)
	nsURL := strings.Replace(url, fmt.Sprintf("127.0.0.1:%d", srv.Port), fmt.Sprintf("%s:%d", hostIP, fwd.Addr().(*net.TCPAddr).Port), 1)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=netns", workerURL+"="+nsURL, workerStudy+"=netns", workerTarget+"="+strconv.Itoa(target))
	var stderr strings.Builder
	var stderrMu sync.Mutex
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		stderrMu.Lock()
		defer stderrMu.Unlock()
		t.Logf("netns worker: %s", strings.TrimRight(string(b), "\n"))
		return stderr.Write(b)
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	// Cut the link once the namespaced worker is two steps into a trial.
	cutTrial := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			var n, step int
			if _, err := fmt.Sscanf(sc.Text(), "trial %d step %d", &n, &step); err == nil && step == 2 && !sent {
				cutTrial <- n
				sent = true
			}
		}
		if !sent {
			close(cutTrial)
		}
	}()
	var hostErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		study, err := hpo.NewStudy(hpo.WithStorage(host), hpo.WithMaxTrials(target), hpo.WithSampler(hpo.NewRandomSampler(1)))
		if err == nil {
			err = study.Optimize(context.Background(), sleepyObjective(300*time.Millisecond))
		}
		hostErr = err
	}()
	var n int
	select {
	case v, ok := <-cutTrial:
		if !ok {
			t.Fatal("the namespaced worker never reached step 2 of a trial")
		}
		n = v
	case <-time.After(60 * time.Second):
		t.Fatal("the namespaced worker did not start a trial in 60s")
	}
	if out, err := ipCmd("link", "set", hostIf, "down"); err != nil {
		t.Fatalf("link down: %v: %s", err, out)
	}
	time.Sleep(3 * time.Second)
	if out, err := ipCmd("link", "set", hostIf, "up"); err != nil {
		t.Fatalf("link up: %v: %s", err, out)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the namespaced worker: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the namespaced worker did not finish in 90s after its link came back")
	}
	wg.Wait()
	if hostErr != nil {
		t.Fatal(hostErr)
	}
	ts := mustTrials(t, host)
	if len(ts) != target {
		t.Fatalf("%d trials, want %d", len(ts), target)
	}
	checkNumbers(t, ts)
	for _, tr := range ts {
		if tr.State != hpo.Complete {
			t.Errorf("trial %d is %s (%s)", tr.Number, tr.State, tr.FailReason)
		}
	}
	if got := len(ts[n].Intermediate); got != netnsSteps {
		t.Errorf("the trial cut mid-run (%d) has %d reports, want all %d", n, got, netnsSteps)
	}
	var rows [2]int
	host.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM trial_values), (SELECT count(*) FROM trial_params)`).Scan(&rows[0], &rows[1])
	if rows[0] != target {
		t.Errorf("%d trial_values rows, want %d", rows[0], target)
	}
	stderrMu.Lock()
	log := stderr.String()
	stderrMu.Unlock()
	if !strings.Contains(log, "heartbeat failed") && !strings.Contains(log, "succeeded on attempt") {
		t.Errorf("the namespaced worker never noticed the outage:\n%s", log)
	}
	t.Logf("trial %d survived a 3s partition; %d trials complete", n, len(ts))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
