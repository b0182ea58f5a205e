//go:build linux

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv names the variable that turns a missing PostgreSQL into a failure.
const RequireEnv = "HW1_REQUIRE_POSTGRES"

// ErrNoPostgres is returned by Start when no PostgreSQL binaries are installed.
var ErrNoPostgres = errors.New("no PostgreSQL server binaries (initdb, postgres) under /usr/lib/postgresql/*/bin or on PATH; scripts/setup.sh installs Debian's postgresql")

// Server is a running test server.
type Server struct {
	// Dir is the temporary folder holding the data folder, the socket and the log.
	Dir string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Bin is the folder of the server binaries (pg_dump, psql, ... are there too).
	Bin  string
	cmd  *exec.Cmd
	exit chan struct{} // closed when the server process has exited
	err  error         // its exit status, once exit is closed
	log  string
	dbs  atomic.Int64
	once sync.Once
}

// FindBin returns the folder of the newest PostgreSQL binaries, or ErrNoPostgres.
func FindBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initializes a data folder and starts a server on a free loopback port. Run as root, it
// runs initdb and postgres as the postgres user (both refuse to run as root).
func Start() (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root, but there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// /tmp rather than $TMPDIR: the postgres user must be able to reach the folder.
	base := os.TempDir()
	if cred != nil {
		base = "/tmp"
	}
	removeStale(base)
	dir, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{Dir: dir, Bin: bin, log: filepath.Join(dir, "postgres.log")}
	cleanup := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return cleanup(fmt.Errorf("pgtest: %w", err))
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return cleanup(fmt.Errorf("pgtest: initdb: %w\n%s", err, out))
	}
	// A port can be taken between choosing it and the server binding it: try a few.
	for try := 0; ; try++ {
		port, err := freePort()
		if err != nil {
			return cleanup(err)
		}
		s.Port = port
		err = s.start(data, cred)
		if err == nil {
			return s, nil
		}
		if try == 2 || !strings.Contains(s.logTail(), "could not bind") {
			return cleanup(err)
		}
	}
}

// removeStale removes the folders of test servers whose test binary died (the server then
// died too, by its parent-death signal, but nobody removed the folder): no live postmaster in
// them, and older than two minutes, so that a folder another binary is still initializing is
// left alone.
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, "pgtest-*"))
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < 2*time.Minute {
			continue
		}
		if pid, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(pid), "\n")
			if n, err := strconv.Atoi(strings.TrimSpace(first)); err == nil {
				if err := syscall.Kill(n, 0); err == nil || errors.Is(err, syscall.EPERM) {
					continue
				}
			}
		}
		os.RemoveAll(d)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs postgres in the foreground of a child process and waits until it accepts
// connections.
func (s *Server) start(data string, cred *syscall.Credential) error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(s.Bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(s.Port),
		"-c", "unix_socket_directories="+s.Dir, "-c", "max_connections=200",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning")
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: when the test binary dies (panic, -timeout, SIGKILL) the kernel sends the
	// server SIGQUIT (immediate shutdown), so no server outlives its tests. The signal follows
	// the death of the thread that forked, hence the locked thread that is never released.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	started := make(chan error, 1)
	s.exit = make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.err = cmd.Wait()
		close(s.exit)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		select {
		case <-s.exit:
			return fmt.Errorf("pgtest: postgres exited (%v) before accepting connections:\n%s", s.err, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("pgtest: postgres does not accept connections after 30s (%v):\n%s", err, s.logTail())
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// URL returns the URL of a database on the server, as user postgres without a password.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// CreateDatabase creates a new empty database and returns its URL.
func (s *Server) CreateDatabase(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Stop shuts the server down as pg_ctl stop -m fast does (SIGINT: abort transactions, close
// connections, checkpoint), escalating to an immediate shutdown and a kill after 15 s, and
// removes its folder.
func (s *Server) Stop() error {
	var err error
	s.once.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			s.cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-s.exit:
			case <-time.After(15 * time.Second):
				s.cmd.Process.Signal(syscall.SIGQUIT)
				select {
				case <-s.exit:
				case <-time.After(5 * time.Second):
					s.cmd.Process.Kill()
					<-s.exit
					err = fmt.Errorf("pgtest: postgres did not stop; killed")
				}
			}
		}
		if rerr := os.RemoveAll(s.Dir); rerr != nil && err == nil {
			err = fmt.Errorf("pgtest: %w", rerr)
		}
	})
	return err
}

// The server shared by the tests of one binary.
var (
	sharedMu   sync.Mutex
	shared     *Server
	sharedErr  error
	sharedDone bool
)

// Shared returns the server of this test binary, starting it on first use; it is stopped by
// Main.
func Shared() (*Server, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if !sharedDone {
		shared, sharedErr = Start()
		sharedDone = true
	}
	return shared, sharedErr
}

// Main runs the tests (m.Run) and then stops the shared server, if a test started it; use it
// as os.Exit(pgtest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	s := shared
	sharedMu.Unlock()
	if s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Require returns the shared server, skipping the test when PostgreSQL is not installed (or
// failing it when $HW1_REQUIRE_POSTGRES is set), and failing it when the server does not start.
func Require(t testing.TB) *Server {
	t.Helper()
	s, err := Shared()
	switch {
	case errors.Is(err, ErrNoPostgres) && os.Getenv(RequireEnv) == "":
		t.Skipf("%v (set %s=1 to fail instead of skipping)", err, RequireEnv)
	case errors.Is(err, ErrNoPostgres):
		t.Fatalf("%v, and %s is set", err, RequireEnv)
	case err != nil:
		t.Fatal(err)
	}
	return s
}

// Database returns the URL of a new empty database on the shared server, named after the test.
func Database(t testing.TB) string {
	t.Helper()
	s := Require(t)
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", s.dbs.Add(1), name)
	url, err := s.CreateDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	return url
}
