package data

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers of the two kinds of file of MNIST-like datasets: unsigned
// bytes (type 0x08) with 3 dimensions (images) or 1 (labels).
const (
	MagicImages = 0x00000803
	MagicLabels = 0x00000801
)

// maxIDXBytes bounds the payload an IDX header may announce, so that a corrupt
// header cannot make the reader allocate gigabytes (Fashion-MNIST's largest
// payload is 47 MB).
const maxIDXBytes = 1 << 30

// IDX is one decoded IDX file of unsigned bytes.
type IDX struct {
	// Dims are the sizes, outermost first (N, Rows, Cols for images).
	Dims []int
	// Data is the payload, row-major.
	Data []byte
	// PayloadSHA256 is the sha256 of Data: of the decompressed file without
	// its header, which is what data/README publishes.
	PayloadSHA256 [32]byte
}

// Magic is the 32-bit magic number the file started with.
func (x *IDX) Magic() uint32 { return 0x0800 | uint32(len(x.Dims)) }

// ReadIDXFile reads an IDX file, gzip-compressed or not (see ReadIDX).
func ReadIDXFile(path string) (*IDX, error) {
	return readIDXFile(path, 0)
}

// readIDXFile is ReadIDXFile for a file that must start with the magic want
// (0: any), checked before the dimensions it decides how many of.
func readIDXFile(path string, want uint32) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readIDXWant(f, path, want)
}

// ReadIDX reads an IDX file of unsigned bytes (type 0x08), gzip-compressed or
// not (told by the gzip magic), to its end: trailing bytes are an error, and a
// gzip stream is read to its end so that its CRC is checked. name is used in
// errors, which are *FileError with the offset in the decompressed stream.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	return readIDXWant(r, name, 0)
}

func readIDXWant(r io.Reader, name string, want uint32) (*IDX, error) {
	// The input's size, when r can tell it, bounds how much the payload can
	// be, so that the buffer is allocated once for real files and stays small
	// for corrupt ones whatever their header announces.
	limit := int64(-1)
	if n := inputSize(r); n >= 0 {
		limit = n
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, offsetError(name, -1, "gzip", fmt.Errorf("bad gzip header: %w", err))
		}
		defer zr.Close()
		src = zr
		if limit >= 0 {
			limit *= maxDeflateRatio
		}
	}
	return readIDX(src, name, limit, want)
}

// maxDeflateRatio bounds how many bytes deflate can expand one input byte to.
const maxDeflateRatio = 1032

// inputSize is how many bytes r will yield, or -1 when it cannot tell.
func inputSize(r io.Reader) int64 {
	switch x := r.(type) {
	case *os.File:
		fi, err := x.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		pos, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return fi.Size() - pos
	case interface{ Len() int }:
		return int64(x.Len())
	}
	return -1
}

func readIDX(r io.Reader, name string, limit int64, want uint32) (*IDX, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, offsetError(name, int64(n), "magic", streamError("file ends inside the 4-byte magic", err))
	}
	// The magic says how many dimensions follow: a labels file with the
	// images' magic would have its labels read as dimensions, and be told as
	// a size problem instead of the wrong kind of file it is.
	if got := binary.BigEndian.Uint32(magic[:]); want != 0 && got != want {
		return nil, magicError(name, got, want)
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 || magic[3] > 4 {
		return nil, offsetError(name, 0, "magic", fmt.Errorf("bad IDX magic 0x%08x: want 0x000008NN, unsigned bytes with 1 to 4 dimensions", binary.BigEndian.Uint32(magic[:])))
	}
	nd := int(magic[3])
	dimBytes := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, offsetError(name, 4+int64(n), "dims", streamError(fmt.Sprintf("file ends inside the %d dimensions", nd), err))
	}
	x := &IDX{Dims: make([]int, nd)}
	size := int64(1)
	for i := range x.Dims {
		d := int64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		x.Dims[i] = int(d)
		size *= d
		if size > maxIDXBytes {
			return nil, offsetError(name, 4+4*int64(i), "dims", fmt.Errorf("dimensions %v announce more than %d bytes", x.Dims[:i+1], maxIDXBytes))
		}
	}
	header := int64(4 + 4*nd)
	prealloc := min(size, 1<<20)
	if limit >= 0 {
		prealloc = min(size, limit)
	}
	data, err := readExactly(r, size, prealloc)
	if err != nil {
		return nil, offsetError(name, header+int64(len(data)), "data", streamError(fmt.Sprintf("want %d bytes of data for dimensions %v, got %d", size, x.Dims, len(data)), err))
	}
	var one [1]byte
	n, err := io.ReadFull(r, one[:])
	if n > 0 {
		return nil, offsetError(name, header+size, "data", fmt.Errorf("trailing bytes after the %d bytes of dimensions %v", size, x.Dims))
	}
	if err != nil && err != io.EOF {
		return nil, offsetError(name, header+size, "data", streamError("after the data", err))
	}
	x.Data = data
	x.PayloadSHA256 = sha256.Sum256(data)
	return x, nil
}

