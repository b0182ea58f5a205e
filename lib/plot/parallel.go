package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ParallelCoordinate draws every complete trial as a line through one
// vertical axis per parameter, the objective first, coloured by objective;
// the best trial is drawn on top in red.
func ParallelCoordinate(s Study) (*Figure, error) {
	done, err := s.completeTrials(NameParallelCoordinate)
	if err != nil {
		return nil, err
	}
	axes := s.axes()
	pc := parallel{names: []string{s.objective()}}
	cols := [][]float64{make([]float64, len(done))}
	tickers := []gplot.Ticker{niceTicks{}}
	pc.axes = []paramAxis{{}}
	cats := [][]string{nil}
	for i, t := range done {
		cols[0][i] = t.Value
	}
	for _, a := range axes {
		col := make([]float64, len(done))
		for i, t := range done {
			v, ok := a.value(t)
			if !ok {
				v = math.NaN() // a parameter this trial did not use
			}
			col[i] = v
		}
		name := a.name
		if a.log {
			name += "\n(log scale)" // two lines keep neighbouring names apart
		}
		pc.names = append(pc.names, name)
		cols = append(cols, col)
		tickers = append(tickers, a.ticker())
		cats = append(cats, a.choices)
		pc.axes = append(pc.axes, a)
	}
	pc.cols, pc.tickers, pc.choices = cols, tickers, cats
	skips := ""
	for _, col := range cols {
		if slices.ContainsFunc(col, math.IsNaN) {
			skips = "; dotted across a parameter the trial did not use"
			break
		}
	}
	vlo, vhi := rangeOf(cols[0])
	best := 0
	for i, t := range done {
		if (s.maximize() && t.Value > done[best].Value) || (!s.maximize() && t.Value < done[best].Value) {
			best = i
		}
	}
	pc.best, pc.vlo, pc.vhi = best, vlo, vhi
	p := newPlot("", "", "")
	p.Add(pc)
	p.X.Tick.Marker = namedTicks(pc.names)
	p.X.LineStyle.Width = 0
	p.X.Tick.LineStyle.Width = 0
	p.Y.Tick.Marker = gplot.ConstantTicks{}
	p.Y.LineStyle.Width = 0
	p.X.Min, p.X.Max = -0.3, float64(len(pc.names)-1)+0.3
	p.Y.Min, p.Y.Max = -0.04, 1.04
	bar := newColorBar(cmapViridis, vlo, vhi, s.objective())
	return &Figure{Name: NameParallelCoordinate,
		Title: fmt.Sprintf("Parallel coordinates of %d complete trials (best in red%s)", len(done), skips),
		Width: vg.Length(len(pc.names))*1.25*vg.Inch + 1.6*vg.Inch, Height: 5 * vg.Inch,
		body: withColorBar(single(p), bar)}, nil
}

type parallel struct {
	names    []string
	axes     []paramAxis // the objective's is the zero axis
	cols     [][]float64
	tickers  []gplot.Ticker
	choices  [][]string
	best     int
	vlo, vhi float64
}

func (pc parallel) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	norm := make([][]float64, len(pc.cols))
	lims := make([][2]float64, len(pc.cols))
	for a, col := range pc.cols {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range col {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if pc.choices[a] != nil {
			lo, hi = 0, float64(len(pc.choices[a])-1)
		}
		if hi <= lo {
			lo, hi = pc.axes[a].span(lo, hi)
		}
		lims[a] = [2]float64{lo, hi}
		norm[a] = make([]float64, len(col))
		for i, v := range col {
			norm[a][i] = (v - lo) / (hi - lo)
		}
	}
	// A trial without a parameter (momentum without SGD, the units of
	// layers it does not have) skips that axis with a dotted line, so that
	// it can still be followed from the objective to the last axis.
	trial := func(i int, sty draw.LineStyle) {
		skip := sty
		skip.Dashes, skip.Width = []vg.Length{vg.Points(1), vg.Points(2.5)}, sty.Width*0.7
		var pts []vg.Point
		gap := false
		for a := range norm {
			if math.IsNaN(norm[a][i]) {
				gap = true
				continue
			}
			pt := vg.Point{X: tx(float64(a)), Y: ty(norm[a][i])}
			if gap && len(pts) > 0 {
				if len(pts) > 1 {
					c.StrokeLines(sty, pts)
				}
				c.StrokeLines(skip, []vg.Point{pts[len(pts)-1], pt})
				pts = pts[:0]
			}
			gap = false
			pts = append(pts, pt)
		}
		if len(pts) > 1 {
			c.StrokeLines(sty, pts)
		}
	}
	for i := range pc.cols[0] {
		t := (pc.cols[0][i] - pc.vlo) / math.Max(pc.vhi-pc.vlo, 1e-300)
		trial(i, draw.LineStyle{Color: withAlpha(cmapViridis.at(t), 0.75), Width: vg.Points(1)})
	}
	trial(pc.best, draw.LineStyle{Color: colBest, Width: vg.Points(2.2)})
	axis := draw.LineStyle{Color: colModel, Width: vg.Points(1)}
	lab := textStyle(smallFontSize, draw.XLeft, draw.YCenter)
	for a := range pc.cols {
		x := tx(float64(a))
		c.StrokeLine2(axis, x, ty(0), x, ty(1))
		lo, hi := lims[a][0], lims[a][1]
		for _, t := range pc.tickers[a].Ticks(lo, hi) {
			if t.Label == "" || t.Value < lo-1e-9 || t.Value > hi+1e-9 {
				continue
			}
			y := ty((t.Value - lo) / (hi - lo))
			c.StrokeLine2(axis, x-vg.Points(2), y, x+vg.Points(2), y)
			// A white box under the label keeps it readable over the lines.
			pt := vg.Point{X: x + vg.Points(3), Y: y}
			r := lab.Rectangle(t.Label)
			box := []vg.Point{
				{X: pt.X + r.Min.X - 1, Y: pt.Y + r.Min.Y - 1}, {X: pt.X + r.Max.X + 1, Y: pt.Y + r.Min.Y - 1},
				{X: pt.X + r.Max.X + 1, Y: pt.Y + r.Max.Y + 1}, {X: pt.X + r.Min.X - 1, Y: pt.Y + r.Max.Y + 1},
			}
			c.FillPolygon(withAlpha(color.White, 0.8), box)
			c.FillText(lab, pt, t.Label)
		}
	}
}
