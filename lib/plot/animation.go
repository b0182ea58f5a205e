package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
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
		pm := image.NewPaletted(img.Bounds(), gifPalette)
		draw.Draw(pm, pm.Bounds(), img, image.Point{}, draw.Src)
		out.Image = append(out.Image, pm)
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
