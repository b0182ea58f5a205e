package data

import (
	"errors"
	"fmt"
)

// ErrChecksum is wrapped by every checksum mismatch, so that callers can tell a
// corrupt or different file from a missing or malformed one.
var ErrChecksum = errors.New("sha256 mismatch")

// ErrNotFound is wrapped when a dataset file is in none of the places looked
// at and downloading is off or failed.
var ErrNotFound = errors.New("dataset file not found")

// FileError is a problem with the content of one data file, located as
// precisely as its format allows: a line and field for CSV, a byte offset in
// the decompressed stream for IDX.
type FileError struct {
	// File is the path (or the name given to a reader).
	File string
	// Line is 1-based; 0 when the format has no lines.
	Line int
	// Field is the CSV column ("input", "label") or IDX part ("magic", "dims"); may be empty.
	Field string
	// Offset is a byte offset in the (decompressed) stream; -1 when not applicable.
	Offset int64
	// Err is what is wrong there.
	Err error
}

// Error reads "FILE line N field \"F\" offset O: what is wrong", with the
// parts that apply.
func (e *FileError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Field != "" {
		s += fmt.Sprintf(" field %q", e.Field)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" offset %d", e.Offset)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

func lineError(file string, line int, field string, format string, args ...any) error {
	return &FileError{File: file, Line: line, Field: field, Offset: -1, Err: fmt.Errorf(format, args...)}
}

func offsetError(file string, offset int64, field string, err error) error {
	return &FileError{File: file, Offset: offset, Field: field, Err: err}
}
