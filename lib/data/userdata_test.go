package data

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// putFile writes b at rel inside dir, creating the folders, and returns its path.
func putFile(t *testing.T, dir, rel string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// linesWith are the lines of log that contain word.
func linesWith(log, word string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return out
}

// sameRows fails unless got holds exactly the rows of want.
func sameRows(t *testing.T, got, want *CSVDataset) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%d rows, want %d", got.Len(), want.Len())
	}
	for i := range want.Inputs {
		if got.Inputs[i] != want.Inputs[i] || got.Labels[i] != want.Labels[i] {
			t.Fatalf("row %d: (%v, %v), want (%v, %v)", i, got.Inputs[i], got.Labels[i], want.Inputs[i], want.Labels[i])
		}
	}
}

func statusOf(t *testing.T, opts Options, name string) Status {
	t.Helper()
	for _, s := range Check(opts) {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("Check has no status for %s", name)
	return Status{}
}

// The course's CSVs saved by another editor keep the course's values, and so
// are the course's files: no warning, verified.
func TestCourseCSVReformattedIsTheCourses(t *testing.T) {
	files := regressionFiles(t)
	crlf := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }
	variants := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"CRLF", crlf},
		{"CR", func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r")) }},
		{"BOM and CRLF", func(b []byte) []byte { return append([]byte("\uFEFF"), crlf(b)...) }},
		{"trailing blank lines", func(b []byte) []byte { return append(bytes.Clone(b), "\n\n\n"...) }},
		{"CRLF and trailing blank lines with spaces", func(b []byte) []byte { return append(crlf(b), "\r\n \r\n\t\r\n"...) }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			opts := isolated(t)
			opts.NoDownload = true
			want := map[string]*CSVDataset{}
			for name, b := range files {
				d, err := ParseCSV(bytes.NewReader(b), name)
				if err != nil {
					t.Fatal(err)
				}
				want[name] = d
				edited := v.edit(b)
				if bytes.Equal(edited, b) {
					t.Fatal("the variant does not change the file")
				}
				putFile(t, opts.Dir, "regression/"+name, edited)
			}
			var log bytes.Buffer
			opts.Log = &log
			train, test, err := LoadRegression(opts)
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, train, want["train_data.csv"])
			sameRows(t, test, want["test_data.csv"])
			if w := linesWith(log.String(), "user data"); len(w) != 0 {
				t.Errorf("the course's values are reported as user data: %q", w)
			}
			if w := linesWith(log.String(), "warning"); len(w) != 0 {
				t.Errorf("warnings for the course's values: %q", w)
			}
			for _, f := range []dataFile{regressionTrain, regressionTest} {
				if s := statusOf(t, opts, f.rel); !s.Verified || s.Err != nil {
					t.Errorf("Check: %+v, want verified", s)
				}
			}
		})
	}
}

// A file of one's own in the data directory is used, with one warning that
// names it; the other file, the course's, gets none.
func TestEditedLocalCSVIsUserData(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	opts.NoDownload = true
	edited := bytes.Replace(files["train_data.csv"], []byte("-4.787870188090535"), []byte("-4.777870188090535"), 1)
	local := putFile(t, opts.Dir, regressionTrain.rel, edited)
	putFile(t, opts.Dir, regressionTest.rel, files["test_data.csv"])
	// The cache's good copy must not replace the user's file.
	copyRegression(t, files, opts.CacheDir)
	var log bytes.Buffer
	opts.Log = &log
	train, _, err := LoadRegression(opts)
	if err != nil {
		t.Fatal(err)
	}
	if train.Source != local || train.Inputs[0] != -4.777870188090535 {
		t.Fatalf("loaded %s with first input %v, want the user's file", train.Source, train.Inputs[0])
	}
	w := linesWith(log.String(), "user data")
	if len(w) != 1 || !strings.Contains(w[0], local) {
		t.Fatalf("want one line naming %s as user data, log:\n%s", local, log.String())
	}
	if n := len(linesWith(log.String(), regressionTrain.rel)); n != 1 {
		t.Errorf("%d lines about %s, want the warning only:\n%s", n, regressionTrain.rel, log.String())
	}

	s := statusOf(t, opts, regressionTrain.rel)
	if !s.Found || s.Verified || !s.UserData || s.Err != nil || s.Path != local {
		t.Errorf("Check: %+v, want found, user data, not verified, no error", s)
	}
	if s := statusOf(t, opts, regressionTest.rel); !s.Verified || s.UserData {
		t.Errorf("Check of the course's test file: %+v", s)
	}
}

