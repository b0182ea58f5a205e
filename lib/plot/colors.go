package plot

import (
	"image"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// colorMap maps [0,1] to a colour by linear interpolation between stops.
type colorMap []color.RGBA

// Stops read off well-known maps: "Blues" (sequential, light to dark),
// a viridis-like map (perceptually even, dark to light) and a blue-white-red
// diverging map for signed weights.
var (
	cmapBlues = colorMap{rgb(0xf7fbff), rgb(0xdeebf7), rgb(0xc6dbef), rgb(0x9ecae1),
		rgb(0x6baed6), rgb(0x4292c6), rgb(0x2171b5), rgb(0x08519c), rgb(0x08306b)}
	cmapViridis = colorMap{rgb(0x440154), rgb(0x482878), rgb(0x3e4989), rgb(0x31688e),
		rgb(0x26828e), rgb(0x1f9e89), rgb(0x35b779), rgb(0x6ece58), rgb(0xb5de2b), rgb(0xfde725)}
	cmapDiverging = colorMap{rgb(0x2166ac), rgb(0x67a9cf), rgb(0xd1e5f0), rgb(0xf7f7f7),
		rgb(0xfddbc7), rgb(0xef8a62), rgb(0xb2182b)}
	cmapGrey = colorMap{rgb(0x000000), rgb(0xffffff)}
)

func (m colorMap) at(t float64) color.RGBA {
	if math.IsNaN(t) {
		return color.RGBA{A: 0xff}
	}
	t = math.Max(0, math.Min(1, t)) * float64(len(m)-1)
	i := int(t)
	if i >= len(m)-1 {
		return m[len(m)-1]
	}
	f := t - float64(i)
	a, b := m[i], m[i+1]
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-f) + float64(y)*f + 0.5) }
	return color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xff}
}

// luminance tells whether black or white text reads better on c.
func luminance(c color.RGBA) float64 {
	return (0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)) / 255
}

// raster turns a row-major h x w array into an image through the colour
// map, each value scaled from lo..hi, enlarged by whole pixels so that the
// renderers' smoothing does not blur small kernels.
func raster(vals []float32, h, w int, lo, hi float64, m colorMap) image.Image {
	scale := max(1, 140/max(h, w))
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	span := hi - lo
	if span <= 0 {
		span = 1
	}
	for y := range h {
		for x := range w {
			c := m.at((float64(vals[y*w+x]) - lo) / span)
			for dy := range scale {
				for dx := range scale {
					img.SetRGBA(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	return img
}

func minMax32(vs []float32) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	return lo, hi
}

// colorBar is a colour scale legend: a gradient bar with ticks and a label,
// drawn beside a figure's panels.
type colorBar struct {
	m      colorMap
	lo, hi float64
	label  string
	// ticks labels the bar; niceTicks when nil.
	ticks gplot.Ticker
}

func newColorBar(m colorMap, lo, hi float64, label string) colorBar {
	if !(hi > lo) {
		lo, hi = lo-0.5, hi+0.5
	}
	return colorBar{m: m, lo: lo, hi: hi, label: label}
}

// colorBarWidth is the room a colour bar takes at the right of a figure.
const colorBarWidth = 86

func (b colorBar) draw(c draw.Canvas) {
	h := c.Max.Y - c.Min.Y
	x0 := c.Min.X + vg.Points(6)
	x1 := x0 + vg.Points(12)
	y0, y1 := c.Min.Y+h*0.12, c.Max.Y-h*0.12
	const n = 256
	img := image.NewRGBA(image.Rect(0, 0, 8, n))
	for i := range n {
		for x := range 8 {
			img.SetRGBA(x, n-1-i, b.m.at((float64(i)+0.5)/n))
		}
	}
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}, img)
	frame := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}}
	c.StrokeLines(draw.LineStyle{Color: colModel, Width: vg.Points(0.5)}, frame)
	sty := textStyle(tickFontSize, draw.XLeft, draw.YCenter)
	ls := draw.LineStyle{Color: colModel, Width: vg.Points(0.5)}
	var labelEnd vg.Length
	var ticker gplot.Ticker = niceTicks{}
	if b.ticks != nil {
		ticker = b.ticks
	}
	for _, t := range ticker.Ticks(b.lo, b.hi) {
		if t.Label == "" || t.Value < b.lo || t.Value > b.hi {
			continue
		}
		y := y0 + (y1-y0)*vg.Length((t.Value-b.lo)/(b.hi-b.lo))
		c.StrokeLine2(ls, x1, y, x1+vg.Points(3), y)
		c.FillText(sty, vg.Point{X: x1 + vg.Points(5), Y: y}, t.Label)
		labelEnd = max(labelEnd, sty.Width(t.Label))
	}
	lab := textStyle(labelFontSize, draw.XCenter, draw.YTop)
	lab.Rotation = math.Pi / 2
	c.FillText(lab, vg.Point{X: x1 + vg.Points(10) + labelEnd, Y: (y0 + y1) / 2}, b.label)
}

// withColorBar draws main on the left and a colour bar on the right.
func withColorBar(main func(draw.Canvas), bar colorBar) func(draw.Canvas) {
	return func(c draw.Canvas) {
		w := c.Max.X - c.Min.X
		left, right := splitX(c, 1-float64(vg.Points(colorBarWidth)/w))
		main(left)
		bar.draw(right)
	}
}
