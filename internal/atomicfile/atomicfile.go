// Package atomicfile writes files so that a reader, or a run interrupted at
// any moment, sees the old file or the new one, never half of one: the data
// go to a temporary file in the same folder, are synced, and the temporary
// file is renamed over the destination.
//
// It is the one place every package of the project writes its outputs
// through (results, figures, checkpoints, study reports).
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Perm is the mode of the files the project writes: results are meant to be
// shared (os.CreateTemp alone would make them private).
const Perm os.FileMode = 0o644

// Write writes what write produces to path, atomically, with mode Perm.
func Write(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	name := tmp.Name()
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(Perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// WriteBytes writes data to path, atomically, with mode Perm.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader(data))
		return err
	})
}
