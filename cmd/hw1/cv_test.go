package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/data"
)

// regressionDataDir finds the regression CSVs as lib/data's tests do:
// $HW1_DATA_DIR, else ../shared/data next to the repository.
func regressionDataDir(t *testing.T) string {
	dirs := []string{os.Getenv(data.EnvDataDir)}
	if wd, err := os.Getwd(); err == nil {
		if root, err := data.FindRepoRoot(wd); err == nil {
			dirs = append(dirs, filepath.Join(root, "..", "shared", "data"))
		}
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "regression", "train_data.csv")); err == nil {
			return d
		}
	}
	if os.Getenv(data.EnvRequireData) != "" {
		t.Fatalf("regression CSVs not found in %v ($%s is set: make test needs them)", dirs, data.EnvRequireData)
	}
	t.Skipf("regression CSVs not found in %v", dirs)
	return ""
}

// TestCVRegression runs a short 2-fold regression and checks the summary's
// fields; stdout must hold nothing but the JSON.
func TestCVRegression(t *testing.T) {
	dir := regressionDataDir(t)
	var stdout, stderr bytes.Buffer
	code := run([]string{"cv", "regression", "--folds", "2", "--epochs", "3", "--backend", "go", "--data-dir", dir, "--seed", "1"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var sum struct {
		Backend         string   `json:"backend"`
		WallSeconds     float64  `json:"wall_seconds"`
		EnsembleTestMSE *float64 `json:"ensemble_test_mse"`
		Folds           []struct {
			ValidationLoss *float64 `json:"validation_loss"`
			TestLoss       float64  `json:"test_loss"`
			Epochs         int      `json:"epochs"`
		} `json:"folds"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout.String())
	}
	if sum.Backend != "go" || sum.WallSeconds <= 0 || sum.EnsembleTestMSE == nil || len(sum.Folds) != 2 {
		t.Errorf("summary %+v", sum)
	}
	for i, f := range sum.Folds {
		if f.ValidationLoss == nil || !(f.TestLoss > 0) || f.Epochs != 3 {
			t.Errorf("fold %d: %+v", i+1, f)
		}
	}
	if !strings.Contains(stderr.String(), "backend: go") {
		t.Errorf("stderr does not say the backend:\n%s", stderr.String())
	}
}

func TestCVBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"cv"},
		{"cv", "clustering"},
		{"cv", "regression", "--epochs", "-1"},
		{"cv", "regression", "--folds", "-2"},
		{"cv", "regression", "--optimizer", "adagrad"},
		{"cv", "regression", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		// Exit 2 is a usage error, found before any data is read.
		if code := run(args, &stdout, &stderr); code != 2 || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout.String())
		}
	}
}
