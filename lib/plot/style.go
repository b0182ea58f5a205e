package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

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
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color = colGrid
	g.Horizontal.Color = colGrid
	p.Add(g)
	return p
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

// logYIfWide decides the y scale from the data: logarithmic when the
// positive data spans more than a decade, since losses fall fast and then
// creep, and on a linear axis the creeping part, the one a reader wants, is
// a flat line. It returns the transform to apply to every y value, and sets
// the axis ticks and label to match.
//
// The data are plotted as log10 on a linear axis labelled in values, rather
// than with gonum's LogScale, whose layout places a long y label as if the
// axis were linear and leaves a gap above the panel.
func logYIfWide(p *gplot.Plot, vals ...[]float64) func([]float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range vals {
		for _, v := range vs {
			if v <= 0 {
				return identity
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if !(hi/lo > 10) {
		return identity
	}
	p.Y.Tick.Marker = log10Ticks{}
	p.Y.Label.Text += " (log scale)"
	return func(vs []float64) []float64 {
		out := make([]float64, len(vs))
		for i, v := range vs {
			out[i] = math.Log10(v)
		}
		return out
	}
}

func identity(vs []float64) []float64 { return vs }

// padY widens the y axis by frac of its range at both ends, so that points
// and lines at the extremes do not sit on the frame.
func padY(p *gplot.Plot, frac float64) {
	d := (p.Y.Max - p.Y.Min) * frac
	p.Y.Min, p.Y.Max = p.Y.Min-d, p.Y.Max+d
}

// logTicks labels round values of a log axis: every decade when there are
// many, else 1-2-5 or denser steps, so that even an axis shorter than a
// decade gets at least four labels; gonum's LogTicks labels only decades.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	if lo <= 0 || !(hi > lo) {
		return nil
	}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var labelled []float64
	for _, mults := range [][]float64{{1}, {1, 2, 5}, {1, 2, 3, 5, 7}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}} {
		labelled = labelled[:0]
		for e := e0; e <= e1; e++ {
			for _, m := range mults {
				if v := m * math.Pow(10, float64(e)); in(v) {
					labelled = append(labelled, v)
				}
			}
		}
		if len(labelled) >= 4 {
			break
		}
	}
	var ticks []gplot.Tick
	isLabelled := map[float64]bool{}
	for _, v := range labelled {
		ticks = append(ticks, gplot.Tick{Value: v, Label: formatTick(v)})
		isLabelled[v] = true
	}
	for e := e0; e <= e1 && e1-e0 <= 6; e++ {
		for m := 1; m <= 9; m++ {
			if v := float64(m) * math.Pow(10, float64(e)); in(v) && !isLabelled[v] {
				ticks = append(ticks, gplot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// formatTick writes a value in at most four significant digits, with an
// exponent only for very small or large values ("1e-5", not "1e-05").
func formatTick(v float64) string {
	t := strconv.FormatFloat(v, 'g', 4, 64)
	t = strings.Replace(t, "e-0", "e-", 1)
	return strings.Replace(t, "e+0", "e+", 1)
}

// namedTicks labels integer positions with the given names (bars, classes).
func namedTicks(names []string) gplot.ConstantTicks {
	t := make(gplot.ConstantTicks, len(names))
	for i, n := range names {
		t[i] = gplot.Tick{Value: float64(i), Label: n}
	}
	return t
}

// niceTicks puts 4 to 7 labelled ticks at round values (steps of 1, 2, 2.5
// or 5 times a power of ten) with only the decimals the step needs, and an
// unlabelled tick between them. gonum's default labels as few as two ticks
// and writes "25.00" for integers.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return []gplot.Tick{{Value: lo, Label: formatTick(lo)}}
	}
	span := hi - lo
	mag := math.Pow(10, math.Floor(math.Log10(span/5)))
	var step float64
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * mag
		if span/step <= 6.5 {
			break
		}
	}
	// As many decimals as the step needs: 125 with a step of 25, 0.25
	// with a step of 0.25, never "125.0".
	decimals := 0
	for ; decimals < 12; decimals++ {
		scaled := step * math.Pow(10, float64(decimals))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*scaled {
			break
		}
	}
	useE := math.Max(math.Abs(lo), math.Abs(hi)) >= 1e6 || step < 1e-4
	var ticks []gplot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0 // not "-0"
		}
		label := strconv.FormatFloat(v, 'f', decimals, 64)
		if useE {
			label = strconv.FormatFloat(v, 'g', 3, 64)
		}
		ticks = append(ticks, gplot.Tick{Value: v, Label: label})
		if half := v + step/2; half <= hi {
			ticks = append(ticks, gplot.Tick{Value: half})
		}
	}
	if half := first - step/2; half >= lo {
		ticks = append(ticks, gplot.Tick{Value: half})
	}
	return ticks
}

