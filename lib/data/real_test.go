package data

import (
	"crypto/sha256"
	"encoding/hex"
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
		// An explicit directory is the one to test, not a fallback.
		candidates = append(candidates, d)
	} else {
		if wd, err := os.Getwd(); err == nil {
			if root, err := FindRepoRoot(wd); err == nil {
				candidates = append(candidates, filepath.Join(root, "..", "shared", "data"))
			}
		}
		candidates = append(candidates, "/work/shared/data")
	}
	for _, d := range candidates {
		if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(regressionTrain.rel))); err == nil {
			return d
		}
	}
	missingData(t, "regression CSVs not found in %v", candidates)
	return ""
}

// realFashionOptions are options that find Fashion-MNIST without downloading,
// and the paths of its four files. Finding is enough: loading verifies.
func realFashionOptions(t testing.TB) (Options, []string) {
	t.Helper()
	opts := Options{NoDownload: true, CacheDir: t.TempDir()}
	if d := os.Getenv(EnvDataDir); d != "" {
		opts.Dir = d
	}
	var paths []string
	for _, f := range allFiles[2:] {
		locs, _, _ := opts.locations(f)
		found := ""
		for _, loc := range locs {
			if _, err := os.Stat(loc.path); err == nil {
				found = loc.path
				break
			}
		}
		if found == "" {
			missingData(t, "Fashion-MNIST %s not found (apt-get install dataset-fashion-mnist)", f.rel)
		}
		paths = append(paths, found)
	}
	return opts, paths
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
	// sources.go's valuesSHA256 is this digest of the published files: the
	// message gives the value to paste if the published files ever change.
	for _, c := range []struct {
		d *CSVDataset
		f dataFile
	}{{train, regressionTrain}, {test, regressionTest}} {
		if got := hexSum(valuesDigest(c.d)); got != c.f.valuesSHA256 {
			t.Errorf("%s: valuesDigest %s, want valuesSHA256 %s", c.f.rel, got, c.f.valuesSHA256)
		}
	}
	for _, st := range Check(Options{Dir: dir, NoSystemDir: true, CacheDir: t.TempDir()})[:2] {
		if !st.Verified {
			t.Errorf("%s not verified: %v", st.Name, st.Err)
		}
	}
}

func TestRealFashionMNIST(t *testing.T) {
	opts, _ := realFashionOptions(t)
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
	// LoadFashionMNIST verified the checksums; this checks that it verified
	// what it returned.
	for _, c := range []struct {
		data []byte
		f    dataFile
	}{{train.Pixels, fashionTrainImages}, {train.Labels, fashionTrainLabels}, {test.Pixels, fashionTestImages}, {test.Labels, fashionTestLabels}} {
		if got := sha256.Sum256(c.data); hex.EncodeToString(got[:]) != c.f.sha256 {
			t.Errorf("%s: payload sha256 %x, want %s", c.f.rel, got, c.f.sha256)
		}
	}
}

func BenchmarkLoadFashionMNIST(b *testing.B) {
	opts, _ := realFashionOptions(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := LoadFashionMNIST(opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealCheck is what `hw1 doctor` shows on a machine with both datasets.
func TestRealCheck(t *testing.T) {
	opts, _ := realFashionOptions(t)
	opts.Dir = realDataDir(t)
	for _, st := range Check(opts) {
		if !st.Found || !st.Verified || st.Err != nil || st.Path == "" {
			t.Errorf("%s: %+v", st.Name, st)
		}
	}
}
