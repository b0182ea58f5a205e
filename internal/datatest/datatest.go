// Package datatest gives the project's tests the real datasets: a test that
// needs one skips without it, or fails when $HW1_REQUIRE_DATA is set (make
// test sets it), so that CI really runs the tests on data. It imports
// package testing, so it lives apart from lib/data, which every program
// links; being internal, only this module's tests can import it.
package datatest

import (
	"os"
	"testing"

	"github.com/dlworkbench/hw1/lib/data"
)

// NeedRegression skips the test (fails it with $HW1_REQUIRE_DATA) when the
// regression's CSV files are not on this machine; it never downloads.
func NeedRegression(tb testing.TB) {
	tb.Helper()
	_, _, err := data.LoadRegression(data.Options{NoDownload: true})
	missing(tb, err)
}

// NeedFashionMNIST is NeedRegression for Fashion-MNIST.
func NeedFashionMNIST(tb testing.TB) {
	tb.Helper()
	_, _, err := data.LoadFashionMNIST(data.Options{NoDownload: true})
	missing(tb, err)
}

func missing(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if os.Getenv(data.EnvRequireData) != "" {
		tb.Fatalf("dataset missing: %v ($%s is set; run make setup)", err, data.EnvRequireData)
	}
	tb.Skipf("dataset missing: %v", err)
}
