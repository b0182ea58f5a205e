package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes with the given magic.
func idxBytes(magic uint32, dims []int, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// smallImageSet is n images of rows x cols whose pixels say where they are,
// with labels i%10.
func smallImageSet(n, rows, cols int) (pixels, labels []byte) {
	pixels = make([]byte, n*rows*cols)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	labels = make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % NumClasses)
	}
	return pixels, labels
}

// wantOffsetError checks that err is one *FileError naming path at offset.
func wantOffsetError(t *testing.T, err error, path string, offset int64, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at %s offset %d", path, offset)
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q (%T) is not a *FileError", err, err)
	}
	if fe.File != path || fe.Offset != offset {
		t.Errorf("error %q: at %s offset %d, want %s offset %d", err, fe.File, fe.Offset, path, offset)
	}
	msg := err.Error()
	if strings.Count(msg, path) != 1 {
		t.Errorf("error %q should name %s once", msg, path)
	}
	for _, w := range words {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not say %q", msg, w)
		}
	}
}

func TestReadImagesGzipAndRaw(t *testing.T) {
	pixels, labels := smallImageSet(5, 3, 2)
	for _, compress := range []bool{true, false} {
		img := idxBytes(MagicImages, []int{5, 3, 2}, pixels)
		lbl := idxBytes(MagicLabels, []int{5}, labels)
		if compress {
			img, lbl = gzipBytes(t, img), gzipBytes(t, lbl)
		}
		imgPath := writeFile(t, "images.gz", img)
		im, err := ReadImages(imgPath, writeFile(t, "labels.gz", lbl))
		if err != nil {
			t.Fatalf("gzip=%v: %v", compress, err)
		}
		if im.Len() != 5 || im.Rows != 3 || im.Cols != 2 || !bytes.Equal(im.Pixels, pixels) || !bytes.Equal(im.Labels, labels) || im.Source != imgPath {
			t.Fatalf("gzip=%v: got %+v", compress, im)
		}
		if !bytes.Equal(im.Image(4), pixels[24:30]) {
			t.Errorf("Image(4) = %v, want %v", im.Image(4), pixels[24:30])
		}
	}
}

func TestReadIDXPayloadChecksumExcludesHeader(t *testing.T) {
	payload := []byte("abcdefghijkl")
	x, err := ReadIDX(bytes.NewReader(idxBytes(MagicImages, []int{3, 2, 2}, payload)), "x")
	if err != nil {
		t.Fatal(err)
	}
	if x.PayloadSHA256 != sha256.Sum256(payload) || x.Magic() != MagicImages {
		t.Fatalf("payload sha %x magic %#x", x.PayloadSHA256, x.Magic())
	}
}

func TestImagesSliceAndCounts(t *testing.T) {
	pixels, labels := smallImageSet(12, 2, 2)
	im := &Images{N: 12, Rows: 2, Cols: 2, Pixels: pixels, Labels: labels}
	s := im.Slice([]int{11, 0})
	if s.Len() != 2 || s.Labels[0] != 1 || s.Labels[1] != 0 || !bytes.Equal(s.Image(0), im.Image(11)) || !bytes.Equal(s.Image(1), im.Image(0)) {
		t.Fatalf("slice %+v", s)
	}
	s.Pixels[0]++
	if s.Pixels[0] == im.Image(11)[0] {
		t.Fatal("Slice shares memory with the images")
	}
	c := im.ClassCounts()
	if c[0] != 2 || c[1] != 2 || c[2] != 1 || c[9] != 1 {
		t.Errorf("class counts %v", c)
	}
	var sum float64
	for _, p := range pixels {
		sum += float64(p)
	}
	if got, want := im.PixelMean(), sum/48; got != want {
		t.Errorf("pixel mean %v, want %v", got, want)
	}
}

