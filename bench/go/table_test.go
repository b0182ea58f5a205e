package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The quick mode's contract with `make bench-quick`: the output ends with
// exactly the three ratio lines, each the median project time over the
// median PyTorch time.
func TestQuickTableEndsWithTheRatioLines(t *testing.T) {
	lines := `{"bench":"lenet5","side":"pytorch","batch":64,"train_epoch_s":[10],"train_images":60000,"load_avg_1m":1}
{"bench":"lenet5","side":"pytorch","batch":64,"train_epoch_s":[30],"train_images":60000,"load_avg_1m":1}
{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[8],"extrapolated_from_steps":300}
{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[12]}
{"bench":"lenet5","side":"project","backend":"go","batch":64,"train_epoch_s":[100]}
{"bench":"regression_cv","side":"pytorch","seconds":9}
not json: ignored
{"bench":"regression_cv","side":"project","backend":"xla","seconds":4.5}
`
	out := runTable(t, lines, "--quick")
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{"lenet5_epoch_ratio_xla=0.50", "lenet5_epoch_ratio_go=5.00", "regression_cv_ratio_xla=0.50"}
	if len(got) < 3 || strings.Join(got[len(got)-3:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("last lines:\n%s\nwant:\n%s", strings.Join(got[max(0, len(got)-3):], "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(out, "(extrapolated from 300 steps)") {
		t.Errorf("an extrapolated epoch is not marked:\n%s", out)
	}
}

// A missing side gives NA, never a made-up ratio.
func TestQuickTableSaysNAWhenASideIsMissing(t *testing.T) {
	out := runTable(t, `{"bench":"lenet5","side":"project","backend":"xla","batch":64,"train_epoch_s":[8]}`+"\n", "--quick")
	for _, l := range []string{"lenet5_epoch_ratio_xla=NA", "lenet5_epoch_ratio_go=NA", "regression_cv_ratio_xla=NA"} {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("missing %q in:\n%s", l, out)
		}
	}
}

func TestBadLineIsAnErrorNamingTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := os.WriteFile(path, []byte("{\"bench\":1}\n{broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := tableMain([]string{path})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}

func runTable(t *testing.T, jsonl string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.jsonl")
	if err := os.WriteFile(path, []byte(jsonl), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	runErr := tableMain(append(args, path))
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if runErr != nil {
		t.Fatal(runErr)
	}
	return string(out)
}
