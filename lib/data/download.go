package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

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
func download[T any](o Options, url, dest string, f dataFile, load loader[T]) (T, error) {
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
	// Not own: a download is the published file or nothing.
	v, _, err := load(tmpPath, f, false)
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
