package backend

import (
	"os"
	"testing"
)

// RequireXLAEnv, when set (make test sets it), turns a missing XLA plugin into
// a test failure instead of a skip, so that CI really runs the XLA tests.
const RequireXLAEnv = "HW1_REQUIRE_XLA"

// ForTests returns the backends a test should run on: the pure-Go one always,
// and XLA when a plugin is found on this machine. Without a plugin it logs that
// XLA is skipped, or fails the test when $HW1_REQUIRE_XLA is set.
func ForTests(tb testing.TB) []*Choice {
	tb.Helper()
	all := []*Choice{Go()}
	x, err := XLA()
	switch {
	case err == nil:
		all = append(all, x)
	case os.Getenv(RequireXLAEnv) != "":
		tb.Fatalf("$%s is set but XLA is not usable: %v", RequireXLAEnv, err)
	default:
		tb.Logf("XLA backend not tested: %v", err)
	}
	return all
}
