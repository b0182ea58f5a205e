package data

import (
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
	// Log receives one line per file found or downloaded, and the warning
	// that a file of the data directory is used as user data (one line,
	// instead of the found line). nil discards the lines but sends warnings
	// to os.Stderr, so that data of one's own is never used unannounced.
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
	// valuesSHA256 is the valuesDigest of the published CSV, so that a copy
	// saved with other line ends still counts as the course's;
	// TestRealRegression recomputes it from the published file.
	valuesSHA256 string
	magic        uint32 // 0 for CSV
	dims         []int  // expected IDX dimensions; 0 means any
	system       bool   // also look in SystemFashionDir
	owner        string // whose file it is, for the user-data warning
}

func (f dataFile) base() string { return filepath.Base(f.rel) }

const regressionOrigin = "https://gitlab.dei.unipd.it/michieli/nnld-2021-22-lab-resources/-/raw/main/homework1/"

var (
	regressionTrain = dataFile{
		rel:          "regression/train_data.csv",
		urls:         []string{regressionOrigin + "train_data.csv"},
		sha256:       "316b57eb6f7856be3416e369fd2a6d9d73da3be181bd7103e34a71d4532f3d5c",
		valuesSHA256: "461c14a1100f9df4d2c8824d7df17f49cf7eddc2e60139bd6c3a128bea6c0e98",
		owner:        "the course's",
	}
	regressionTest = dataFile{
		rel:          "regression/test_data.csv",
		urls:         []string{regressionOrigin + "test_data.csv"},
		sha256:       "a053dcd27a9968e40931c9fbffbbeeb5c88d1565958f689a17a0cbef2cdb20a7",
		valuesSHA256: "ce45854f5f0d5157eb018eba85934d36515a410e35c6981e1791a3e285505bf4",
		owner:        "the course's",
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
		owner: "Fashion-MNIST's",
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
// rows (or a data directory's own, see the package doc), located, downloaded
// if needed, and verified as the package doc says.
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

// provenance is what a loaded file is to the dataset it stands for.
type provenance int

const (
	// published: the checksum of the data README matches.
	published provenance = iota
	// publishedValues: a CSV with the published values, formatted otherwise
	// (line ends, BOM, blank lines), as editors and spreadsheets save it.
	publishedValues
	// userData: a file of the data directory that parses but is not the
	// dataset's; it is used, with a warning.
	userData
)

// A loader reads the file at path as f. own says the file may be the user's
// own data (it is in the data directory); elsewhere (the system directory,
// the cache, a download) it must be f's published file.
type loader[T any] func(path string, f dataFile, own bool) (T, provenance, error)

// loadCSV reads one CSV file: rows first, so that a malformed file is told by
// its line, then the checksum of the bytes, else of the values.
func loadCSV(path string, f dataFile, own bool) (*CSVDataset, provenance, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	d, err := ParseCSV(bytes.NewReader(b), path)
	if err != nil {
		return nil, 0, err
	}
	if hexSum(sha256.Sum256(b)) == f.sha256 {
		return d, published, nil
	}
	// The cache and downloads are kept byte for byte as published, so that
	// only a file the user chose is ever judged by its values.
	if !own {
		return nil, 0, checksumError(path, "file's bytes", sha256.Sum256(b), f.sha256)
	}
	if hexSum(valuesDigest(d)) == f.valuesSHA256 {
		return d, publishedValues, nil
	}
	return d, userData, nil
}

// loadIDX reads one IDX file and checks, most specific first: the magic (in
// the reader, before the dimensions it governs), the image size, the labels'
// range, then the number of items and the payload checksum, which a file of
// one's own need not match.
func loadIDX(path string, f dataFile, own bool) (loadedIDX, provenance, error) {
	x, err := readIDXFile(path, f.magic)
	if err != nil {
		return loadedIDX{}, 0, err
	}
	if f.magic == MagicImages && (x.Dims[1] != f.dims[1] || x.Dims[2] != f.dims[2]) {
		return loadedIDX{}, 0, offsetError(path, 8, "dims", fmt.Errorf("images of %dx%d pixels, want %dx%d", x.Dims[1], x.Dims[2], f.dims[1], f.dims[2]))
	}
	if f.magic == MagicLabels {
		if err := checkLabels(x, path); err != nil {
			return loadedIDX{}, 0, err
		}
	}
	v := loadedIDX{x: x, path: path}
	if hexSum(x.PayloadSHA256) == f.sha256 {
		return v, published, nil
	}
	if own {
		return v, userData, nil
	}
	if x.Dims[0] != f.dims[0] {
		return loadedIDX{}, 0, offsetError(path, 4, "dims", fmt.Errorf("%d items, want %d", x.Dims[0], f.dims[0]))
	}
	return loadedIDX{}, 0, checksumError(path, "decompressed payload", x.PayloadSHA256, f.sha256)
}

func hexSum(sum [32]byte) string { return hex.EncodeToString(sum[:]) }

func checksumError(path, what string, got [32]byte, want string) error {
	return &FileError{File: path, Offset: -1, Err: fmt.Errorf("%w of the %s: got %s, want %s", ErrChecksum, what, hexSum(got), want)}
}

// location is one place a file may be found.
type location struct {
	path  string
	own   bool // in the data directory: the user's choice
	cache bool
}

// strictHint completes a checksum mismatch in a place that only ever holds
// the published files, for the user who put a file of their own there.
func (l location) strictHint(err error) error {
	if l.own || !errors.Is(err, ErrChecksum) {
		return err
	}
	where := "the system's copy is damaged: reinstall dataset-fashion-mnist"
	if l.cache {
		where = "the cache holds verified downloads only: delete the file to download it again"
	}
	return fmt.Errorf("%w (%s; data of your own goes in a data directory, --data-dir or $%s)", err, where, EnvDataDir)
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

// warnf is logf for what must not go unseen: without a log, standard error.
func (o Options) warnf(format string, args ...any) {
	w := o.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, format+"\n", args...)
}

// told logs where f was found, as what.
func (o Options) told(f dataFile, path string, p provenance) {
	switch p {
	case publishedValues:
		o.logf("data: %s: %s (%s values; only its formatting differs from the published file)", f.rel, path, f.owner)
	case userData:
		what := "payload"
		if f.magic == 0 {
			what = "values"
		}
		o.warnf("data: warning: %s: using %s as user data: it is not %s file (its %s differ), so the homework's reference results do not apply", f.rel, path, f.owner, what)
	default:
		o.logf("data: %s: %s", f.rel, path)
	}
}

// locations lists where f may be, in the order they are tried. cacheErr says
// why there is no cache (the other places are still listed); err is a data
// directory that is not one, which stops the search.
func (o Options) locations(f dataFile) (locs []location, cacheErr, err error) {
	if d := o.dataDir(); d != "" {
		// A mistyped --data-dir must not quietly fall back to the cache.
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("data directory %s: not a directory (from --data-dir or $%s)", d, EnvDataDir)
		}
		locs = append(locs, location{path: filepath.Join(d, filepath.FromSlash(f.rel)), own: true})
	}
	if f.system && !o.NoSystemDir {
		locs = append(locs, location{path: filepath.Join(SystemFashionDir, f.base())})
	}
	c, err := o.cacheDir()
	if err != nil {
		// DefaultCacheDir's error already says "no cache directory".
		return locs, err, nil
	}
	locs = append(locs, location{path: filepath.Join(c, filepath.FromSlash(f.rel)), cache: true})
	return locs, nil, nil
}

// obtain finds f, loads it with load, and downloads it into the cache when it
// is nowhere and downloads are allowed.
func obtain[T any](o Options, f dataFile, load loader[T]) (T, error) {
	var zero T
	locs, cacheErr, err := o.locations(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", f.rel, err)
	}
	var looked []string
	for _, loc := range locs {
		looked = append(looked, loc.path)
		if _, err := os.Stat(loc.path); err != nil {
			continue
		}
		v, p, err := load(loc.path, f, loc.own)
		if err == nil {
			o.told(f, loc.path, p)
			return v, nil
		}
		if !loc.cache || o.NoDownload {
			return zero, loc.strictHint(err)
		}
		o.logf("data: %s: cached copy is bad (%v), downloading again", f.rel, err)
	}
	if cacheErr != nil {
		return zero, fmt.Errorf("%s: %w", f.rel, notFound(looked, cacheErr))
	}
	hint := ""
	if f.system {
		hint = ", or apt-get install dataset-fashion-mnist"
	}
	if o.NoDownload {
		return zero, fmt.Errorf("%s: %w, and downloads are off (give a data directory, --data-dir or $%s%s)", f.rel, notFound(looked, nil), EnvDataDir, hint)
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
	return zero, fmt.Errorf("%s: %w, and %w", f.rel, notFound(looked, nil), errs)
}

// notFound wraps ErrNotFound with the places looked at and, when there is no
// cache directory, why not.
func notFound(looked []string, cacheErr error) error {
	where := ": no data directory given (--data-dir or $" + EnvDataDir + ")"
	if len(looked) > 0 {
		where = " in " + strings.Join(looked, ", ")
	}
	if cacheErr != nil {
		return fmt.Errorf("%w%s, and %w", ErrNotFound, where, cacheErr)
	}
	return fmt.Errorf("%w%s", ErrNotFound, where)
}