func TestReadIDXBadInput(t *testing.T) {
	pixels, _ := smallImageSet(4, 2, 2)
	good := idxBytes(MagicImages, []int{4, 2, 2}, pixels)
	gz := gzipBytes(t, good)
	// Random-looking pixels do not compress, so that half the gzip stream
	// holds the header and part of the data.
	bigPixels, _ := smallImageSet(100, 8, 8)
	for i := range bigPixels {
		bigPixels[i] = byte((i * i * 2654435761) >> 13)
	}
	bigGz := gzipBytes(t, idxBytes(MagicImages, []int{100, 8, 8}, bigPixels))
	corruptCRC := bytes.Clone(gz)
	corruptCRC[len(corruptCRC)-6] ^= 0xff // inside the CRC-32 of the trailer
	cases := []struct {
		name    string
		content []byte
		offset  int64
		words   []string
	}{
		{"empty", nil, 0, []string{"truncated", "magic"}},
		{"truncated gzip", bigGz[:len(bigGz)/2], -2, []string{"truncated", "want 6400 bytes"}},
		{"gzip without trailer", gz[:len(gz)-8], 32, []string{"truncated"}},
		{"gzip bad CRC", corruptCRC, 32, []string{"checksum"}},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, -1, []string{"bad gzip header"}},
		{"float type", idxBytes(0x00000d03, []int{4, 2, 2}, pixels), 0, []string{"bad IDX magic 0x00000d03"}},
		{"nonzero first bytes", idxBytes(0x01000801, []int{4}, pixels[:4]), 0, []string{"bad IDX magic"}},
		{"zero dimensions", idxBytes(0x00000800, nil, nil), 0, []string{"bad IDX magic"}},
		{"truncated dims", good[:10], 10, []string{"truncated", "dimensions"}},
		{"truncated data", good[:20], 20, []string{"truncated", "want 16 bytes", "got 4"}},
		{"trailing bytes", append(bytes.Clone(good), 0), 32, []string{"trailing"}},
		{"huge dims", idxBytes(MagicImages, []int{1 << 20, 1 << 10, 1 << 10}, nil), 12, []string{"announce more than"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "train-images-idx3-ubyte.gz", c.content)
			x, err := ReadIDXFile(path)
			if x != nil {
				t.Errorf("got %v with the error", x.Dims)
			}
			offset := c.offset
			var fe *FileError
			if offset == -2 && errors.As(err, &fe) {
				// Where deflate stops is its business: anywhere in the data.
				if fe.Offset <= 16 || fe.Offset >= 16+6400 {
					t.Errorf("offset %d is not inside the data", fe.Offset)
				}
				offset = fe.Offset
			}
			wantOffsetError(t, err, path, offset, c.words...)
		})
	}
}

func TestReadImagesBadPair(t *testing.T) {
	pixels, labels := smallImageSet(4, 2, 2)
	images := idxBytes(MagicImages, []int{4, 2, 2}, pixels)
	cases := []struct {
		name      string
		img, lbl  []byte
		badLabels bool // the error is about the labels file
		offset    int64
		words     []string
	}{
		{"labels given as images", images, images, true, 0, []string{"IDX magic 0x00000803, want 0x00000801 (labels)"}},
		{"images given as labels", idxBytes(MagicLabels, []int{4}, labels), idxBytes(MagicLabels, []int{4}, labels), false, 0, []string{"want 0x00000803 (images)"}},
		// The images' magic on 4 labels would otherwise read labels as dimensions.
		{"labels with the images' magic", images, idxBytes(MagicImages, []int{4}, labels), true, 0, []string{"IDX magic 0x00000803, want 0x00000801 (labels)"}},
		{"images with the labels' magic", idxBytes(MagicLabels, []int{4, 2, 2}, nil), idxBytes(MagicLabels, []int{4}, labels), false, 0, []string{"IDX magic 0x00000801, want 0x00000803 (images)"}},
		{"count mismatch", images, idxBytes(MagicLabels, []int{3}, labels[:3]), true, 4, []string{"3 labels for the 4 images"}},
		{"label out of range", images, idxBytes(MagicLabels, []int{4}, []byte{0, 9, 10, 1}), true, 10, []string{"label 10 of image 2 is out of range 0..9"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			imgPath := writeFile(t, "images.gz", gzipBytes(t, c.img))
			lblPath := writeFile(t, "labels.gz", gzipBytes(t, c.lbl))
			im, err := ReadImages(imgPath, lblPath)
			if im != nil {
				t.Error("got images with the error")
			}
			path := imgPath
			if c.badLabels {
				path = lblPath
			}
			wantOffsetError(t, err, path, c.offset, c.words...)
		})
	}
}
