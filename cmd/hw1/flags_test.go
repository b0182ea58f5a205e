package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNumericFlagsNameTheFlag: NaN, infinities and negatives are refused
// with exit 2, by a message naming the flag. Before, `cv --lr NaN` trained
// with the seed's learning rate and `--timeout NaN` failed on config.json.
func TestNumericFlagsNameTheFlag(t *testing.T) {
	out := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cv", "regression", "--lr", "NaN"}, `flag -lr: not a finite number`},
		{[]string{"cv", "regression", "--lr", "-Inf"}, `flag -lr: not a finite number`},
		{[]string{"cv", "regression", "--lr", "-0.1"}, `--lr -0.1: want > 0`},
		{[]string{"cv", "regression", "--epochs", "1000000000000"}, `--epochs 1000000000000: over the maximum of 100000`},
		{[]string{"regression", "--out", out, "--timeout", "NaN"}, `flag -timeout: not a finite number`},
		{[]string{"regression", "--out", out, "--timeout", "+Inf"}, `flag -timeout: not a finite number`},
		{[]string{"regression", "--out", out, "--timeout", "-1"}, `--timeout: -1, want 0`},
		{[]string{"regression", "--out", out, "--trials", "0"}, `--trials: 0, want at least 1`},
		{[]string{"regression", "--out", out, "--folds", "1"}, `--folds: k=1`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "config.json") {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("refused runs wrote %v", entries)
	}
}

// TestConfigFileErrorsNameTheFile: a second JSON value, and a bad value in
// the file, are reported with the file's name.
func TestConfigFileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"{\"trials\": 3}\n{\"trials\": 5}\n":                            "line 2: a second JSON value",
		`{"timeout_seconds": -2}`:                                       "timeout_seconds: -2",
		`{"space": {"n_units": {"low": 100000000, "high": 100000000}}}`: "space.n_units: high 100000000",
		`{"space": {"epochs": {"low": 1, "high": 1000000000000}}}`:      "space.epochs: high 1000000000000, over the maximum of 100000 (nn.MaxEpochs)",
		`{"padding": {"batch_bits": 40, "width_bits": 0}}`:              "padding: batch_bits 40: want 0 (none) to 30",
		`{"padding": "fast"}`:                                           `padding: unknown setting "fast"`,
	} {
		path := filepath.Join(dir, "c.json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run([]string{"regression", "--out", dir, "--config", path}, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "config file "+path) || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit 2, the file and %q", body, code, stderr.String(), want)
		}
	}
}

// TestChangedSeedOnResumeNamesTheFlag: resuming a study with another --seed
// is refused before any trial, naming --seed and the recorded seed.
func TestChangedSeedOnResumeNamesTheFlag(t *testing.T) {
	data := regressionDataDir(t)
	out := t.TempDir()
	args := []string{"regression", "--preset", "smoke", "--backend", "go", "--quiet", "--data-dir", data, "--out", out}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	code := run(append(args, "--seed", "7", "--trials", "6"), &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--seed: 7, but study \"regression_smoke\" was created with seed 42") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "trial 4") {
		t.Errorf("a trial ran before the refusal:\n%s", stderr.String())
	}
}

// The resume line printed after an interrupt repeats the command, but never a
// database password, whichever way --storage was spelt.
func TestCommandLineHidesThePassword(t *testing.T) {
	for _, args := range [][]string{
		{"regression", "--storage", "postgresql://hw1:s3cret@db:5432/hw1", "--study", "s"},
		{"regression", "--storage=postgresql://hw1:s3cret@db:5432/hw1"},
		{"regression", "-storage", "postgres://hw1@db/hw1?password=s3cret&sslmode=disable"},
	} {
		line := commandLine(args)
		if strings.Contains(line, "s3cret") {
			t.Errorf("%q shows the password", line)
		}
		if !strings.Contains(line, "hw1@db") {
			t.Errorf("%q lost the rest of the URL", line)
		}
	}
	if line := commandLine([]string{"regression", "--storage", "/tmp/a.journal"}); !strings.Contains(line, "/tmp/a.journal") {
		t.Errorf("a journal path was changed: %q", line)
	}
}
