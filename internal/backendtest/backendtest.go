// Package backendtest gives the project's tests the backends to run on.
// It imports package testing, so it lives apart from lib/backend, which every
// program links; being internal, only this module's tests can import it.
package backendtest

import (
	"os"
	"testing"

	"github.com/dlworkbench/hw1/lib/backend"
)

// RequireXLAEnv, when set (make test sets it), turns a missing XLA CPU plugin
// into a test failure instead of a skip, so that CI really runs the XLA tests.
const RequireXLAEnv = "HW1_REQUIRE_XLA"

// ForTests returns the backends a test should run on: the pure-Go one always,
// XLA CPU when a plugin is found on this machine, and XLA CUDA when a CUDA
// plugin and an NVIDIA GPU are both present. Without a CPU plugin it logs that
// XLA is skipped, or fails the test when $HW1_REQUIRE_XLA is set.
func ForTests(tb testing.TB) []*backend.Choice {
	tb.Helper()
	all := []*backend.Choice{backend.Go()}
	x, err := backend.XLA()
	switch {
	case err == nil:
		all = append(all, x)
	case os.Getenv(RequireXLAEnv) != "":
		tb.Fatalf("$%s is set but XLA is not usable: %v", RequireXLAEnv, err)
	default:
		tb.Logf("XLA backend not tested: %v", err)
	}
	if plugin, _ := backend.FindCUDAPlugin(); plugin != "" && backend.NvidiaGPU() != "" {
		c, err := backend.XLACUDA()
		if err != nil {
			// A GPU and a plugin that do not work together is worth a failure.
			tb.Fatalf("XLA CUDA: %v", err)
		}
		all = append(all, c)
	}
	return all
}
