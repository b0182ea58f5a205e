//go:build linux

// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's binaries
// (/usr/lib/postgresql/<version>/bin, installed by scripts/setup.sh), a fresh data folder in a
// temporary directory, listening on 127.0.0.1 at a free port only (its unix socket in that
// folder, not /var/run), trust authentication, one server per test binary.
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//	func TestX(t *testing.T) { url := pgtest.Database(t) ... }
//
// Without the binaries the tests that need a server are skipped, unless $HW1_REQUIRE_POSTGRES
// is set (the Makefile's unit tests set it): then they fail. The server is stopped (fast
// shutdown) when Main returns, and also when the test binary dies (a panic, a -timeout, a
// kill): it is started with a parent-death signal.
//
// It is for tests only: its folder is removed at the end, and anyone on this machine's loopback
// can connect.
package pgtest
