package data

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// server is a real HTTP server serving files by base name, counting requests.
type server struct {
	*httptest.Server
	files    map[string][]byte
	requests atomic.Int32
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		b, ok := s.files[filepath.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

// regressionFiles are the real CSVs, by base name.
func regressionFiles(t *testing.T) map[string][]byte {
	dir := realDataDir(t)
	files := map[string][]byte{}
	for _, f := range []dataFile{regressionTrain, regressionTest} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.rel)))
		if err != nil {
			t.Fatal(err)
		}
		files[f.base()] = b
	}
	return files
}

// filesUnder lists the regular files under dir, temporary ones included.
func filesUnder(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// isolated are options that see no data directory, no system directory and
// an empty cache.
func isolated(t *testing.T) Options {
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvCacheDir, "")
	return Options{Dir: t.TempDir(), CacheDir: t.TempDir(), NoSystemDir: true}
}

func TestRegressionDownloadThenCache(t *testing.T) {
	files := regressionFiles(t)
	srv := newServer(t, files)
	opts := isolated(t)
	opts.BaseURLs = []string{srv.URL}
	var log bytes.Buffer
	opts.Log = &log
	train, test, err := LoadRegression(opts)
	if err != nil {
		t.Fatal(err)
	}
	cached := filepath.Join(opts.CacheDir, "regression", "train_data.csv")
	if train.Len() != 100 || test.Len() != 100 || train.Source != cached {
		t.Fatalf("train %d rows from %s, test %d rows", train.Len(), train.Source, test.Len())
	}
	if b, err := os.ReadFile(cached); err != nil || !bytes.Equal(b, files["train_data.csv"]) {
		t.Fatalf("cached copy differs from the served file (%v)", err)
	}
	if got := filesUnder(t, opts.CacheDir); len(got) != 2 {
		t.Errorf("cache holds %v, want the two CSVs only", got)
	}
	if !strings.Contains(log.String(), "downloading "+srv.URL+"/train_data.csv") {
		t.Errorf("log does not tell the download:\n%s", log.String())
	}
	// The second load reads the cache: no request, even with downloads off.
	srv.requests.Store(0)
	opts.NoDownload = true
	if _, _, err := LoadRegression(opts); err != nil || srv.requests.Load() != 0 {
		t.Fatalf("second load: %v, %d requests", err, srv.requests.Load())
	}
}

func TestDownloadChecksumMismatchLeavesNoFile(t *testing.T) {
	files := regressionFiles(t)
	// One changed digit still parses: only the checksum can tell.
	bad := bytes.Replace(files["train_data.csv"], []byte("-4.78"), []byte("-4.77"), 1)
	srv := newServer(t, map[string][]byte{"train_data.csv": bad, "test_data.csv": files["test_data.csv"]})
	opts := isolated(t)
	opts.BaseURLs = []string{srv.URL}
	_, _, err := LoadRegression(opts)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("error %v, want a checksum mismatch", err)
	}
	if !strings.Contains(err.Error(), srv.URL+"/train_data.csv") || !strings.Contains(err.Error(), regressionTrain.sha256) {
		t.Errorf("error %q should name the URL and the expected sha256", err)
	}
	if got := filesUnder(t, opts.CacheDir); len(got) != 0 {
		t.Errorf("cache holds %v after a failed download", got)
	}
}

func TestDownloadFallsBackToMirror(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	mirror := newServer(t, regressionFiles(t))
	opts := isolated(t)
	opts.BaseURLs = []string{broken.URL, mirror.URL}
	if _, _, err := LoadRegression(opts); err != nil {
		t.Fatal(err)
	}
	if mirror.requests.Load() != 2 {
		t.Errorf("mirror got %d requests, want 2", mirror.requests.Load())
	}
}

func TestDownloadNotFound(t *testing.T) {
	srv := newServer(t, map[string][]byte{})
	opts := isolated(t)
	opts.BaseURLs = []string{srv.URL}
	_, _, err := LoadRegression(opts)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "regression/train_data.csv") {
		t.Fatalf("error %v, want not found with the 404", err)
	}
	if got := filesUnder(t, opts.CacheDir); len(got) != 0 {
		t.Errorf("cache holds %v after a failed download", got)
	}
}

