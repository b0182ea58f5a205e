package plot

import (
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Font sizes in points; at the nominal sizes they read like a paper figure.
const (
	titleFontSize = 12
	labelFontSize = 11
	tickFontSize  = 9
	smallFontSize = 8
)

// Colours: a qualitative set for series, and fixed roles so that "train" and
// "validation" look the same in every figure.
var (
	series = []color.Color{
		rgb(0x1f77b4), rgb(0xff7f0e), rgb(0x2ca02c), rgb(0xd62728), rgb(0x9467bd),
		rgb(0x8c564b), rgb(0xe377c2), rgb(0x7f7f7f), rgb(0xbcbd22), rgb(0x17becf),
	}
	colTrain  = series[0]
	colVal    = series[1]
	colTest   = series[3]
	colModel  = rgb(0x222222)
	colBest   = series[3]
	colBar    = rgb(0x9ecae1)
	colPruned = rgb(0xb0b0b0)
	colGrid   = color.Gray{Y: 0xe4}
)

func rgb(h uint32) color.RGBA {
	return color.RGBA{R: uint8(h >> 16), G: uint8(h >> 8), B: uint8(h), A: 0xff}
}

// withAlpha returns c with the given opacity, premultiplied as color.RGBA wants.
func withAlpha(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.RGBA{
		R: uint8(float64(r>>8) * a), G: uint8(float64(g>>8) * a), B: uint8(float64(b>>8) * a),
		A: uint8(255 * a),
	}
}

func seriesColor(i int) color.Color { return series[i%len(series)] }

func textStyle(size float64, xa draw.XAlignment, ya draw.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(gplot.DefaultFont, font.Length(size)),
		XAlign:  xa,
		YAlign:  ya,
		Handler: gplot.DefaultTextHandler,
	}
}

// newPlot returns a panel with the project's fonts, a light grid and labels.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = titleFontSize
	p.Title.Padding = vg.Points(4)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = labelFontSize
		a.Tick.Label.Font.Size = tickFontSize
		a.Label.Padding = vg.Points(3)
	}
	p.Legend.TextStyle.Font.Size = tickFontSize
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(1)
	p.Legend.ThumbnailWidth = vg.Points(18)
	g := plotter.NewGrid()
	g.Vertical.Color = colGrid
	g.Horizontal.Color = colGrid
	p.Add(g)
	return p
}

// noGrid removes the grid newPlot adds, for image and heat-map panels.
func bareAxes(p *gplot.Plot) {
	p.HideAxes()
}

// xys pairs xs and ys; callers have checked the lengths.
func xys(xs, ys []float64) plotter.XYs {
	pts := make(plotter.XYs, len(xs))
	for i := range xs {
		pts[i] = plotter.XY{X: xs[i], Y: ys[i]}
	}
	return pts
}

func line(xs, ys []float64, c color.Color, width float64, dashed bool) *plotter.Line {
	l, err := plotter.NewLine(xys(xs, ys))
	if err != nil {
		// Callers validate their data first; NewLine only fails on NaN/Inf.
		panic(err)
	}
	l.Color = c
	l.Width = vg.Points(width)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return l
}

func scatter(xs, ys []float64, c color.Color, radius float64, shape draw.GlyphDrawer) *plotter.Scatter {
	s, err := plotter.NewScatter(xys(xs, ys))
	if err != nil {
		panic(err)
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(radius), Shape: shape}
	return s
}

// band is the filled area between lo and hi over xs.
func band(xs, lo, hi []float64, c color.Color) *plotter.Polygon {
	pts := make(plotter.XYs, 0, 2*len(xs))
	for i := range xs {
		pts = append(pts, plotter.XY{X: xs[i], Y: hi[i]})
	}
	for i := len(xs) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: xs[i], Y: lo[i]})
	}
	poly, err := plotter.NewPolygon(pts)
	if err != nil {
		panic(err)
	}
	poly.Color = withAlpha(c, 0.22)
	poly.LineStyle.Width = 0
	return poly
}

// useLogY switches the y axis to log scale when the positive data spans more
// than two decades, the point where a linear axis flattens the tail.
func useLogY(p *gplot.Plot, vals ...[]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range vals {
		for _, v := range vs {
			if v <= 0 {
				return false
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if !(hi/lo > 100) {
		return false
	}
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	return true
}

// logTicks labels every decade and, when there are few, 2x and 5x too;
// gonum's LogTicks labels only decades, which leaves a short axis bare.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	if lo <= 0 || hi <= lo {
		return ticks
	}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	mults := []float64{1, 2, 5}
	if e1-e0 > 3 {
		mults = []float64{1}
	}
	for e := e0; e <= e1; e++ {
		for _, m := range mults {
			v := m * math.Pow(10, float64(e))
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			ticks = append(ticks, gplot.Tick{Value: v, Label: formatTick(v)})
		}
		if e1-e0 <= 1 {
			continue
		}
		for m := 2; m <= 9; m++ {
			v := float64(m) * math.Pow(10, float64(e))
			if v >= lo && v <= hi && m != 2 && m != 5 {
				ticks = append(ticks, gplot.Tick{Value: v})
			}
		}
	}
	return ticks
}

func formatTick(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e-3 && a < 1e5 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'e', 0, 64)
}

// intTicks labels integer positions with the given names (bars, classes).
func namedTicks(names []string) gplot.ConstantTicks {
	t := make(gplot.ConstantTicks, len(names))
	for i, n := range names {
		t[i] = gplot.Tick{Value: float64(i), Label: n}
	}
	return t
}