// readExactly reads size bytes into a buffer of prealloc bytes that grows as
// the bytes arrive, so that an untrusted size is never allocated up front. On error it returns what it read.
func readExactly(r io.Reader, size, prealloc int64) ([]byte, error) {
	buf := make([]byte, 0, prealloc)
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*int64(cap(buf))+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF && int64(len(buf)) == size {
				break
			}
			return buf, err
		}
	}
	return buf, nil
}

// streamError turns an early EOF into a sentence about truncation and keeps
// the cause of other errors (a gzip checksum, a read error).
func streamError(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated: %s", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Images is Fashion-MNIST, or any IDX image set: N images of Rows x Cols
// bytes, row-major, one after the other, with one label each.
type Images struct {
	N, Rows, Cols int
	Pixels        []uint8
	Labels        []uint8
	// Source names the images file ("" when built in memory).
	Source string
}

// NumClasses is the number of Fashion-MNIST classes; labels are 0..NumClasses-1.
const NumClasses = 10

// ClassNames are Fashion-MNIST's class names, in label order.
var ClassNames = [NumClasses]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Len is the number of images.
func (im *Images) Len() int { return im.N }

// Image returns the pixels of image i, sharing memory with im.Pixels.
func (im *Images) Image(i int) []uint8 {
	sz := im.Rows * im.Cols
	return im.Pixels[i*sz : (i+1)*sz : (i+1)*sz]
}

// Slice returns a copy of the images and labels at indices, in that order. It
// panics on an index out of range, like a slice expression.
func (im *Images) Slice(indices []int) *Images {
	sz := im.Rows * im.Cols
	out := &Images{
		N: len(indices), Rows: im.Rows, Cols: im.Cols,
		Pixels: make([]uint8, len(indices)*sz),
		Labels: make([]uint8, len(indices)),
		Source: im.Source,
	}
	for i, j := range indices {
		copy(out.Pixels[i*sz:(i+1)*sz], im.Pixels[j*sz:(j+1)*sz])
		out.Labels[i] = im.Labels[j]
	}
	return out
}

// ClassCounts is the number of images of each class.
func (im *Images) ClassCounts() [NumClasses]int {
	var c [NumClasses]int
	for _, l := range im.Labels {
		if int(l) < NumClasses {
			c[l]++
		}
	}
	return c
}

// PixelMean is the mean pixel value, on the 0..255 scale.
func (im *Images) PixelMean() float64 {
	if len(im.Pixels) == 0 {
		return 0
	}
	var s uint64
	for _, p := range im.Pixels {
		s += uint64(p)
	}
	return float64(s) / float64(len(im.Pixels))
}

// ReadImages reads an IDX image file and its IDX label file (each gzip or
// not) and checks that they agree: magic numbers, as many labels as images,
// labels below NumClasses.
func ReadImages(imagesPath, labelsPath string) (*Images, error) {
	imgs, err := readIDXFile(imagesPath, MagicImages)
	if err != nil {
		return nil, err
	}
	lbls, err := readIDXFile(labelsPath, MagicLabels)
	if err != nil {
		return nil, err
	}
	return NewImages(imgs, imagesPath, lbls, labelsPath)
}

// NewImages pairs decoded image and label files; the paths are for errors.
func NewImages(imgs *IDX, imagesPath string, lbls *IDX, labelsPath string) (*Images, error) {
	if err := checkMagic(imgs, imagesPath, MagicImages); err != nil {
		return nil, err
	}
	if err := checkMagic(lbls, labelsPath, MagicLabels); err != nil {
		return nil, err
	}
	if imgs.Dims[0] != lbls.Dims[0] {
		return nil, offsetError(labelsPath, 4, "dims", fmt.Errorf("%d labels for the %d images of %s", lbls.Dims[0], imgs.Dims[0], imagesPath))
	}
	if err := checkLabels(lbls, labelsPath); err != nil {
		return nil, err
	}
	return &Images{
		N: imgs.Dims[0], Rows: imgs.Dims[1], Cols: imgs.Dims[2],
		Pixels: imgs.Data, Labels: lbls.Data, Source: imagesPath,
	}, nil
}

func checkMagic(x *IDX, path string, want uint32) error {
	if got := x.Magic(); got != want {
		return magicError(path, got, want)
	}
	return nil
}

func magicError(path string, got, want uint32) error {
	kind := "images"
	if want == MagicLabels {
		kind = "labels"
	}
	return offsetError(path, 0, "magic", fmt.Errorf("IDX magic 0x%08x, want 0x%08x (%s)", got, want, kind))
}

// checkLabels says where the first label outside 0..NumClasses-1 is, in the
// decompressed file (after the 8-byte header of a labels file).
func checkLabels(lbls *IDX, path string) error {
	header := int64(4 + 4*len(lbls.Dims))
	for i, l := range lbls.Data {
		if int(l) >= NumClasses {
			return offsetError(path, header+int64(i), "data", fmt.Errorf("label %d of image %d is out of range 0..%d", l, i, NumClasses-1))
		}
	}
	return nil
}
