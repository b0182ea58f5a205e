package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Trial is one trial of a study, as Optuna records it.
type Trial struct {
	Number int
	// State is Optuna's: "COMPLETE", "PRUNED", "FAIL" or "RUNNING" (any case).
	State string
	// Value is the objective; it is read only for complete trials.
	Value             float64
	Params            map[string]float64
	CategoricalParams map[string]string
	// Intermediate maps a step (epoch) to the value reported at it.
	Intermediate map[int]float64
}

// Param describes a searched parameter so that plots can use a log axis or
// name the categories in order. Without it the plots infer: categorical if
// the trials hold it in CategoricalParams, log when positive and spanning
// more than about a decade and a half (a ratio of 30).
type Param struct {
	Name      string
	Low, High float64
	Log       bool
	Choices   []string
}

// Study is what the study plots read.
type Study struct {
	Name string
	// Direction is "minimize" or "maximize".
	Direction string
	// Objective names the value for axis labels, e.g. "validation loss".
	Objective string
	Trials    []Trial
	Params    []Param
}

func (t Trial) complete() bool { return strings.EqualFold(t.State, "COMPLETE") }
func (t Trial) pruned() bool   { return strings.EqualFold(t.State, "PRUNED") }

func (s Study) maximize() bool { return strings.EqualFold(s.Direction, "maximize") }

func (s Study) objective() string {
	if s.Objective != "" {
		return s.Objective
	}
	return "objective value"
}

// check validates the study and returns its complete trials.
func (s Study) check() ([]Trial, error) {
	d := strings.ToLower(s.Direction)
	if d != "minimize" && d != "maximize" {
		return nil, fmt.Errorf("study %q: direction %q, want minimize or maximize", s.Name, s.Direction)
	}
	if len(s.Trials) == 0 {
		return nil, fmt.Errorf("study %q: no trials", s.Name)
	}
	var done []Trial
	for _, t := range s.Trials {
		for k, v := range t.Params {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("study %q: trial %d: param %s is %v", s.Name, t.Number, k, v)
			}
		}
		for step, v := range t.Intermediate {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("study %q: trial %d: intermediate value at step %d is %v", s.Name, t.Number, step, v)
			}
		}
		if t.complete() {
			if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
				return nil, fmt.Errorf("study %q: complete trial %d has value %v", s.Name, t.Number, t.Value)
			}
			done = append(done, t)
		}
	}
	return done, nil
}

func (s Study) counts() string {
	c, p := 0, 0
	for _, t := range s.Trials {
		if t.complete() {
			c++
		} else if t.pruned() {
			p++
		}
	}
	return fmt.Sprintf("%d trials: %d complete, %d pruned", len(s.Trials), c, p)
}

// paramAxis maps a parameter's values to a linear plot axis: log10 for log
// parameters, the index for categorical ones.
type paramAxis struct {
	name    string
	log     bool
	choices []string
	// integer is set when every trial's value is a whole number (layers,
	// units, epochs, batch size), so that the axis is labelled in them.
	integer bool
	// low and high are the searched range, when known: the span of an
	// axis whose trials all hold one value (momentum in the one SGD trial).
	low, high float64
}