func TestNoDownloadNamesPlacesLooked(t *testing.T) {
	opts := isolated(t)
	opts.NoDownload = true
	_, _, err := LoadRegression(opts)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), opts.Dir) || !strings.Contains(err.Error(), opts.CacheDir) {
		t.Fatalf("error %v, want not found naming %s and %s", err, opts.Dir, opts.CacheDir)
	}
}

// copyRegression puts the real CSVs into dir, laid out as a data directory.
func copyRegression(t *testing.T, files map[string][]byte, dir string) {
	for name, b := range files {
		p := filepath.Join(dir, "regression", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalDirComesFirstAndIsNotSecondGuessed(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	opts.NoDownload = true
	copyRegression(t, files, opts.Dir)
	copyRegression(t, map[string][]byte{"train_data.csv": []byte("garbage"), "test_data.csv": []byte("garbage")}, opts.CacheDir)
	train, _, err := LoadRegression(opts)
	if err != nil || train.Source != filepath.Join(opts.Dir, "regression", "train_data.csv") {
		t.Fatalf("load: %v from %v, want the local directory", err, train)
	}

	// A local file of one's own is used even when the cache holds the
	// course's; a local file that does not parse is an error all the same.
	copyRegression(t, files, opts.CacheDir)
	local := filepath.Join(opts.Dir, "regression", "test_data.csv")
	os.WriteFile(local, []byte("input,label\n1,2\n"), 0o644)
	opts.Log = io.Discard
	_, test, err := LoadRegression(opts)
	if err != nil || test.Source != local || test.Len() != 1 {
		t.Fatalf("load: %v, want the one row of %s", err, local)
	}
	os.WriteFile(local, []byte("input,label\n1,2,3\n"), 0o644)
	_, _, err = LoadRegression(opts)
	wantFileError(t, err, local, 2, "", "3 fields")
}

func TestEnvDataDir(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	dir := t.TempDir()
	copyRegression(t, files, dir)
	t.Setenv(EnvDataDir, dir)
	opts.Dir = ""
	opts.NoDownload = true
	train, _, err := LoadRegression(opts)
	if err != nil || !strings.HasPrefix(train.Source, dir) {
		t.Fatalf("load: %v, want the files of $%s", err, EnvDataDir)
	}
}

func TestBadCacheIsDownloadedAgain(t *testing.T) {
	files := regressionFiles(t)
	srv := newServer(t, files)
	opts := isolated(t)
	opts.BaseURLs = []string{srv.URL}
	copyRegression(t, map[string][]byte{"train_data.csv": []byte("input,label\n1,2\n")}, opts.CacheDir)
	cached := filepath.Join(opts.CacheDir, "regression", "train_data.csv")

	opts.NoDownload = true
	if _, _, err := LoadRegression(opts); !errors.Is(err, ErrChecksum) {
		t.Fatalf("with downloads off: %v, want the checksum mismatch of the cache", err)
	}
	opts.NoDownload = false
	if _, _, err := LoadRegression(opts); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(cached); !bytes.Equal(b, files["train_data.csv"]) {
		t.Error("bad cache entry not replaced")
	}
}

func TestCheck(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	copyRegression(t, map[string][]byte{"train_data.csv": files["train_data.csv"]}, opts.Dir)
	// 60000 zero labels have the right shape and the wrong checksum.
	lbl := filepath.Join(opts.CacheDir, "fashion-mnist", "train-labels-idx1-ubyte.gz")
	os.MkdirAll(filepath.Dir(lbl), 0o755)
	os.WriteFile(lbl, gzipBytes(t, idxBytes(MagicLabels, []int{60000}, make([]byte, 60000))), 0o644)
	srv := newServer(t, files)
	opts.BaseURLs = []string{srv.URL}

	st := Check(opts)
	if len(st) != 6 || srv.requests.Load() != 0 {
		t.Fatalf("%d statuses, %d requests: Check must not download", len(st), srv.requests.Load())
	}
	byName := map[string]Status{}
	for _, s := range st {
		byName[s.Name] = s
	}
	if s := byName["regression/train_data.csv"]; !s.Found || !s.Verified || s.Err != nil || s.Path != filepath.Join(opts.Dir, "regression", "train_data.csv") {
		t.Errorf("train CSV: %+v", s)
	}
	if s := byName["regression/test_data.csv"]; s.Found || s.Verified || !errors.Is(s.Err, ErrNotFound) {
		t.Errorf("test CSV: %+v", s)
	}
	if s := byName["fashion-mnist/train-labels-idx1-ubyte.gz"]; !s.Found || s.Verified || !errors.Is(s.Err, ErrChecksum) || s.Path != lbl {
		t.Errorf("train labels: %+v", s)
	}
}

func TestFashionWrongImageSize(t *testing.T) {
	opts := isolated(t)
	opts.NoDownload = true
	pixels, _ := smallImageSet(60000, 2, 2)
	p := filepath.Join(opts.Dir, "fashion-mnist", "train-images-idx3-ubyte.gz")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, gzipBytes(t, idxBytes(MagicImages, []int{60000, 2, 2}, pixels)), 0o644)
	_, _, err := LoadFashionMNIST(opts)
	var fe *FileError
	if !errors.As(err, &fe) || fe.File != p || fe.Offset != 8 || !strings.Contains(err.Error(), "images of 2x2 pixels, want 28x28") {
		t.Fatalf("error %v, want the image size of %s", err, p)
	}
}

func TestFashionDownload(t *testing.T) {
	_, paths := realFashionOptions(t)
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	srv := newServer(t, files)
	iso := isolated(t)
	iso.BaseURLs = []string{srv.URL}
	train, test, err := LoadFashionMNIST(iso)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || !strings.HasPrefix(train.Source, iso.CacheDir) {
		t.Fatalf("train %d from %s, test %d", train.Len(), train.Source, test.Len())
	}
	if got := filesUnder(t, iso.CacheDir); len(got) != 4 {
		t.Errorf("cache holds %v, want the four files", got)
	}
	for name, b := range files {
		if c, err := os.ReadFile(filepath.Join(iso.CacheDir, "fashion-mnist", name)); err != nil || !bytes.Equal(c, b) {
			t.Errorf("cached %s differs from the served file (%v)", name, err)
		}
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(EnvCacheDir, "/some/where")
	if d, _ := DefaultCacheDir(); d != "/some/where" {
		t.Errorf("with $%s: %s", EnvCacheDir, d)
	}
	t.Setenv(EnvCacheDir, "")
	wd, _ := os.Getwd()
	root, err := FindRepoRoot(wd)
	if err != nil {
		t.Fatalf("tests run inside the repository: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "lib", "data", "doc.go")); err != nil {
		t.Fatalf("repository root %s does not hold lib/data: %v", root, err)
	}
	if d, _ := DefaultCacheDir(); d != filepath.Join(root, "data", "cache") {
		t.Errorf("inside the repository: %s", d)
	}
	// Outside the repository, or under another module, the user cache is used.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	os.Mkdir(filepath.Join(other, "sub"), 0o755)
	if _, err := FindRepoRoot(filepath.Join(other, "sub")); err == nil {
		t.Error("found a repository root under another module")
	}
	t.Chdir(filepath.Join(other, "sub"))
	uc, err := os.UserCacheDir()
	if d, _ := DefaultCacheDir(); err == nil && d != filepath.Join(uc, "dlworkbench-hw1") {
		t.Errorf("outside the repository: %s", d)
	}
}

func TestMissingDataDirIsAnError(t *testing.T) {
	opts := isolated(t)
	opts.Dir = filepath.Join(opts.Dir, "typo")
	copyRegression(t, regressionFiles(t), opts.CacheDir)
	_, _, err := LoadRegression(opts)
	if err == nil || !strings.Contains(err.Error(), opts.Dir) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("error %v, want one naming the missing %s", err, opts.Dir)
	}
	for _, st := range Check(opts) {
		if st.Found || st.Err == nil || !strings.Contains(st.Err.Error(), opts.Dir) {
			t.Errorf("Check: %+v", st)
		}
	}
}
