package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/dlworkbench/hw1/internal/atomicfile"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one finished figure: a title over one or more panels. It is a
// value: rendering does not change it, so it can be written at several sizes.
type Figure struct {
	// Name is the file stem (see names.go), e.g. "losses".
	Name string
	// Title is drawn across the top of the figure.
	Title string
	// Width and Height are the nominal size. PNGs of other pixel sizes keep
	// the layout of the nominal width, so text stays in proportion.
	Width, Height vg.Length

	// body draws everything under the title.
	body func(c draw.Canvas)
}

// DefaultDPI is the resolution of PNGs written at the nominal size.
const DefaultDPI = 150

// PixelSize is the PNG size of the figure at DefaultDPI.
func (f *Figure) PixelSize() (width, height int) {
	return int(f.Width.Dots(DefaultDPI) + 0.5), int(f.Height.Dots(DefaultDPI) + 0.5)
}

// draw renders the figure onto c, turning a panic inside gonum/plot (it
// panics on some degenerate data) into an error.
func (f *Figure) draw(c vg.CanvasSizer) (err error) {
	if f == nil || f.body == nil {
		return errors.New("plot: nil figure")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: drawing %q: %v", f.Name, r)
		}
	}()
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	if f.Title != "" {
		sty := textStyle(titleFontSize+1, draw.XCenter, draw.YTop)
		top := dc.Max.Y - vg.Points(titleFontSize)*0.5
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: top}, f.Title)
		dc = draw.Crop(dc, 0, 0, 0, -(sty.Height(f.Title) + vg.Points(titleFontSize)))
	}
	f.body(dc)
	return nil
}

// Image renders the figure as an RGBA image of exactly width x height pixels.
func (f *Figure) Image(width, height int) (*image.RGBA, error) {
	if width <= 0 || height <= 0 || width > 20000 || height > 20000 {
		return nil, fmt.Errorf("plot: figure %q: bad pixel size %dx%d", f.nameOrEmpty(), width, height)
	}
	if f == nil || f.Width <= 0 {
		return nil, errors.New("plot: figure without a size")
	}
	// The resolution is chosen so that the canvas is as wide as the nominal
	// width: the layout is then the same at every pixel size.
	dpi := int(math.Round(float64(width) / float64(f.Width/vg.Inch)))
	if dpi < 1 {
		dpi = 1
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	stddraw.Draw(img, img.Bounds(), image.White, image.Point{}, stddraw.Src)
	c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(dpi))
	if err := f.draw(c); err != nil {
		return nil, err
	}
	// vgimg may have drawn through its own context onto a copy.
	if out, ok := c.Image().(*image.RGBA); ok {
		return out, nil
	}
	out := image.NewRGBA(c.Image().Bounds())
	stddraw.Draw(out, out.Bounds(), c.Image(), image.Point{}, stddraw.Src)
	return out, nil
}

// WritePNG writes the figure as a PNG of width x height pixels; zero for
// both means the nominal size at DefaultDPI.
func (f *Figure) WritePNG(w io.Writer, width, height int) error {
	if width == 0 && height == 0 && f != nil {
		width, height = f.PixelSize()
	}
	img, err := f.Image(width, height)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("plot: encoding %q as PNG: %w", f.Name, err)
	}
	return nil
}

// PNG returns the figure as PNG bytes (see WritePNG for the size).
func (f *Figure) PNG(width, height int) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.WritePNG(&buf, width, height); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteSVG writes the figure as SVG of the given size; zero for both means
// the nominal size.
func (f *Figure) WriteSVG(w io.Writer, width, height vg.Length) error {
	if f == nil {
		return errors.New("plot: nil figure")
	}
	if width == 0 && height == 0 {
		width, height = f.Width, f.Height
	}
	if width <= 0 || height <= 0 {
		return fmt.Errorf("plot: figure %q: bad SVG size %vx%v", f.Name, width, height)
	}
	c := vgsvg.New(width, height)
	if err := f.draw(c); err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot: writing %q as SVG: %w", f.Name, err)
	}
	if _, err := w.Write(fixSVGImages(buf.Bytes())); err != nil {
		return fmt.Errorf("plot: writing %q as SVG: %w", f.Name, err)
	}
	return nil
}

// fixSVGImages repairs the <image> elements of gonum's SVG canvas (heat
// maps, filters, colour bars): it labels its embedded PNGs "image/jpg",
// which strict renderers (librsvg) refuse to draw, and leaves SVG's default
// preserveAspectRatio, which shrinks a stretched image (a 1-pixel-wide
// colour bar, a square map in a wide panel) instead of filling its box.
func fixSVGImages(svg []byte) []byte {
	svg = bytes.ReplaceAll(svg, []byte("data:image/jpg;base64,"), []byte("data:image/png;base64,"))
	return bytes.ReplaceAll(svg, []byte("<image "), []byte(`<image preserveAspectRatio="none" `))
}

// SVG returns the figure as SVG at its nominal size.
func (f *Figure) SVG() ([]byte, error) {
	var buf bytes.Buffer
	if err := f.WriteSVG(&buf, 0, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Save writes dir/Name.png (at the nominal size) and dir/Name.svg, each to a
// temporary name first so that a reader never sees half a file.
func (f *Figure) Save(dir string) error {
	if f == nil || f.Name == "" {
		return errors.New("plot: saving a figure without a name")
	}
	pngBytes, err := f.PNG(0, 0)
	if err != nil {
		return err
	}
	svgBytes, err := f.SVG()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, f.Name+".png"), pngBytes); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, f.Name+".svg"), svgBytes)
}

func (f *Figure) nameOrEmpty() string {
	if f == nil {
		return ""
	}
	return f.Name
}

// writeFileAtomic writes data to a temporary file beside path and renames it.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("plot: writing %w", err)
	}
	return nil
}

// grid lays plots out in rows and columns, aligning their axes; nil cells
// stay empty.
func grid(rows [][]*gplot.Plot) func(c draw.Canvas) {
	return func(c draw.Canvas) {
		drawGrid(c, rows)
	}
}

func drawGrid(c draw.Canvas, rows [][]*gplot.Plot) {
	if len(rows) == 0 {
		return
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	full := make([][]*gplot.Plot, len(rows))
	for i, r := range rows {
		full[i] = make([]*gplot.Plot, cols)
		copy(full[i], r)
	}
	pad := vg.Points(8)
	t := draw.Tiles{Rows: len(rows), Cols: cols, PadX: pad * 2, PadY: pad * 2,
		PadTop: pad / 2, PadBottom: pad / 2, PadLeft: pad, PadRight: pad}
	canvases := gplot.Align(full, t, c)
	for i := range full {
		for j, p := range full[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
}

// single is the body of a one-panel figure.
func single(p *gplot.Plot) func(c draw.Canvas) {
	return func(c draw.Canvas) {
		pad := vg.Points(6)
		p.Draw(draw.Crop(c, pad, -pad, pad/2, 0))
	}
}

// splitX returns the left part of c, of the given fraction of its width, and
// the rest.
func splitX(c draw.Canvas, frac float64) (left, right draw.Canvas) {
	w := c.Max.X - c.Min.X
	cut := vg.Length(frac) * w
	return draw.Crop(c, 0, cut-w, 0, 0), draw.Crop(c, cut, 0, 0, 0)
}