// axes returns the axes of the study's parameters, in the order of
// s.Params, then the remaining ones by name.
func (s Study) axes() []paramAxis {
	spec := map[string]Param{}
	var order []string
	for _, p := range s.Params {
		spec[p.Name] = p
		order = append(order, p.Name)
	}
	seen := map[string]bool{}
	for _, n := range order {
		seen[n] = true
	}
	var rest []string
	for _, t := range s.Trials {
		for k := range t.Params {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
		for k := range t.CategoricalParams {
			if !seen[k] {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	sort.Strings(rest)
	used := map[string]bool{}
	for _, t := range s.Trials {
		for k := range t.Params {
			used[k] = true
		}
		for k := range t.CategoricalParams {
			used[k] = true
		}
	}
	var out []paramAxis
	for _, n := range append(order, rest...) {
		if !used[n] {
			continue // declared but never sampled: nothing to draw
		}
		a := paramAxis{name: n}
		p, hasSpec := spec[n]
		switch {
		case hasSpec && len(p.Choices) > 0:
			a.choices = p.Choices
		case hasSpec:
			// The trials may still hold it as a category (a spec without
			// its choices); otherwise the spec decides the scale.
			if _, choices := s.infer(n); choices != nil {
				a.choices = choices
			} else {
				a.log, a.low, a.high = p.Log, p.Low, p.High
			}
		default:
			a.log, a.choices = s.infer(n)
		}
		a.integer = a.choices == nil && !a.log && s.wholeNumbers(n)
		out = append(out, a)
	}
	return out
}

func (s Study) infer(name string) (log bool, choices []string) {
	cat := map[string]bool{}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, t := range s.Trials {
		if v, ok := t.CategoricalParams[name]; ok {
			cat[v] = true
		}
		if v, ok := t.Params[name]; ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if len(cat) > 0 {
		for c := range cat {
			choices = append(choices, c)
		}
		sort.Strings(choices)
		return false, choices
	}
	// Searched ranges of 10x or less (epochs, batch sizes, units) read
	// better linear; rates and decays span two or more decades.
	return lo > 0 && hi/lo >= 30, nil
}

// wholeNumbers reports whether every trial that has the parameter holds a
// whole number in it.
func (s Study) wholeNumbers(name string) bool {
	for _, t := range s.Trials {
		if v, ok := t.Params[name]; ok && v != math.Round(v) {
			return false
		}
	}
	return true
}

// value returns the trial's position on this axis.
func (a paramAxis) value(t Trial) (float64, bool) {
	if a.choices != nil {
		v, ok := t.CategoricalParams[a.name]
		if !ok {
			return 0, false
		}
		for i, c := range a.choices {
			if c == v {
				return float64(i), true
			}
		}
		return 0, false
	}
	v, ok := t.Params[a.name]
	if !ok {
		return 0, false
	}
	if a.log {
		if v <= 0 {
			return 0, false
		}
		return math.Log10(v), true
	}
	return v, true
}

// span returns the axis range to draw for values from lo to hi (in axis
// coordinates): lo..hi itself, except when all trials hold one value, where
// a made-up margin would invent values (a negative momentum, 1.4 epochs):
// the searched range then, else half a unit either side.
func (a paramAxis) span(lo, hi float64) (float64, float64) {
	if hi > lo {
		return lo, hi
	}
	if a.choices == nil && a.high > a.low && !a.integer {
		slo, shi := a.low, a.high
		if a.log {
			if slo <= 0 {
				return lo - 0.5, hi + 0.5
			}
			slo, shi = math.Log10(slo), math.Log10(shi)
		}
		if slo <= lo && lo <= shi {
			return slo, shi
		}
	}
	return lo - 0.5, hi + 0.5
}

func (a paramAxis) label() string {
	if a.log {
		return a.name + " (log scale)"
	}
	return a.name
}

// ticker labels the axis in parameter values.
func (a paramAxis) ticker() gplot.Ticker {
	switch {
	case a.choices != nil:
		return namedTicks(a.choices)
	case a.log:
		return log10Ticks{}
	case a.integer:
		return intTicks{}
	}
	return niceTicks{}
}

// log10Ticks labels an axis that holds log10 of the values with the values.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []gplot.Tick {
	ts := logTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ts {
		ts[i].Value = math.Log10(ts[i].Value)
	}
	return ts
}

// padRange widens lo..hi by a fraction so that points do not sit on the frame.
func padRange(lo, hi, frac float64) (float64, float64) {
	if hi <= lo {
		return lo - 0.5, hi + 0.5
	}
	d := (hi - lo) * frac
	return lo - d, hi + d
}

// OptimizationHistory draws the value of every complete trial and the best
// value so far; pruned trials are drawn grey at the last value they reported.
func OptimizationHistory(s Study) (*Figure, error) {
	done, err := s.check()
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameOptimizationHistory, err)
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no complete trial", NameOptimizationHistory, s.Name)
	}
	p := newPlot("", "trial", s.objective())
	p.X.Tick.Marker = intTicks{}
	lg := newLegend(p)
	var px, py []float64
	for _, t := range s.Trials {
		if t.pruned() && len(t.Intermediate) > 0 {
			px = append(px, float64(t.Number))
			py = append(py, t.Intermediate[lastStep(t)])
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].Number < done[j].Number })
	var cx, cy, bx, by []float64
	best := done[0].Value
	for _, t := range done {
		if (s.maximize() && t.Value > best) || (!s.maximize() && t.Value < best) {
			best = t.Value
		}
		cx, cy = append(cx, float64(t.Number)), append(cy, t.Value)
		bx, by = append(bx, float64(t.Number)), append(by, best)
	}
	// The best line runs on to the last trial, pruned ones included.
	if last := float64(s.Trials[len(s.Trials)-1].Number); last > bx[len(bx)-1] {
		bx, by = append(bx, last), append(by, best)
	}
	ty := logYIfWide(p, cy, py)
	if len(px) > 0 {
		sp := scatter(px, ty(py), colPruned, 2, draw.CrossGlyph{})
		p.Add(sp)
		lg.add("pruned (last reported value)", sp)
	}
	sc := scatter(cx, ty(cy), colTrain, 2.6, draw.CircleGlyph{})
	bl := line(bx, ty(by), colBest, 1.8, false)
	bl.StepStyle = plotter.PreStep
	p.Add(sc, bl)
	lg.add("complete trial", sc)
	lg.add("best value so far", bl)
	padY(p, 0.04)
	quietCorner(p, slices.Concat(cx, px, bx), slices.Concat(ty(cy), ty(py), ty(by)))
	return &Figure{Name: NameOptimizationHistory, Title: "Optimization history (" + s.counts() + ")",
		Width: 7.2 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

func lastStep(t Trial) int {
	last := math.MinInt
	for k := range t.Intermediate {
		last = max(last, k)
	}
	return last
}

// ParamImportances draws the importance of each parameter as horizontal
// bars, the most important on top, with its value written beside the bar.
func ParamImportances(importances map[string]float64) (*Figure, error) {
	if len(importances) == 0 {
		return nil, fmt.Errorf("plot: %s: no importances", NameParamImportances)
	}
	names := make([]string, 0, len(importances))
	for n, v := range importances {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("plot: %s: importance of %s is %v", NameParamImportances, n, v)
		}
		names = append(names, n)
	}
	// Ascending, so that the largest is drawn at the top.
	sort.Slice(names, func(i, j int) bool {
		a, b := importances[names[i]], importances[names[j]]
		return a < b || (a == b && names[i] > names[j])
	})
	vals := make(plotter.Values, len(names))
	labels := make([]string, len(names))
	pts := make(plotter.XYs, len(names))
	hi := 0.0
	for i, n := range names {
		vals[i] = importances[n]
		labels[i] = fmt.Sprintf("%.3f", vals[i])
		pts[i] = plotter.XY{X: vals[i], Y: float64(i)}
		hi = math.Max(hi, vals[i])
	}
	p := newPlot("", "importance", "")
	bars, err := plotter.NewBarChart(vals, vg.Points(math.Min(22, 220/float64(len(vals)))))
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameParamImportances, err)
	}
	bars.Horizontal, bars.Color, bars.LineStyle.Width = true, colTrain, 0
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameParamImportances, err)
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = textStyle(smallFontSize, draw.XLeft, draw.YCenter)
	}
	lb.Offset = vg.Point{X: vg.Points(3)}
	p.Add(bars, lb)
	p.Y.Tick.Marker = namedTicks(names)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	p.X.Min = 0
	if hi == 0 {
		hi = 1
	}
	p.X.Max = hi * 1.18 // room for the value labels
	return &Figure{Name: NameParamImportances, Title: "Hyperparameter importances",
		Width: 6.4 * vg.Inch, Height: vg.Length(math.Max(3, 0.45*float64(len(names))+1.4)) * vg.Inch,
		body: single(p)}, nil
}

