package data

import (
	"os"
	"path/filepath"
	"testing"
)

// realDataDir finds the project's shared data for tests: $HW1_DATA_DIR, else
// ../shared/data next to the repository, else /work/shared/data. With no
// regression files there, the test fails when $HW1_REQUIRE_DATA is set and
// skips otherwise.
func realDataDir(t testing.TB) string {
	t.Helper()
	var candidates []string
	if d := os.Getenv(EnvDataDir); d != "" {
		candidates = append(candidates, d)
	}
	if wd, err := os.Getwd(); err == nil {
		if root, err := FindRepoRoot(wd); err == nil {
			candidates = append(candidates, filepath.Join(root, "..", "shared", "data"))
		}
	}
	candidates = append(candidates, "/work/shared/data")
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(regressionTrain.rel))); err == nil {
			return d
		}
	}
	missingData(t, "regression CSVs not found in %v", candidates)
	return ""
}

// realFashionOptions are options that find Fashion-MNIST without downloading.
func realFashionOptions(t testing.TB) Options {
	t.Helper()
	opts := Options{NoDownload: true, CacheDir: t.TempDir()}
	if d := os.Getenv(EnvDataDir); d != "" {
		opts.Dir = d
	}
	for _, st := range Check(opts)[2:] {
		if !st.Found {
			missingData(t, "Fashion-MNIST %s: %v", st.Name, st.Err)
		}
	}
	return opts
}

func missingData(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequireData) != "" {
		t.Fatalf("real dataset missing ($%s is set; run `make setup`): "+format, append([]any{EnvRequireData}, args...)...)
	}
	t.Skipf("real dataset missing (set $%s to fail instead; `make setup` installs it): "+format, append([]any{EnvRequireData}, args...)...)
}

func TestRealRegression(t *testing.T) {
	dir := realDataDir(t)
	train, test, err := LoadRegression(Options{Dir: dir, NoDownload: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 100 || test.Len() != 100 {
		t.Fatalf("rows: train %d, test %d, want 100 each", train.Len(), test.Len())
	}
	if got, want := train.Inputs[0], -4.787870188090535; got != want {
		t.Errorf("first train input %v, want %v", got, want)
	}
	for _, st := range Check(Options{Dir: dir, NoSystemDir: true, CacheDir: t.TempDir()})[:2] {
		if !st.Verified {
			t.Errorf("%s not verified: %v", st.Name, st.Err)
		}
	}
}

func TestRealFashionMNIST(t *testing.T) {
	opts := realFashionOptions(t)
	train, test, err := LoadFashionMNIST(opts)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("images: train %d, test %d", train.Len(), test.Len())
	}
	if train.Rows != 28 || train.Cols != 28 || len(train.Pixels) != 60000*28*28 {
		t.Fatalf("train shape %dx%dx%d, %d pixels", train.N, train.Rows, train.Cols, len(train.Pixels))
	}
	for c, n := range train.ClassCounts() {
		if n != 6000 {
			t.Errorf("train class %d (%s): %d images, want 6000", c, ClassNames[c], n)
		}
	}
	for c, n := range test.ClassCounts() {
		if n != 1000 {
			t.Errorf("test class %d (%s): %d images, want 1000", c, ClassNames[c], n)
		}
	}
	if train.Labels[0] != 9 || test.Labels[0] != 9 {
		t.Errorf("first labels: train %d, test %d, want 9 (Ankle boot)", train.Labels[0], test.Labels[0])
	}
	if m := train.PixelMean(); m < 72.935 || m > 72.945 {
		t.Errorf("train pixel mean %.4f, want 72.94", m)
	}
	for _, st := range Check(opts)[2:] {
		if !st.Verified {
			t.Errorf("%s not verified: %v", st.Name, st.Err)
		}
	}
}

func BenchmarkLoadFashionMNIST(b *testing.B) {
	opts := realFashionOptions(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadFashionMNIST(opts); err != nil {
			b.Fatal(err)
		}
	}
}
