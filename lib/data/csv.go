package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// CSVHeader is the only header accepted by ParseCSV.
const CSVHeader = "input,label"

// maxCSVLine bounds one line so that a corrupt file cannot make the parser
// buffer it whole.
const maxCSVLine = 1 << 16

// CSVDataset is the seed's CSV_dataset: the regression points, one scalar
// input and one scalar label per row.
type CSVDataset struct {
	Inputs, Labels []float64
	// Source is the file the rows came from ("" when built in memory).
	Source string
}

// Len is the number of rows.
func (d *CSVDataset) Len() int { return len(d.Inputs) }

// Slice returns a copy of the rows at indices, in that order. It panics on an
// index out of range, like a slice expression, because indices come from this
// package's splits, not from input files.
func (d *CSVDataset) Slice(indices []int) *CSVDataset {
	out := &CSVDataset{
		Inputs: make([]float64, len(indices)),
		Labels: make([]float64, len(indices)),
		Source: d.Source,
	}
	for i, j := range indices {
		out.Inputs[i] = d.Inputs[j]
		out.Labels[i] = d.Labels[j]
	}
	return out
}

// WriteCSV writes the rows with the header CSVHeader, in the shortest form
// that ParseCSV reads back to the same float64 values.
func (d *CSVDataset) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(CSVHeader + "\n")
	var buf []byte
	for i := range d.Inputs {
		buf = strconv.AppendFloat(buf[:0], d.Inputs[i], 'g', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, d.Labels[i], 'g', -1, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}

// ReadCSV reads a regression CSV file (see ParseCSV).
func ReadCSV(path string) (*CSVDataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ParseCSV(f, path)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ParseCSV reads the header "input,label" then rows of two finite float64
// values. Blank lines are ignored; a UTF-8 byte-order mark and LF, CRLF or CR
// line ends are accepted. name is used in errors and as Source. At least one
// row is required. Errors are *FileError naming the line and, where it
// applies, the field.
func ParseCSV(r io.Reader, name string) (*CSVDataset, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxCSVLine)
	sc.Split(scanLines)
	d := &CSVDataset{Source: name}
	fields := strings.Split(CSVHeader, ",")
	line := 0
	sawHeader := false
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		s := strings.TrimSpace(string(text))
		if s == "" {
			continue
		}
		if !sawHeader {
			if err := checkHeader(s, name, line); err != nil {
				return nil, err
			}
			sawHeader = true
			continue
		}
		if isHeader(s) {
			return nil, lineError(name, line, "", "duplicate header line %q", s)
		}
		cols := strings.Split(s, ",")
		if len(cols) != len(fields) {
			return nil, lineError(name, line, "", "%d fields, want %d (%s)", len(cols), len(fields), CSVHeader)
		}
		var vals [2]float64
		for i, c := range cols {
			v, err := parseFinite(strings.TrimSpace(c))
			if err != nil {
				return nil, lineError(name, line, fields[i], "%v", err)
			}
			vals[i] = v
		}
		d.Inputs = append(d.Inputs, vals[0])
		d.Labels = append(d.Labels, vals[1])
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, lineError(name, line+1, "", "line longer than %d bytes", maxCSVLine)
		}
		return nil, lineError(name, line+1, "", "read: %w", err)
	}
	if !sawHeader {
		return nil, lineError(name, 1, "", "empty file: want header %q", CSVHeader)
	}
	if d.Len() == 0 {
		return nil, lineError(name, line+1, "", "no data rows after header")
	}
	return d, nil
}

// scanLines splits at "\n", "\r\n" or a lone "\r", so that a file saved
// with any of the three line ends reads as the same rows on the same line
// numbers (bufio.ScanLines would read a CR-only file as one line).
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return len(data), data, nil
	case i < 0:
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data) && data[i+1] == '\n':
		return i + 2, data[:i], nil
	case i+1 == len(data) && !atEOF:
		// The '\n' of a "\r\n" may be in the next read.
		return 0, nil, nil
	}
	return i + 1, data[:i], nil
}

// valuesDigest is the sha256 of the rows as big-endian float64 bits, input
// then label, row after row: what a file's formatting (line ends, BOM, blank
// lines, spaces, number spelling) cannot change.
func valuesDigest(d *CSVDataset) [32]byte {
	h := sha256.New()
	var b [8]byte
	for i := range d.Inputs {
		binary.BigEndian.PutUint64(b[:], math.Float64bits(d.Inputs[i]))
		h.Write(b[:])
		binary.BigEndian.PutUint64(b[:], math.Float64bits(d.Labels[i]))
		h.Write(b[:])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

func isHeader(s string) bool {
	cols := strings.Split(s, ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	return strings.Join(cols, ",") == CSVHeader
}

func checkHeader(s, name string, line int) error {
	if isHeader(s) {
		return nil
	}
	// A first line of numbers means the header was left out, which deserves a
	// clearer message than "wrong header".
	cols := strings.Split(s, ",")
	numeric := true
	for _, c := range cols {
		if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err != nil {
			numeric = false
			break
		}
	}
	if numeric {
		return lineError(name, line, "", "missing header: got data %q, want header %q", s, CSVHeader)
	}
	return lineError(name, line, "", "wrong header %q, want %q", s, CSVHeader)
}

func parseFinite(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is out of float64 range", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return v, nil
}