// TopParams returns the n names with the largest importance, largest first:
// the parameters Contour is usually given.
func TopParams(importances map[string]float64, n int) []string {
	names := make([]string, 0, len(importances))
	for k := range importances {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := importances[names[i]], importances[names[j]]
		return a > b || (a == b && names[i] < names[j])
	})
	return names[:min(n, len(names))]
}

func (s Study) axis(name string) (paramAxis, bool) {
	for _, a := range s.axes() {
		if a.name == name {
			return a, true
		}
	}
	return paramAxis{}, false
}

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

// Slice draws the objective against each parameter, one panel each, the
// points coloured by trial number so that the search's drift shows.
func Slice(s Study) (*Figure, error) {
	done, err := s.check()
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameSlice, err)
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no complete trial", NameSlice, s.Name)
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

// ParallelCoordinate draws every complete trial as a line through one
// vertical axis per parameter, the objective first, coloured by objective;
// the best trial is drawn on top in red.
func ParallelCoordinate(s Study) (*Figure, error) {
	done, err := s.check()
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameParallelCoordinate, err)
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no complete trial", NameParallelCoordinate, s.Name)
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

// IntermediateValues draws the values each trial reported per step, complete
// trials in colour and pruned ones in grey, so that where the pruner cut
// shows.
func IntermediateValues(s Study) (*Figure, error) {
	if _, err := s.check(); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameIntermediateValues, err)
	}
	p := newPlot("", "step (epoch)", "intermediate "+s.objective())
	p.X.Tick.Marker = intTicks{}
	lg := newLegend(p)
	type curve struct {
		xs, ys []float64
		pruned bool
	}
	var curves []curve
	var all [][]float64
	// Pruned first, so that the complete trials are drawn over them.
	for _, wantPruned := range []bool{true, false} {
		for _, t := range s.Trials {
			if len(t.Intermediate) == 0 || t.pruned() != wantPruned {
				continue
			}
			steps := make([]int, 0, len(t.Intermediate))
			for k := range t.Intermediate {
				steps = append(steps, k)
			}
			sort.Ints(steps)
			xs, ys := make([]float64, len(steps)), make([]float64, len(steps))
			for i, k := range steps {
				xs[i], ys[i] = float64(k), t.Intermediate[k]
			}
			curves = append(curves, curve{xs: xs, ys: ys, pruned: wantPruned})
			all = append(all, ys)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("plot: %s: study %q has no intermediate values", NameIntermediateValues, s.Name)
	}
	ty := logYIfWide(p, all...)
	var lp, lc *plotter.Line
	var allX, allY []float64
	for _, cv := range curves {
		c := colTrain
		if cv.pruned {
			c = colPruned
		}
		l := line(cv.xs, ty(cv.ys), withAlpha(c, 0.6), 0.8, false)
		p.Add(l)
		if len(cv.xs) < 10 {
			// A line through one or two values is invisible or says
			// nothing about where they are: a trial of one epoch, or one
			// pruned at its first report.
			p.Add(scatter(cv.xs, ty(cv.ys), withAlpha(c, 0.8), 2.2, draw.CircleGlyph{}))
		}
		allX, allY = append(allX, cv.xs...), append(allY, ty(cv.ys)...)
		if cv.pruned && lp == nil {
			lp = l
		} else if !cv.pruned && lc == nil {
			lc = l
		}
	}
	if lc != nil {
		lg.add("complete", lc)
	}
	if lp != nil {
		lg.add("pruned", lp)
	}
	padY(p, 0.04)
	quietCorner(p, allX, allY)
	return &Figure{Name: NameIntermediateValues, Title: "Intermediate values (" + s.counts() + ")",
		Width: 7.2 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}
