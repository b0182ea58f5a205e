package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Environment variables read when the matching Options field is empty.
const (
	// EnvDataDir is a local data directory laid out like the project's shared data.
	EnvDataDir = "HW1_DATA_DIR"
	// EnvCacheDir is where downloads go.
	EnvCacheDir = "HW1_CACHE_DIR"
	// EnvRequireData, when set (CI sets it), turns a missing real dataset into
	// a test failure instead of a skip.
	EnvRequireData = "HW1_REQUIRE_DATA"
)

// ModulePath is the module whose root holds the default cache, data/cache.
const ModulePath = "github.com/dlworkbench/hw1"

// SystemFashionDir is where Debian's dataset-fashion-mnist package installs the files.
const SystemFashionDir = "/usr/share/datasets/fashion-mnist"

// Options say where to look for the datasets and whether to download them.
// The zero value looks everywhere and downloads when needed.
type Options struct {
	// Dir is the local data directory (a --data-dir flag); "" means $HW1_DATA_DIR.
	Dir string
	// CacheDir is where downloads are kept; "" means DefaultCacheDir().
	CacheDir string
	// NoDownload makes a file not found locally an error instead of a download.
	NoDownload bool
	// Log receives one line per file found or downloaded; nil discards them.
	Log io.Writer

	// NoSystemDir skips SystemFashionDir, so that tests can exercise the cache.
	NoSystemDir bool
	// BaseURLs, when set, replace every origin: a file is fetched from
	// base + "/" + its file name, trying each base in order (tests, private
	// mirrors).
	BaseURLs []string
	// HTTPClient is used for downloads; nil means a client with a 10-minute timeout.
	HTTPClient *http.Client
}

// dataFile is one file of a dataset: where it sits in a data directory, where
// it comes from, and how its content is verified.
type dataFile struct {
	rel    string   // path inside a data directory or the cache
	urls   []string // origins, tried in order
	sha256 string   // of the bytes (CSV) or the decompressed IDX payload
	magic  uint32   // 0 for CSV
	dims   []int    // expected IDX dimensions; 0 means any
	system bool     // also look in SystemFashionDir
}

func (f dataFile) base() string { return filepath.Base(f.rel) }

const regressionOrigin = "https://gitlab.dei.unipd.it/michieli/nnld-2021-22-lab-resources/-/raw/main/homework1/"

var (
	regressionTrain = dataFile{
		rel:    "regression/train_data.csv",
		urls:   []string{regressionOrigin + "train_data.csv"},
		sha256: "316b57eb6f7856be3416e369fd2a6d9d73da3be181bd7103e34a71d4532f3d5c",
	}
	regressionTest = dataFile{
		rel:    "regression/test_data.csv",
		urls:   []string{regressionOrigin + "test_data.csv"},
		sha256: "a053dcd27a9968e40931c9fbffbbeeb5c88d1565958f689a17a0cbef2cdb20a7",
	}
)

const (
	fashionOrigin = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	fashionMirror = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
)

func fashionFile(name, sha string, magic uint32, dims ...int) dataFile {
	return dataFile{
		rel:    "fashion-mnist/" + name,
		urls:   []string{fashionOrigin + name, fashionMirror + name},
		sha256: sha, magic: magic, dims: dims, system: true,
	}
}

var (
	fashionTrainImages = fashionFile("train-images-idx3-ubyte.gz", "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012", MagicImages, 60000, 28, 28)
	fashionTrainLabels = fashionFile("train-labels-idx1-ubyte.gz", "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7", MagicLabels, 60000)
	fashionTestImages  = fashionFile("t10k-images-idx3-ubyte.gz", "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a", MagicImages, 10000, 28, 28)
	fashionTestLabels  = fashionFile("t10k-labels-idx1-ubyte.gz", "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9", MagicLabels, 10000)
)

var allFiles = []dataFile{regressionTrain, regressionTest, fashionTrainImages, fashionTrainLabels, fashionTestImages, fashionTestLabels}