// Without a log the warning still reaches the user, on standard error.
func TestUserDataWarningWithoutLog(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	opts.NoDownload = true
	edited := append([]byte("input,label\n1,2\n"), files["train_data.csv"][len("input,label\n"):]...)
	local := putFile(t, opts.Dir, regressionTrain.rel, edited)
	putFile(t, opts.Dir, regressionTest.rel, files["test_data.csv"])
	stderr := captureStderr(t, func() {
		if _, _, err := LoadRegression(opts); err != nil {
			t.Error(err)
		}
	})
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "user data") || !strings.Contains(lines[0], local) {
		t.Fatalf("standard error %q, want one warning naming %s", stderr, local)
	}
}

// captureStderr runs f with os.Stderr sent to a pipe and returns what f wrote.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	func() {
		defer func() { os.Stderr = saved }()
		f()
	}()
	w.Close()
	b := <-done
	r.Close()
	return string(b)
}

// A local file that does not parse is an error naming its line, not user
// data, and is not replaced by the cache's copy.
func TestLocalCSVThatDoesNotParse(t *testing.T) {
	files := regressionFiles(t)
	opts := isolated(t)
	opts.NoDownload = true
	copyRegression(t, files, opts.CacheDir)
	lines := strings.Split(string(files["train_data.csv"]), "\n")
	lines[4] = strings.Replace(lines[4], ",", ",x", 1)
	local := putFile(t, opts.Dir, regressionTrain.rel, []byte(strings.Join(lines, "\r\n")))
	var log bytes.Buffer
	opts.Log = &log
	_, _, err := LoadRegression(opts)
	wantFileError(t, err, local, 5, "label", "is not a number")
	if errors.Is(err, ErrChecksum) || strings.Contains(log.String(), "user data") {
		t.Errorf("error %v, log %q: a parse error, not a checksum or user data", err, log.String())
	}
}

// The cache holds verified downloads only: a file there that is not the
// course's byte for byte is corrupt, never user data.
func TestCacheIsNeverUserData(t *testing.T) {
	files := regressionFiles(t)
	for name, edit := range map[string]func([]byte) []byte{
		"edited value": func(b []byte) []byte { return bytes.Replace(b, []byte("-4.78"), []byte("-4.77"), 1) },
		"CRLF":         func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) },
	} {
		t.Run(name, func(t *testing.T) {
			opts := isolated(t)
			opts.NoDownload = true
			copyRegression(t, files, opts.CacheDir)
			cached := putFile(t, opts.CacheDir, regressionTrain.rel, edit(files["train_data.csv"]))
			var log bytes.Buffer
			opts.Log = &log
			_, _, err := LoadRegression(opts)
			if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), cached) || !strings.Contains(err.Error(), "--data-dir") {
				t.Fatalf("error %v, want a checksum mismatch naming %s and where data of one's own goes", err, cached)
			}
			if strings.Contains(log.String(), "user data") {
				t.Errorf("log calls the cache user data:\n%s", log.String())
			}
		})
	}
}

// A download that serves the course's values with other line ends is not the
// published file: downloads are verified byte for byte.
func TestDownloadIsVerifiedByteForByte(t *testing.T) {
	files := regressionFiles(t)
	crlf := bytes.ReplaceAll(files["train_data.csv"], []byte("\n"), []byte("\r\n"))
	srv := newServer(t, map[string][]byte{"train_data.csv": crlf, "test_data.csv": files["test_data.csv"]})
	opts := isolated(t)
	opts.BaseURLs = []string{srv.URL}
	if _, _, err := LoadRegression(opts); !errors.Is(err, ErrChecksum) {
		t.Fatalf("error %v, want a checksum mismatch", err)
	}
	if got := filesUnder(t, opts.CacheDir); len(got) != 0 {
		t.Errorf("cache holds %v after a download that does not verify", got)
	}
}

// fashionLabels is a labels file of n labels i%10, gzip-compressed.
func fashionLabels(t *testing.T, magic uint32, n int, edit func([]byte)) []byte {
	_, labels := smallImageSet(n, 0, 0)
	if edit != nil {
		edit(labels)
	}
	return gzipBytes(t, idxBytes(magic, []int{n}, labels))
}

