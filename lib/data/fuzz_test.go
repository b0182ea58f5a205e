package data

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// FuzzParseCSV checks that any input either parses into finite rows that
// survive a write/read round trip, or gives one *FileError naming the input.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"input,label\n1,2\n",
		"input,label\n-4.787870188090535,-1.216803599957529\n3.5e-3,1E2\n",
		"\uFEFFinput,label\r\n1,2\r\n",
		"",
		"1,2\n",
		"input,label\ninput,label\n",
		"input,label\n1,2,3\n",
		"input,label\nNaN,1\n",
		"input,label\n0x1p-2,1_000\n",
		"input,label\n\n\n5,6\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ParseCSV(bytes.NewReader(in), "fuzz.csv")
		if err != nil {
			var fe *FileError
			if d != nil || !errors.As(err, &fe) || fe.File != "fuzz.csv" || fe.Line < 1 {
				t.Fatalf("error %v (%T) with dataset %v", err, err, d)
			}
			return
		}
		if d.Len() == 0 || len(d.Labels) != d.Len() {
			t.Fatalf("%d inputs, %d labels", len(d.Inputs), len(d.Labels))
		}
		for i := range d.Inputs {
			for _, v := range []float64{d.Inputs[i], d.Labels[i]} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("row %d: %v is not finite", i, v)
				}
			}
		}
		var buf bytes.Buffer
		if err := d.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseCSV(&buf, "back.csv")
		if err != nil {
			t.Fatalf("written data does not parse: %v", err)
		}
		for i := range d.Inputs {
			if back.Inputs[i] != d.Inputs[i] || back.Labels[i] != d.Labels[i] {
				t.Fatalf("row %d: (%v,%v) read back as (%v,%v)", i, d.Inputs[i], d.Labels[i], back.Inputs[i], back.Labels[i])
			}
		}
	})
}

// FuzzReadIDX checks that any input, gzip or not, either decodes into a
// payload of exactly the announced size or gives one *FileError naming it.
func FuzzReadIDX(f *testing.F) {
	pixels, labels := smallImageSet(3, 2, 2)
	images := idxBytes(MagicImages, []int{3, 2, 2}, pixels)
	for _, b := range [][]byte{
		images,
		gzipBytes(f, images),
		idxBytes(MagicLabels, []int{3}, labels),
		gzipBytes(f, idxBytes(MagicLabels, []int{3}, labels)),
		idxBytes(MagicImages, []int{0, 28, 28}, nil),
		images[:10],
		gzipBytes(f, images)[:20],
		{0x1f, 0x8b},
		{0, 0, 8, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 42},
		{},
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in), "fuzz.idx")
		if err != nil {
			var fe *FileError
			if x != nil || !errors.As(err, &fe) || fe.File != "fuzz.idx" {
				t.Fatalf("error %v (%T) with result %v", err, err, x)
			}
			return
		}
		size := 1
		for _, d := range x.Dims {
			size *= d
		}
		if len(x.Dims) < 1 || len(x.Dims) > 4 || len(x.Data) != size {
			t.Fatalf("dims %v with %d bytes of data", x.Dims, len(x.Data))
		}
		if x.Magic()&0xffffff00 != 0x0800 {
			t.Fatalf("magic %#x", x.Magic())
		}
		// Raw input: the payload is the input after the header, exactly.
		if len(in) < 2 || in[0] != 0x1f || in[1] != 0x8b {
			if !bytes.Equal(x.Data, in[4+4*len(x.Dims):]) {
				t.Fatal("payload differs from the input after the header")
			}
		}
	})
}
