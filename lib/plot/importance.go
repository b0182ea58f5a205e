package plot

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
