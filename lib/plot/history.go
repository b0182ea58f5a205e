package plot

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// OptimizationHistory draws the value of every complete trial and the best
// value so far; pruned trials are drawn grey at the last value they reported.
func OptimizationHistory(s Study) (*Figure, error) {
	done, err := s.completeTrials(NameOptimizationHistory)
	if err != nil {
		return nil, err
	}
	p := newPlot("", "trial", s.objective())
	p.X.Tick.Marker = intTicks{}
	lg := newLegend(p)
	var px, py []float64
	for _, t := range s.Trials {
		if v, ok := lastFinite(t); ok && t.pruned() {
			px = append(px, float64(t.Number))
			py = append(py, v)
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

// lastFinite is the value a trial reported at its last step with a finite
// value (a diverged trial reports NaN); ok is false when it has none.
func lastFinite(t Trial) (v float64, ok bool) {
	last := math.MinInt
	for k, x := range t.Intermediate {
		if k > last && !math.IsNaN(x) && !math.IsInf(x, 0) {
			last, v, ok = k, x, true
		}
	}
	return v, ok
}

// IntermediateValues draws the values each trial reported per step, complete
// (and running) trials in colour and pruned ones in grey, so that where the
// pruner cut shows. Failed trials are left out, as Optuna's figure leaves
// them: a diverged one would stretch the axis over its exploding values.
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
			if len(t.Intermediate) == 0 || t.failed() || t.pruned() != wantPruned {
				continue
			}
			steps := make([]int, 0, len(t.Intermediate))
			for k, v := range t.Intermediate {
				if !math.IsNaN(v) && !math.IsInf(v, 0) {
					steps = append(steps, k)
				}
			}
			if len(steps) == 0 {
				continue
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
