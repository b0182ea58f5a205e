//go:build linux

package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if os.Getenv("PGTEST_CHILD") != "" {
		// A test binary that starts a server, says where, and waits to be killed.
		s, err := Start()
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("server", s.Port, s.cmd.Process.Pid, s.Dir)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(Main(m))
}

func TestServerListensOnLoopbackOnly(t *testing.T) {
	s := Require(t)
	url := Database(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var listen, sockets, version string
	if err := conn.QueryRow(ctx, `SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories'), current_setting('server_version')`).Scan(&listen, &sockets, &version); err != nil {
		t.Fatal(err)
	}
	if listen != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, want 127.0.0.1 only", listen)
	}
	if sockets != s.Dir {
		t.Errorf("unix_socket_directories = %q, want the test folder %q", sockets, s.Dir)
	}
	t.Logf("PostgreSQL %s on 127.0.0.1:%d, folder %s", version, s.Port, s.Dir)
	// Two databases of one test binary are distinct.
	other := Database(t)
	if other == url {
		t.Fatalf("Database returned %s twice", url)
	}
}

func TestStopShutsDownAndCleansUp(t *testing.T) {
	Require(t) // skips without binaries
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("folder %s is still there after Stop (%v)", s.Dir, err)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Stop", s.Port)
	}
}

// A server must not outlive a test binary that dies without stopping it (a -timeout panic, a
// kill): the child starts one and is killed with SIGKILL.
func TestServerDiesWithItsTestBinary(t *testing.T) {
	Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "server" {
		t.Fatalf("child said %q", line)
	}
	pid, _ := strconv.Atoi(f[2])
	dir := f[3]
	defer os.RemoveAll(dir) // the child cannot clean up after SIGKILL
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postgres (pid %d) still runs 20s after its test binary was killed", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive reports a process that exists and is not a zombie (a container's init may not reap).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