// LoadRegression returns the regression training and test sets, each of 100
// rows, located, downloaded if needed, and verified as the package doc says.
func LoadRegression(opts Options) (train, test *CSVDataset, err error) {
	if train, err = obtain(opts, regressionTrain, loadCSV); err != nil {
		return nil, nil, err
	}
	if test, err = obtain(opts, regressionTest, loadCSV); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadFashionMNIST returns Fashion-MNIST's 60,000 training and 10,000 test
// images with their labels, located, downloaded if needed, and verified as
// the package doc says.
func LoadFashionMNIST(opts Options) (train, test *Images, err error) {
	// Decompression dominates the load time: the test set decompresses on
	// another core while the training set does.
	if opts.Log != nil {
		opts.Log = &syncWriter{w: opts.Log}
	}
	var testErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		test, testErr = loadImagePair(opts, fashionTestImages, fashionTestLabels)
	}()
	train, err = loadImagePair(opts, fashionTrainImages, fashionTrainLabels)
	<-done
	if err == nil {
		err = testErr
	}
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// syncWriter serialises the log lines of concurrent loads.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

type loadedIDX struct {
	x    *IDX
	path string
}

func loadImagePair(opts Options, imgFile, lblFile dataFile) (*Images, error) {
	imgs, err := obtain(opts, imgFile, loadIDX)
	if err != nil {
		return nil, err
	}
	lbls, err := obtain(opts, lblFile, loadIDX)
	if err != nil {
		return nil, err
	}
	return NewImages(imgs.x, imgs.path, lbls.x, lbls.path)
}

// loadCSV reads and verifies one CSV file: checksum of the bytes, then rows.
func loadCSV(path string, f dataFile) (*CSVDataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := ParseCSV(bytes.NewReader(b), path)
	if err != nil {
		return nil, err
	}
	if err := checkSum(path, "file's bytes", sha256.Sum256(b), f.sha256); err != nil {
		return nil, err
	}
	return d, nil
}

// loadIDX reads and verifies one IDX file: magic and dimensions first, whose
// errors say more than a checksum mismatch, then the payload checksum.
func loadIDX(path string, f dataFile) (loadedIDX, error) {
	x, err := ReadIDXFile(path)
	if err != nil {
		return loadedIDX{}, err
	}
	if err := checkMagic(x, path, f.magic); err != nil {
		return loadedIDX{}, err
	}
	if f.magic == MagicImages && (x.Dims[1] != f.dims[1] || x.Dims[2] != f.dims[2]) {
		return loadedIDX{}, offsetError(path, 8, "dims", fmt.Errorf("images of %dx%d pixels, want %dx%d", x.Dims[1], x.Dims[2], f.dims[1], f.dims[2]))
	}
	if x.Dims[0] != f.dims[0] {
		return loadedIDX{}, offsetError(path, 4, "dims", fmt.Errorf("%d items, want %d", x.Dims[0], f.dims[0]))
	}
	if err := checkSum(path, "decompressed payload", x.PayloadSHA256, f.sha256); err != nil {
		return loadedIDX{}, err
	}
	return loadedIDX{x: x, path: path}, nil
}

func checkSum(path, what string, got [32]byte, want string) error {
	if g := hex.EncodeToString(got[:]); g != want {
		return &FileError{File: path, Offset: -1, Err: fmt.Errorf("%w of the %s: got %s, want %s", ErrChecksum, what, g, want)}
	}
	return nil
}

// location is one place a file may be found.
type location struct {
	path  string
	cache bool
}

func (o Options) dataDir() string {
	if o.Dir != "" {
		return o.Dir
	}
	return os.Getenv(EnvDataDir)
}

func (o Options) cacheDir() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	return DefaultCacheDir()
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// locations lists where f may be, in the order they are tried.
func (o Options) locations(f dataFile) ([]location, error) {
	var locs []location
	if d := o.dataDir(); d != "" {
		// A mistyped --data-dir must not quietly fall back to the cache.
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("data directory %s: not a directory (from --data-dir or $%s)", d, EnvDataDir)
		}
		locs = append(locs, location{path: filepath.Join(d, filepath.FromSlash(f.rel))})
	}
	if f.system && !o.NoSystemDir {
		locs = append(locs, location{path: filepath.Join(SystemFashionDir, f.base())})
	}
	c, err := o.cacheDir()
	if err != nil {
		return locs, fmt.Errorf("no cache directory: %w", err)
	}
	locs = append(locs, location{path: filepath.Join(c, filepath.FromSlash(f.rel)), cache: true})
	return locs, nil
}

// obtain finds f, loads it with load, and downloads it into the cache when it
// is nowhere and downloads are allowed.
func obtain[T any](o Options, f dataFile, load func(string, dataFile) (T, error)) (T, error) {
	var zero T
	locs, cacheErr := o.locations(f)
	if locs == nil {
		return zero, fmt.Errorf("%s: %w", f.rel, cacheErr)
	}
	var looked []string
	for _, loc := range locs {
		looked = append(looked, loc.path)
		if _, err := os.Stat(loc.path); err != nil {
			continue
		}
		v, err := load(loc.path, f)
		if err == nil {
			o.logf("data: %s: %s", f.rel, loc.path)
			return v, nil
		}
		if !loc.cache || o.NoDownload {
			return zero, err
		}
		o.logf("data: %s: cached copy is bad (%v), downloading again", f.rel, err)
	}
	if cacheErr != nil {
		return zero, fmt.Errorf("%s: %w", f.rel, cacheErr)
	}
	hint := ""
	if f.system {
		hint = ", or apt-get install dataset-fashion-mnist"
	}
	if o.NoDownload {
		return zero, fmt.Errorf("%s: %w in %s, and downloads are off (give a data directory, --data-dir or $%s%s)", f.rel, ErrNotFound, strings.Join(looked, ", "), EnvDataDir, hint)
	}
	dest := locs[len(locs)-1].path
	var errs downloadErrors
	for _, url := range o.urls(f) {
		v, err := download(o, url, dest, f, load)
		if err == nil {
			return v, nil
		}
		o.logf("data: %s: %v", f.rel, err)
		errs = append(errs, err)
	}
	return zero, fmt.Errorf("%s: %w in %s, and %w", f.rel, ErrNotFound, strings.Join(looked, ", "), errs)
}