// quietCorner puts the legend in the corner of the panel where the fewest of
// the points (xs[i], ys[i], in plot coordinates) lie, so that it hides no
// data: a study's pruned trial or a late curve can sit in any corner. Ties
// go to the top right, then top left. When every corner holds a point, the
// y axis grows at the top to make an empty band for the legend. Call it once
// the axes are final.
func quietCorner(p *gplot.Plot, xs, ys []float64) {
	w, h := p.X.Max-p.X.Min, p.Y.Max-p.Y.Min
	if !(w > 0) || !(h > 0) {
		return
	}
	best := -1
	for _, c := range []struct{ top, left bool }{{true, false}, {true, true}, {false, false}, {false, true}} {
		n := 0
		for i := range xs {
			fx, fy := (xs[i]-p.X.Min)/w, (ys[i]-p.Y.Min)/h
			inX := fx > 0.55
			if c.left {
				inX = fx < 0.45
			}
			inY := fy > 0.72
			if !c.top {
				inY = fy < 0.28
			}
			if inX && inY {
				n++
			}
		}
		if best < 0 || n < best {
			best = n
			p.Legend.Top, p.Legend.Left = c.top, c.left
		}
	}
	if best > 0 {
		p.Y.Max += 0.3 * h
		p.Legend.Top, p.Legend.Left = true, false
	}
}

// intTicks labels an axis of whole numbers (epochs, units, layers, batch
// sizes) only at whole numbers: niceTicks would label an axis from 1 to 2
// epochs "1.0 1.2 1.4", values no trial or layer can have.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []gplot.Tick {
	var out []gplot.Tick
	labelled := 0
	for _, t := range (niceTicks{}).Ticks(lo, hi) {
		if t.Value != math.Round(t.Value) {
			continue
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
			labelled++
		}
		out = append(out, t)
	}
	if labelled >= 2 {
		return out
	}
	// Fewer than two whole numbers among the round values: label every
	// whole number in range, or the one value of a degenerate axis.
	out = out[:0]
	for v := math.Ceil(lo); v <= hi && hi-lo < 100; v++ {
		if v == 0 {
			v = 0 // math.Ceil(-0.5) is -0, labelled "-0"
		}
		out = append(out, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	if len(out) == 0 {
		out = append(out, gplot.Tick{Value: lo, Label: formatTick(lo)})
	}
	return out
}

// legend adds entries to a panel's legend and, under them, a white box so
// that the legend stays readable where it overlaps data.
type legend struct {
	p     *gplot.Plot
	texts []string
}

func newLegend(p *gplot.Plot) *legend { return &legend{p: p} }

func (l *legend) add(name string, thumbs ...gplot.Thumbnailer) {
	if len(l.texts) == 0 {
		// The legend draws the first entry's thumbnails before anything
		// else of it: the backdrop goes there.
		thumbs = append([]gplot.Thumbnailer{legendBackdrop{l}}, thumbs...)
	}
	l.texts = append(l.texts, name)
	l.p.Legend.Add(name, thumbs...)
}

type legendBackdrop struct{ l *legend }

// Thumbnail is called with the first entry's icon area; the box is computed
// from it, the legend's settings and the widths of all entry texts.
func (b legendBackdrop) Thumbnail(c *draw.Canvas) {
	lg := b.l.p.Legend
	var textW vg.Length
	for _, t := range b.l.texts {
		textW = max(textW, lg.TextStyle.Width(t))
	}
	em := lg.TextStyle.Rectangle(" ").Max.X
	enth := c.Max.Y - c.Min.Y
	pad := vg.Points(3)
	top := c.Max.Y + pad
	bottom := c.Max.Y - vg.Length(len(b.l.texts))*(enth+lg.Padding) - pad + lg.Padding
	left, right := c.Min.X-em-textW-pad, c.Max.X+pad
	if lg.Left {
		left, right = c.Min.X-pad, c.Max.X+em+textW+pad
	}
	pts := []vg.Point{{X: left, Y: bottom}, {X: right, Y: bottom}, {X: right, Y: top}, {X: left, Y: top}}
	c.FillPolygon(withAlpha(color.White, 0.85), pts)
	c.StrokeLines(draw.LineStyle{Color: colGrid, Width: vg.Points(0.5)}, append(pts, pts[0]))
}
