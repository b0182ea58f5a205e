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

// A user's own regression CSV in the data directory is used (with a warning)
// and reported as user data: doctor names it so and does not count it as a
// problem.
func TestDoctorUserDataIsNoProblem(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "regression"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train_data.csv", "test_data.csv"} {
		if err := os.WriteFile(filepath.Join(dir, "regression", name), []byte("input,label\n0.5,1.25\n1.5,2.5\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	run([]string{"doctor", "--backend", "go", "--data-dir", dir}, &out, &errOut)
	text := out.String()
	if !strings.Contains(text, "user data") {
		t.Fatalf("doctor does not call the user's CSV user data:\n%s", text)
	}
	if strings.Contains(text, "regression/train_data.csv at") || strings.Contains(text, "NOT verified") {
		t.Errorf("doctor counts user data as a problem:\n%s", text)
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
