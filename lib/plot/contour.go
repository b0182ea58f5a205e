package plot

import (
	"fmt"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Contour draws, as the seed does, the first parameter of params against
// each of the others: one panel per pair, the objective interpolated
// between the complete trials (inverse-distance weighting on axes scaled to
// 0..1) as a filled map, with the trials as points. Log parameters get log
// axes and categorical ones their names.
func Contour(s Study, params []string) (*Figure, error) {
	fail := func(err error) (*Figure, error) { return nil, fmt.Errorf("plot: %s: %w", NameContour, err) }
	done, err := s.check()
	if err != nil {
		return fail(err)
	}
	if len(params) < 2 {
		return fail(fmt.Errorf("need at least 2 parameters, got %v", params))
	}
	main, ok := s.axis(params[0])
	if !ok {
		return fail(fmt.Errorf("study %q has no parameter %q", s.Name, params[0]))
	}
	type panelData struct {
		other  paramAxis
		x, y   []float64
		values []float64
	}
	var panels []panelData
	zlo, zhi := math.Inf(1), math.Inf(-1)
	for _, name := range params[1:] {
		other, ok := s.axis(name)
		if !ok {
			return fail(fmt.Errorf("study %q has no parameter %q", s.Name, name))
		}
		pd := panelData{other: other}
		for _, t := range done {
			x, okx := main.value(t)
			y, oky := other.value(t)
			if okx && oky {
				pd.x, pd.y, pd.values = append(pd.x, x), append(pd.y, y), append(pd.values, t.Value)
				zlo, zhi = math.Min(zlo, t.Value), math.Max(zhi, t.Value)
			}
		}
		if len(pd.x) < 2 {
			return fail(fmt.Errorf("fewer than 2 complete trials with both %s and %s", main.name, other.name))
		}
		panels = append(panels, pd)
	}
	row := make([]*gplot.Plot, len(panels))
	for i, pd := range panels {
		p := newPlot(fmt.Sprintf("%s vs %s", main.name, pd.other.name), main.label(), pd.other.label())
		xlo, xhi := rangeOf(pd.x)
		ylo, yhi := rangeOf(pd.y)
		xlo, xhi = padRange(xlo, xhi, 0.05)
		ylo, yhi = padRange(ylo, yhi, 0.05)
		p.Add(interpolated{xs: pd.x, ys: pd.y, zs: pd.values, xlo: xlo, xhi: xhi, ylo: ylo, yhi: yhi, zlo: zlo, zhi: zhi})
		pts := scatter(pd.x, pd.y, colModel, 2.4, draw.CircleGlyph{})
		ring := scatter(pd.x, pd.y, rgb(0xffffff), 2.4, draw.RingGlyph{})
		p.Add(pts, ring)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xlo, xhi, ylo, yhi
		p.X.Tick.Marker, p.Y.Tick.Marker = main.ticker(), pd.other.ticker()
		row[i] = p
	}
	bar := newColorBar(cmapViridis, zlo, zhi, s.objective())
	return &Figure{Name: NameContour, Title: fmt.Sprintf("Contour of the objective interpolated between %d complete trials (points)", len(done)),
		Width: vg.Length(len(panels))*4.6*vg.Inch + 1*vg.Inch, Height: 4.6 * vg.Inch,
		body: withColorBar(grid([][]*gplot.Plot{row}), bar)}, nil
}

func rangeOf(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// interpolated fills the data area with the objective interpolated between
// the trials, drawn as one image.
type interpolated struct {
	xs, ys, zs         []float64
	xlo, xhi, ylo, yhi float64
	zlo, zhi           float64
}

func (m interpolated) Plot(c draw.Canvas, p *gplot.Plot) {
	const n = 80
	vals := make([]float32, n*n)
	sx, sy := m.xhi-m.xlo, m.yhi-m.ylo
	for j := range n {
		// Image row 0 is the top of the panel.
		y := m.yhi - (float64(j)+0.5)/n*sy
		for i := range n {
			x := m.xlo + (float64(i)+0.5)/n*sx
			var wsum, zsum float64
			exact := math.NaN()
			for k := range m.xs {
				dx, dy := (x-m.xs[k])/sx, (y-m.ys[k])/sy
				d2 := dx*dx + dy*dy
				if d2 < 1e-12 {
					exact = m.zs[k]
					break
				}
				w := 1 / (d2 * d2) // weight 1/d^4: local, but smooth
				wsum += w
				zsum += w * m.zs[k]
			}
			if !math.IsNaN(exact) {
				vals[j*n+i] = float32(exact)
			} else {
				vals[j*n+i] = float32(zsum / wsum)
			}
		}
	}
	img := raster(vals, n, n, m.zlo, m.zhi, cmapViridis)
	tx, ty := p.Transforms(&c)
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: tx(m.xlo), Y: ty(m.ylo)}, Max: vg.Point{X: tx(m.xhi), Y: ty(m.yhi)}}, img)
}

func (m interpolated) DataRange() (xmin, xmax, ymin, ymax float64) {
	return m.xlo, m.xhi, m.ylo, m.yhi
}
