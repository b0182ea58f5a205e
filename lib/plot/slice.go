package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Slice draws the objective against each parameter, one panel each, the
// points coloured by trial number so that the search's drift shows.
func Slice(s Study) (*Figure, error) {
	done, err := s.completeTrials(NameSlice)
	if err != nil {
		return nil, err
	}
	axes := s.axes()
	if len(axes) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no parameters", NameSlice, s.Name)
	}
	nlo, nhi := math.Inf(1), math.Inf(-1)
	for _, t := range done {
		nlo, nhi = math.Min(nlo, float64(t.Number)), math.Max(nhi, float64(t.Number))
	}
	cols := min(len(axes), 4)
	rows := (len(axes) + cols - 1) / cols
	g := make([][]*gplot.Plot, rows)
	// One objective scale for every panel: panels compare at a glance, and
	// a parameter only a trial or two used (momentum) gets no scale of its
	// own, such as a negative accuracy around a single point.
	var values []float64
	for _, t := range done {
		values = append(values, t.Value)
	}
	ylo, yhi := rangeOf(values)
	if ylo == yhi {
		d := math.Max(math.Abs(ylo)*0.1, 0.01)
		ylo, yhi = ylo-d, yhi+d
	}
	ylo, yhi = padRange(ylo, yhi, 0.06)
	for i, a := range axes {
		ylabel := ""
		if i%cols == 0 {
			ylabel = s.objective()
		}
		p := newPlot(a.name, a.label(), ylabel)
		var pts colouredPoints
		for _, t := range done {
			if x, ok := a.value(t); ok {
				pts.x, pts.y = append(pts.x, x), append(pts.y, t.Value)
				pts.t = append(pts.t, (float64(t.Number)-nlo)/math.Max(nhi-nlo, 1))
			}
		}
		p.Add(pts)
		p.X.Tick.Marker = a.ticker()
		if a.choices != nil {
			p.X.Min, p.X.Max = -0.5, float64(len(a.choices))-0.5
		} else if lo, hi := rangeOf(pts.x); len(pts.x) > 0 && lo == hi {
			p.X.Min, p.X.Max = a.span(lo, hi)
		}
		p.Y.Min, p.Y.Max = ylo, yhi
		g[i/cols] = append(g[i/cols], p)
	}
	bar := newColorBar(cmapViridis, nlo, nhi, "trial")
	bar.ticks = intTicks{}
	return &Figure{Name: NameSlice, Title: "Slice plot: " + s.objective() + " against each parameter (complete trials)",
		Width: vg.Length(cols)*3.2*vg.Inch + 1*vg.Inch, Height: vg.Length(rows)*3*vg.Inch + 0.4*vg.Inch,
		body: withColorBar(grid(g), bar)}, nil
}

// colouredPoints is a scatter whose points take their colour from t in 0..1.
type colouredPoints struct{ x, y, t []float64 }

func (cp colouredPoints) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	for i := range cp.x {
		pt := vg.Point{X: tx(cp.x[i]), Y: ty(cp.y[i])}
		c.DrawGlyph(draw.GlyphStyle{Color: cmapViridis.at(cp.t[i]), Radius: vg.Points(2.6), Shape: draw.CircleGlyph{}}, pt)
		c.DrawGlyph(draw.GlyphStyle{Color: withAlpha(colModel, 0.5), Radius: vg.Points(2.6), Shape: draw.RingGlyph{}}, pt)
	}
}

func (cp colouredPoints) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = rangeOf(cp.x)
	ymin, ymax = rangeOf(cp.y)
	if len(cp.x) == 0 {
		return 0, 1, 0, 1
	}
	xmin, xmax = padRange(xmin, xmax, 0.04)
	ymin, ymax = padRange(ymin, ymax, 0.04)
	return
}