// downloadErrors are the failures of each origin, in order, on one line.
type downloadErrors []error

func (d downloadErrors) Error() string {
	msgs := make([]string, len(d))
	for i, e := range d {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (d downloadErrors) Unwrap() []error { return d }

func (o Options) urls(f dataFile) []string {
	if len(o.BaseURLs) == 0 {
		return f.urls
	}
	urls := make([]string, len(o.BaseURLs))
	for i, b := range o.BaseURLs {
		urls[i] = strings.TrimSuffix(b, "/") + "/" + f.base()
	}
	return urls
}

// download fetches url into a temporary file next to dest, verifies it with
// load, and only then renames it to dest, so that the cache never holds a
// partial or unverified file.
func download[T any](o Options, url, dest string, f dataFile, load func(string, dataFile) (T, error)) (T, error) {
	var zero T
	o.logf("data: %s: downloading %s", f.rel, url)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return zero, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*.tmp")
	if err != nil {
		return zero, err
	}
	tmpPath := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmpPath)
		}
	}()
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := client.Get(url)
	if err != nil {
		return zero, fmt.Errorf("download %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return zero, fmt.Errorf("download %s: HTTP %s", url, resp.Status)
	}
	w := bufio.NewWriterSize(tmp, 1<<16)
	n, err := io.Copy(w, resp.Body)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return zero, fmt.Errorf("download %s: after %d bytes: %w", url, n, err)
	}
	v, err := load(tmpPath, f)
	if err != nil {
		// The temporary file is gone when the caller reads this: name the URL.
		var fe *FileError
		if errors.As(err, &fe) && fe.File == tmpPath {
			fe.File = url
			return zero, fmt.Errorf("download failed: %w", err)
		}
		return zero, fmt.Errorf("download %s: %w", url, err)
	}
	if err := os.Rename(tmpPath, dest); err != nil {
		return zero, err
	}
	keep = true
	o.logf("data: %s: %s (%d bytes, verified)", f.rel, dest, n)
	// Loaded values name the temporary file; reload from dest is cheap for
	// CSV and costly for IDX, so only the names are fixed.
	return renameSource(v, tmpPath, dest), nil
}

func renameSource[T any](v T, from, to string) T {
	switch x := any(v).(type) {
	case *CSVDataset:
		if x.Source == from {
			x.Source = to
		}
	case loadedIDX:
		if x.path == from {
			x.path = to
			return any(x).(T)
		}
	}
	return v
}

// DefaultCacheDir is $HW1_CACHE_DIR, else data/cache at the root of the
// repository when the working directory is inside it, else
// os.UserCacheDir()/dlworkbench-hw1.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	if wd, err := os.Getwd(); err == nil {
		if root, err := FindRepoRoot(wd); err == nil {
			return filepath.Join(root, "data", "cache"), nil
		}
	}
	uc, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set $%s: %w", EnvCacheDir, err)
	}
	return filepath.Join(uc, "dlworkbench-hw1"), nil
}

// FindRepoRoot walks up from start to the directory whose go.mod declares
// ModulePath.
func FindRepoRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && declaresModule(b, ModulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above %s", ModulePath, start)
		}
		dir = parent
	}
}

func declaresModule(gomod []byte, module string) bool {
	for _, line := range strings.Split(string(gomod), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == module
		}
	}
	return false
}

// Status is what `hw1 doctor` prints for each dataset file.
type Status struct {
	// Name is the file's path in a data directory, e.g. "regression/train_data.csv".
	Name string
	// Path is where it was found ("" when not found).
	Path string
	// Found says the file exists in one of the places looked at.
	Found bool
	// Verified says it parsed and its checksum matched.
	Verified bool
	// Err says why it is not found or not verified.
	Err error
}

// Check locates and verifies every file of both datasets, as the loaders
// would, without downloading.
func Check(opts Options) []Status {
	opts.NoDownload = true
	out := make([]Status, 0, len(allFiles))
	for _, f := range allFiles {
		st := Status{Name: f.rel}
		locs, cacheErr := opts.locations(f)
		for _, loc := range locs {
			if _, err := os.Stat(loc.path); err == nil {
				st.Path, st.Found = loc.path, true
				break
			}
		}
		switch {
		case st.Found && f.magic == 0:
			_, st.Err = loadCSV(st.Path, f)
		case st.Found:
			_, st.Err = loadIDX(st.Path, f)
		case cacheErr != nil:
			st.Err = cacheErr
		default:
			var looked []string
			for _, loc := range locs {
				looked = append(looked, loc.path)
			}
			st.Err = fmt.Errorf("%w in %s", ErrNotFound, strings.Join(looked, ", "))
		}
		st.Verified = st.Found && st.Err == nil
		out = append(out, st)
	}
	return out
}
