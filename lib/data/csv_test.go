package data

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes content to name in a fresh temporary directory.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantFileError checks that err is one *FileError naming path at line and
// field, whose message contains each of words.
func wantFileError(t *testing.T, err error, path string, line int, field string, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at %s line %d", path, line)
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q (%T) is not a *FileError", err, err)
	}
	if fe.File != path || fe.Line != line || fe.Field != field {
		t.Errorf("error %q: at %s line %d field %q, want %s line %d field %q", err, fe.File, fe.Line, fe.Field, path, line, field)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) {
		t.Errorf("error %q does not name the file %s", msg, path)
	}
	if strings.Count(msg, path) != 1 {
		t.Errorf("error %q names the file more than once: one error, not a chain of them", msg)
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
}

func TestReadCSVBadInput(t *testing.T) {
	long := "input,label\n1," + strings.Repeat("1", maxCSVLine) + "\n"
	cases := []struct {
		name, content string
		line          int
		field         string
		words         []string
	}{
		{"empty file", "", 1, "", []string{"empty file"}},
		{"only blank lines", "\n  \n\r\n", 1, "", []string{"empty file"}},
		{"missing header", "1.5,2.5\n3,4\n", 1, "", []string{"missing header"}},
		{"wrong header", "x,y\n1,2\n", 1, "", []string{"wrong header", `"x,y"`}},
		{"header with extra column", "input,label,extra\n1,2\n", 1, "", []string{"wrong header"}},
		{"header only", "input,label\n", 2, "", []string{"no data rows"}},
		{"three columns", "input,label\n1,2\n3,4,5\n", 3, "", []string{"3 fields, want 2"}},
		{"one column", "input,label\n1,2\n\n7\n", 4, "", []string{"1 fields, want 2"}},
		{"non-numeric input", "input,label\nabc,2\n", 2, "input", []string{`"abc" is not a number`}},
		{"non-numeric label", "input,label\n1,2\n3,4x\n", 3, "label", []string{`"4x" is not a number`}},
		{"empty field", "input,label\n1,\n", 2, "label", []string{"not a number"}},
		{"NaN", "input,label\n1,2\nNaN,3\n", 3, "input", []string{"not finite"}},
		{"Inf", "input,label\n1,+Inf\n", 2, "label", []string{"not finite"}},
		{"-infinity", "input,label\n-infinity,0\n", 2, "input", []string{"not finite"}},
		{"overflow", "input,label\n1e400,0\n", 2, "input", []string{"out of float64 range"}},
		{"duplicate header", "input,label\n1,2\ninput,label\n3,4\n", 3, "", []string{"duplicate header"}},
		{"line too long", long, 2, "", []string{"longer than"}},
		// Old Mac line ends: lines are still counted.
		{"CR line ends", "input,label\r1,2\r\r3,x\r", 4, "label", []string{`"x" is not a number`}},
		{"CR line ends, CRLF too", "input,label\r\n1,2\r3,4\n5,x\r", 4, "label", []string{`"x" is not a number`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "train_data.csv", []byte(c.content))
			d, err := ReadCSV(path)
			if d != nil {
				t.Errorf("got a dataset of %d rows with the error", d.Len())
			}
			wantFileError(t, err, path, c.line, c.field, c.words...)
		})
	}
}

func TestReadCSVMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.csv")
	_, err := ReadCSV(path)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v: want not-exist naming %s", err, path)
	}
}

func TestParseCSVAccepts(t *testing.T) {
	// BOM, CRLF, spaces around fields and blank lines are what spreadsheet
	// exports and hand edits produce.
	for _, in := range []string{
		"\uFEFFinput, label\r\n\r\n -1.5 ,2e-3\r\n0,-0\r\n\n3,4\n\n",
		// CR alone ends lines in files saved by old Mac editors.
		"\uFEFFinput, label\r\r -1.5 ,2e-3\r0,-0\r\r3,4\r\r",
	} {
		d, err := ParseCSV(strings.NewReader(in), "x.csv")
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		wantIn := []float64{-1.5, 0, 3}
		wantLb := []float64{2e-3, 0, 4}
		if d.Len() != 3 || d.Source != "x.csv" {
			t.Fatalf("%q: got %d rows from %q", in, d.Len(), d.Source)
		}
		for i := range wantIn {
			if d.Inputs[i] != wantIn[i] || d.Labels[i] != wantLb[i] {
				t.Errorf("%q row %d: (%v, %v), want (%v, %v)", in, i, d.Inputs[i], d.Labels[i], wantIn[i], wantLb[i])
			}
		}
	}
}

func TestCSVSliceCopiesRows(t *testing.T) {
	d := &CSVDataset{Inputs: []float64{0, 1, 2, 3}, Labels: []float64{10, 11, 12, 13}, Source: "s"}
	s := d.Slice([]int{3, 1, 1})
	if s.Len() != 3 || s.Inputs[0] != 3 || s.Labels[0] != 13 || s.Inputs[2] != 1 || s.Labels[2] != 11 || s.Source != "s" {
		t.Fatalf("slice %+v", s)
	}
	s.Inputs[0] = 99
	if d.Inputs[3] != 3 {
		t.Fatal("Slice shares memory with the dataset")
	}
	if e := d.Slice(nil); e.Len() != 0 {
		t.Fatalf("empty slice has %d rows", e.Len())
	}
}

func TestCSVWriteReadRoundTrip(t *testing.T) {
	d := &CSVDataset{
		Inputs: []float64{-4.787870188090535, 0, math.SmallestNonzeroFloat64, 1e300},
		Labels: []float64{-1.216803599957529, math.Copysign(0, -1), -math.MaxFloat64, 1.0 / 3},
	}
	var buf bytes.Buffer
	if err := d.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseCSV(&buf, "round")
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Inputs {
		if back.Inputs[i] != d.Inputs[i] || back.Labels[i] != d.Labels[i] {
			t.Errorf("row %d: (%v, %v) back, wrote (%v, %v)", i, back.Inputs[i], back.Labels[i], d.Inputs[i], d.Labels[i])
		}
	}
}
