package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"io"
	"path/filepath"
)

// Animation is a sequence of figures of the same size written as a GIF,
// e.g. fit.gif.
type Animation struct {
	// Name is the file stem; Save writes Name.gif.
	Name   string
	Frames []*Figure
	// Delay between frames, in hundredths of a second.
	Delay int
}

// gifPalette is Plan9's 256 colours with the figure colours swapped in for
// their nearest entries, so that lines and markers keep their exact colour
// and do not need dithering (which would speckle the white background).
var gifPalette = func() color.Palette {
	p := append(color.Palette(nil), palette.Plan9...)
	for _, c := range append([]color.Color{colModel, colBar}, series...) {
		p[p.Index(c)] = c
	}
	return p
}()

// quantize maps img to gifPalette. A figure has few distinct colours (white
// mostly), so a cache of the nearest index per colour makes this cheap where
// image/draw would search the palette for every pixel.
func quantize(img *image.RGBA) *image.Paletted {
	pm := image.NewPaletted(img.Bounds(), gifPalette)
	cache := map[uint32]uint8{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			o := img.PixOffset(x, y)
			px := img.Pix[o : o+4 : o+4]
			key := uint32(px[0])<<24 | uint32(px[1])<<16 | uint32(px[2])<<8 | uint32(px[3])
			idx, ok := cache[key]
			if !ok {
				idx = uint8(gifPalette.Index(color.RGBA{R: px[0], G: px[1], B: px[2], A: px[3]}))
				cache[key] = idx
			}
			pm.Pix[pm.PixOffset(x, y)] = idx
		}
	}
	return pm
}

// WriteGIF renders every frame at width x height pixels (zero for both:
// the first frame's nominal size) and writes the GIF, looping forever.
func (a *Animation) WriteGIF(w io.Writer, width, height int) error {
	if a == nil || len(a.Frames) == 0 {
		return errors.New("plot: animation without frames")
	}
	if width == 0 && height == 0 {
		width, height = a.Frames[0].PixelSize()
	}
	out := &gif.GIF{}
	for i, f := range a.Frames {
		img, err := f.Image(width, height)
		if err != nil {
			return fmt.Errorf("plot: %s frame %d: %w", a.Name, i+1, err)
		}
		out.Image = append(out.Image, quantize(img))
		out.Delay = append(out.Delay, a.Delay)
	}
	// Hold the last frame a little so that the final fit can be read.
	out.Delay[len(out.Delay)-1] = a.Delay * 5
	if err := gif.EncodeAll(w, out); err != nil {
		return fmt.Errorf("plot: encoding %s as GIF: %w", a.Name, err)
	}
	return nil
}

// GIF returns the animation as GIF bytes at the nominal size.
func (a *Animation) GIF() ([]byte, error) {
	var buf bytes.Buffer
	if err := a.WriteGIF(&buf, 0, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes dir/Name.gif through a temporary file.
func (a *Animation) Save(dir string) error {
	b, err := a.GIF()
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, a.Name+".gif"), b)
}