// The expected magic is checked before anything it decides, so that a labels
// file with the images' magic is reported as such, wherever it is.
func TestIDXWrongMagicIsNamed(t *testing.T) {
	for _, where := range []string{"data directory", "cache"} {
		t.Run(where, func(t *testing.T) {
			opts := isolated(t)
			dir := opts.Dir
			if where == "cache" {
				dir = opts.CacheDir
			}
			lbl := putFile(t, dir, fashionTrainLabels.rel, fashionLabels(t, MagicImages, 60000, nil))
			// 16 bytes: the images' header with the labels' magic.
			img := putFile(t, dir, fashionTrainImages.rel, gzipBytes(t, idxBytes(MagicLabels, []int{60000, 28, 28}, nil)))
			s := statusOf(t, opts, fashionTrainLabels.rel)
			wantOffsetError(t, s.Err, lbl, 0, "IDX magic 0x00000803, want 0x00000801 (labels)")
			if strings.Contains(s.Err.Error(), "announce") {
				t.Errorf("error %q speaks of the dimensions", s.Err)
			}
			s = statusOf(t, opts, fashionTrainImages.rel)
			wantOffsetError(t, s.Err, img, 0, "IDX magic 0x00000801, want 0x00000803 (images)")
		})
	}
}

// A label out of range is told with its offset and value, before the checksum
// mismatch it also causes.
func TestLabelOutOfRangeNamesOffset(t *testing.T) {
	for _, where := range []string{"data directory", "cache"} {
		t.Run(where, func(t *testing.T) {
			opts := isolated(t)
			dir := opts.Dir
			if where == "cache" {
				dir = opts.CacheDir
			}
			lbl := putFile(t, dir, fashionTestLabels.rel, fashionLabels(t, MagicLabels, 10000, func(l []byte) { l[7] = 12 }))
			s := statusOf(t, opts, fashionTestLabels.rel)
			wantOffsetError(t, s.Err, lbl, 8+7, "label 12 of image 7 is out of range 0..9")
			if errors.Is(s.Err, ErrChecksum) {
				t.Errorf("error %q is a checksum mismatch", s.Err)
			}
		})
	}
}

// Fashion-MNIST files of one's own in the data directory are user data too,
// of any number of items; in the cache they are corrupt.
func TestLocalIDXIsUserData(t *testing.T) {
	opts := isolated(t)
	shuffled := func(l []byte) { l[0], l[1] = l[1], l[0] }
	local := putFile(t, opts.Dir, fashionTrainLabels.rel, fashionLabels(t, MagicLabels, 60000, shuffled))
	putFile(t, opts.Dir, fashionTestLabels.rel, fashionLabels(t, MagicLabels, 500, nil))
	cached := putFile(t, opts.CacheDir, fashionTestImages.rel, gzipBytes(t, idxBytes(MagicImages, []int{10000, 28, 28}, make([]byte, 10000*28*28))))
	for _, name := range []string{fashionTrainLabels.rel, fashionTestLabels.rel} {
		if s := statusOf(t, opts, name); !s.Found || s.Verified || !s.UserData || s.Err != nil {
			t.Errorf("%s: %+v, want user data", name, s)
		}
	}
	if s := statusOf(t, opts, fashionTestImages.rel); s.UserData || !errors.Is(s.Err, ErrChecksum) || s.Path != cached {
		t.Errorf("cached images: %+v, want a checksum mismatch", s)
	}
	var log bytes.Buffer
	got, err := obtain(Options{Dir: opts.Dir, CacheDir: opts.CacheDir, NoSystemDir: true, NoDownload: true, Log: &log}, fashionTrainLabels, loadIDX)
	if err != nil || got.path != local || got.x.Data[0] != 1 {
		t.Fatalf("obtain: %v from %v", err, got.path)
	}
	if w := linesWith(log.String(), "user data"); len(w) != 1 || !strings.Contains(w[0], local) {
		t.Errorf("want one warning naming %s, log:\n%s", local, log.String())
	}
}

// Without $HOME there is no cache directory; the error says so once.
func TestNoCacheDirectorySaysItOnce(t *testing.T) {
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvCacheDir, "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Chdir(t.TempDir())
	_, _, err := LoadRegression(Options{NoSystemDir: true})
	if err == nil || strings.Count(err.Error(), "no cache directory") != 1 || !strings.Contains(err.Error(), EnvCacheDir) {
		t.Fatalf("error %v, want one mention of the missing cache directory and $%s", err, EnvCacheDir)
	}
	for _, s := range Check(Options{NoSystemDir: true}) {
		if s.Err == nil || strings.Count(s.Err.Error(), "no cache directory") != 1 {
			t.Errorf("Check: %s: %v", s.Name, s.Err)
		}
	}
}
