package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData is the shared copy of the datasets beside the repository, which
// the Makefile passes as $HW1_DATA_DIR.
func sharedData(t *testing.T) string {
	if d := os.Getenv("HW1_DATA_DIR"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../../shared/data")
	if _, err := os.Stat(filepath.Join(d, "regression", "train_data.csv")); err != nil {
		t.Skip("no shared data directory; run through make test")
	}
	return d
}

func TestDoctorReportsMissingData(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("HW1_CACHE_DIR", t.TempDir())
	t.Setenv("HW1_DATA_DIR", "")
	var out, errOut bytes.Buffer
	code := run([]string{"doctor", "--backend", "go", "--data-dir", empty}, &out, &errOut)
	if code == 0 {
		t.Fatalf("doctor exited 0 with no regression data:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "regression/train_data.csv") || !strings.Contains(out.String(), "problem") {
		t.Errorf("doctor does not name the missing dataset:\n%s", out.String())
	}
}

func TestDoctorOKWithData(t *testing.T) {
	dir := sharedData(t)
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"); err != nil && os.Getenv("HW1_REQUIRE_DATA") == "" {
		t.Skip("Fashion-MNIST not installed; run make setup")
	}
	var out, errOut bytes.Buffer
	code := run([]string{"doctor", "--backend", "go", "--data-dir", dir}, &out, &errOut)
	if code != 0 {
		t.Fatalf("doctor exited %d:\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"backend:  go", "gomlx:", "sha256 verified", "status:   ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDoctorBadBackend(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"doctor", "--backend", "tpu9"}, &out, &errOut); code == 0 {
		t.Fatalf("doctor accepted an unknown backend:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "tpu9") {
		t.Errorf("the error does not name the backend:\n%s", out.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "frobnicate") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut.String())
	}
}
