package plot

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dataPanel is the panel shared by data_best, data_mean and fit.gif: the
// train and test points under whatever the caller adds.
func dataPanel(title string, train, test XY) (*gplot.Plot, *legend) {
	p := newPlot(title, "x", "y")
	lg := newLegend(p)
	tr := scatter(train.X, train.Y, withAlpha(colTrain, 0.8), 2.2, draw.CircleGlyph{})
	te := scatter(test.X, test.Y, withAlpha(colTest, 0.8), 2.2, draw.TriangleGlyph{})
	p.Add(tr, te)
	lg.add("train", tr)
	lg.add("test", te)
	p.Legend.Left = true
	return p, lg
}

// headroom raises the top of the y axis so that the legend, top left, sits
// above the data instead of on it.
func headroom(p *gplot.Plot) {
	p.Y.Max += (p.Y.Max - p.Y.Min) * 0.22
}

func checkTrainTest(train, test XY) error {
	if err := train.check("train", 1); err != nil {
		return err
	}
	return test.check("test", 0)
}

// Data draws the regression's train and test points alone, before any
// model: the data figure of the notebook's first look at the task.
func Data(train, test XY) (*Figure, error) {
	if err := checkTrainTest(train, test); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameData, err)
	}
	p, _ := dataPanel("", train, test)
	headroom(p)
	return &Figure{Name: NameData, Title: "Regression data",
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// DataBest draws the train and test points with the best model's curve,
// which the caller evaluates over an interval covering all the data.
func DataBest(train, test, best XY) (*Figure, error) {
	if err := checkTrainTest(train, test); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameDataBest, err)
	}
	if err := best.check("best model curve", 2); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameDataBest, err)
	}
	p, lg := dataPanel("", train, test)
	l := line(best.X, best.Y, colModel, 2, false)
	p.Add(l)
	lg.add("best model", l)
	headroom(p)
	return &Figure{Name: NameDataBest, Title: "Fit of the best model",
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// DataMean draws the mean of the k models' predictions over xs, with the
// min..max band of the models; preds[m][i] is model m at xs[i].
func DataMean(train, test XY, xs []float64, preds [][]float64) (*Figure, error) {
	fail := func(err error) (*Figure, error) { return nil, fmt.Errorf("plot: %s: %w", NameDataMean, err) }
	if err := checkTrainTest(train, test); err != nil {
		return fail(err)
	}
	if len(xs) < 2 {
		return fail(fmt.Errorf("%d x values, need at least 2", len(xs)))
	}
	if err := checkFinite("xs", xs); err != nil {
		return fail(err)
	}
	if len(preds) == 0 {
		return fail(fmt.Errorf("no models"))
	}
	for m, ys := range preds {
		if len(ys) != len(xs) {
			return fail(fmt.Errorf("model %d: %d predictions for %d x values", m+1, len(ys), len(xs)))
		}
		if err := checkFinite(fmt.Sprintf("model %d predictions", m+1), ys); err != nil {
			return fail(err)
		}
	}
	mean, lo, hi := make([]float64, len(xs)), make([]float64, len(xs)), make([]float64, len(xs))
	for i := range xs {
		lo[i], hi[i] = math.Inf(1), math.Inf(-1)
		for _, ys := range preds {
			mean[i] += ys[i] / float64(len(preds))
			lo[i], hi[i] = math.Min(lo[i], ys[i]), math.Max(hi[i], ys[i])
		}
	}
	p, lg := dataPanel("", train, test)
	b := band(xs, lo, hi, colModel)
	l := line(xs, mean, colModel, 2, false)
	p.Add(b, l)
	lg.add(fmt.Sprintf("mean of %d models", len(preds)), l)
	lg.add("min..max of the models", b)
	headroom(p)
	return &Figure{Name: NameDataMean, Title: "Mean prediction of the k models",
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// FitAnimation is fit.gif: one frame per snapshot of the last fold's model,
// all on the same axes so that only the curve moves.
func FitAnimation(train, test XY, frames []FitFrame) (*Animation, error) {
	fail := func(err error) (*Animation, error) { return nil, fmt.Errorf("plot: %s: %w", NameFit, err) }
	if err := checkTrainTest(train, test); err != nil {
		return fail(err)
	}
	if len(frames) == 0 {
		return fail(fmt.Errorf("no frames"))
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(d XY) {
		for i := range d.X {
			xmin, xmax = math.Min(xmin, d.X[i]), math.Max(xmax, d.X[i])
			ymin, ymax = math.Min(ymin, d.Y[i]), math.Max(ymax, d.Y[i])
		}
	}
	grow(train)
	grow(test)
	// Early curves can be far off; the axes follow the data, with a margin,
	// and clip the curve rather than shrink the data.
	dy := (ymax - ymin) * 0.25
	ymin, ymax = ymin-dy, ymax+1.6*dy // the top for the legend
	for i, fr := range frames {
		if err := fr.Curve.check(fmt.Sprintf("frame %d curve", i+1), 2); err != nil {
			return fail(err)
		}
		for _, x := range fr.Curve.X {
			xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		}
	}
	figs := make([]*Figure, len(frames))
	for i, fr := range frames {
		p, lg := dataPanel("", train, test)
		l := line(fr.Curve.X, clip(fr.Curve.Y, ymin, ymax), colModel, 2, false)
		p.Add(l)
		lg.add("model", l)
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, xmax, ymin, ymax
		figs[i] = &Figure{Name: NameFit, Title: "Last fold, epoch " + strconv.Itoa(fr.Epoch),
			Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}
	}
	return &Animation{Name: NameFit, Frames: figs, Delay: 20}, nil
}

func clip(vs []float64, lo, hi float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.Max(lo, math.Min(hi, v))
	}
	return out
}

// RegressionPerformances is model_performances of the regression: the test
// loss of each of the k models, the best (lowest) one highlighted.
func RegressionPerformances(testLoss []float64) (*Figure, error) {
	if len(testLoss) == 0 {
		return nil, fmt.Errorf("plot: %s: no models", NameModelPerformances)
	}
	if err := checkFinite("test loss", testLoss); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameModelPerformances, err)
	}
	p, err := barPanel("", "model (fold)", "test loss (MSE)", testLoss, argmin(testLoss), false)
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameModelPerformances, err)
	}
	return &Figure{Name: NameModelPerformances, Title: "Test loss of the k models (best in red)",
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// barPanel draws one bar per model, labelled 1..k, best in colBest, with the
// value written above each bar. zoom starts the y axis near the smallest bar
// so that close values (accuracies of 0.88..0.89) can be told apart.
func barPanel(title, xLabel, yLabel string, vs []float64, best int, zoom bool) (*gplot.Plot, error) {
	p := newPlot(title, xLabel, yLabel)
	p.X.Tick.Marker = modelTicks(len(vs))
	others := make(plotter.Values, len(vs))
	bestOnly := make(plotter.Values, len(vs))
	for i, v := range vs {
		if i == best {
			bestOnly[i] = v
		} else {
			others[i] = v
		}
	}
	w := vg.Points(math.Min(30, 260/float64(len(vs))))
	b1, err := plotter.NewBarChart(others, w)
	if err != nil {
		return nil, err
	}
	b1.Color, b1.LineStyle.Width = colBar, 0
	b2, err := plotter.NewBarChart(bestOnly, w)
	if err != nil {
		return nil, err
	}
	b2.Color, b2.LineStyle.Width = colBest, 0
	p.Add(b1, b2)
	lo, hi := vs[argmin(vs)], vs[argmax(vs)]
	if zoom && lo > 0 {
		span := math.Max(hi-lo, 1e-3*hi)
		p.Y.Min = math.Max(0, lo-span*0.6)
		p.Y.Max = hi + span*0.4
	} else {
		p.Y.Min = math.Min(0, lo)
		p.Y.Max = hi * 1.12
	}
	labels := make([]string, len(vs))
	for i, v := range vs {
		labels[i] = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if len(vs) <= 12 {
		pts := make(plotter.XYs, len(vs))
		for i, v := range vs {
			pts[i] = plotter.XY{X: float64(i), Y: v}
		}
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: labels})
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i] = textStyle(smallFontSize, draw.XCenter, draw.YBottom)
		}
		l.Offset = vg.Point{Y: vg.Points(2)}
		p.Add(l)
	}
	p.X.Min, p.X.Max = -0.6, float64(len(vs))-0.4
	return p, nil
}

func modelTicks(n int) gplot.ConstantTicks {
	names := make([]string, n)
	for i := range names {
		names[i] = strconv.Itoa(i + 1)
	}
	return namedTicks(names)
}

// Losses draws the average train and validation loss per epoch across the
// folds, each with its min..max band; the y axis turns logarithmic when the
// losses span more than two decades.
func Losses(folds []History) (*Figure, error) {
	p, err := meanPanel(folds, "TrainLoss", "ValLoss", "loss", true)
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameLosses, err)
	}
	return &Figure{Name: NameLosses, Title: fmt.Sprintf("Average loss over %d folds", len(folds)),
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// Accuracies draws the average train and validation accuracy per epoch across
// the folds, each with its min..max band.
func Accuracies(folds []History) (*Figure, error) {
	p, err := meanPanel(folds, "TrainAcc", "ValAcc", "accuracy", false)
	if err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameAccuracies, err)
	}
	p.Legend.Top = false
	return &Figure{Name: NameAccuracies, Title: fmt.Sprintf("Average accuracy over %d folds", len(folds)),
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// fewEpochs is the length of a history up to which the epochs are marked
// with dots: over two or three epochs a bare line hides that only its ends
// are measured.
const fewEpochs = 12

func meanPanel(folds []History, trainField, valField, yLabel string, logOK bool) (*gplot.Plot, error) {
	if err := checkHistories(folds, trainField, valField); err != nil {
		return nil, err
	}
	xs := epochsFloat(folds[0])
	p := newPlot("", "epoch", yLabel)
	p.X.Tick.Marker = intTicks{}
	lg := newLegend(p)
	type stats struct {
		name         string
		c            color.Color
		mean, lo, hi []float64
	}
	series := []stats{{name: "train", c: colTrain}, {name: "validation", c: colVal}}
	var all [][]float64
	for i, f := range []string{trainField, valField} {
		series[i].mean, series[i].lo, series[i].hi = foldStats(folds, f)
		all = append(all, series[i].lo, series[i].hi)
	}
	ty := identity
	if logOK {
		ty = logYIfWide(p, all...)
	}
	for _, s := range series {
		b := band(xs, ty(s.lo), ty(s.hi), s.c)
		l := line(xs, ty(s.mean), s.c, 1.8, false)
		p.Add(b, l)
		if len(xs) <= fewEpochs {
			p.Add(scatter(xs, ty(s.mean), s.c, 2.4, draw.CircleGlyph{}))
		}
		lg.add(s.name+" (mean)", l)
		lg.add(s.name+" (min..max)", b)
	}
	return p, nil
}

// LossesForEachFold draws the validation loss of every fold, one line each,
// with the train loss dashed in the same colour.
func LossesForEachFold(folds []History) (*Figure, error) {
	if err := checkHistories(folds, "ValLoss"); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", NameLossesForEachFold, err)
	}
	withTrain := checkHistories(folds, "TrainLoss") == nil
	xs := epochsFloat(folds[0])
	p := newPlot("", "epoch", "validation loss")
	p.X.Tick.Marker = intTicks{}
	lg := newLegend(p)
	var all [][]float64
	for _, h := range folds {
		all = append(all, h.ValLoss)
		if withTrain {
			all = append(all, h.TrainLoss)
		}
	}
	ty := logYIfWide(p, all...)
	for k, h := range folds {
		c := seriesColor(k)
		if withTrain {
			p.Add(line(xs, ty(h.TrainLoss), withAlpha(c, 0.45), 1, true))
		}
		l := line(xs, ty(h.ValLoss), c, 1.5, false)
		p.Add(l)
		if len(xs) <= fewEpochs {
			p.Add(scatter(xs, ty(h.ValLoss), c, 2.2, draw.CircleGlyph{}))
		}
		lg.add(fmt.Sprintf("fold %d", k+1), l)
	}
	title := "Validation loss of each fold"
	if withTrain {
		title += " (train loss dashed)"
	}
	return &Figure{Name: NameLossesForEachFold, Title: title,
		Width: 6.4 * vg.Inch, Height: 4.8 * vg.Inch, body: single(p)}, nil
}

// Weights draws a histogram of the weights of each layer, one panel per
// layer; the caller picks the layers (all of them for the regression, the
// linear ones for LeNet5).
func Weights(layers []Layer) (*Figure, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("plot: %s: no layers", NameWeights)
	}
	var panels []*gplot.Plot
	for _, l := range layers {
		if err := l.check(0); err != nil {
			return nil, fmt.Errorf("plot: %s: %w", NameWeights, err)
		}
		vs := make(plotter.Values, len(l.Weights))
		for i, w := range l.Weights {
			vs[i] = float64(w)
		}
		bins := int(math.Max(10, math.Min(60, math.Sqrt(float64(len(vs))))))
		if allEqual(vs) {
			bins = 1
		}
		h, err := plotter.NewHist(vs, bins)
		if err != nil {
			return nil, fmt.Errorf("plot: %s: layer %q: %w", NameWeights, l.Name, err)
		}
		h.FillColor, h.LineStyle.Width = colTrain, 0
		p := newPlot(fmt.Sprintf("%s  %v  (%d weights)", l.Name, l.Shape, len(vs)), "weight", "count")
		p.Add(h)
		p.Y.Max *= 1.06 // the tallest bar clear of the frame
		panels = append(panels, p)
	}
	cols := 1
	if len(panels) > 1 {
		cols = 2
	}
	if len(panels) > 4 {
		cols = 3
	}
	rows := (len(panels) + cols - 1) / cols
	g := make([][]*gplot.Plot, rows)
	for i, p := range panels {
		g[i/cols] = append(g[i/cols], p)
	}
	return &Figure{Name: NameWeights, Title: "Weights of each layer of the best model",
		Width: vg.Length(cols) * 4.2 * vg.Inch, Height: vg.Length(rows)*3.2*vg.Inch + 0.4*vg.Inch,
		body: grid(g)}, nil
}

func allEqual(vs []float64) bool {
	for _, v := range vs {
		if v != vs[0] {
			return false
		}
	}
	return true
}

// Activations draws, for the input x=h, the activation of every unit of each
// layer as a stem plot, one panel per layer stacked top to bottom.
func Activations(h float64, layers []Activation) (*Figure, error) {
	name := ActivationsName(h)
	if len(layers) == 0 {
		return nil, fmt.Errorf("plot: %s: no layers", name)
	}
	if math.IsNaN(h) || math.IsInf(h, 0) {
		return nil, fmt.Errorf("plot: activations: input x is %v", h)
	}
	var rows [][]*gplot.Plot
	for _, a := range layers {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("plot: %s: layer %q: no activations", name, a.Layer)
		}
		if err := checkFinite32(fmt.Sprintf("layer %q activations", a.Layer), a.Values); err != nil {
			return nil, fmt.Errorf("plot: %s: %w", name, err)
		}
		active := 0
		for _, v := range a.Values {
			if v > 0 {
				active++
			}
		}
		title := fmt.Sprintf("%s: %d of %d units active", a.Layer, active, len(a.Values))
		if len(a.Values) == 1 {
			// The output unit is linear: "active" means nothing there, its
			// value is the prediction.
			title = fmt.Sprintf("%s: %s", a.Layer, strconv.FormatFloat(float64(a.Values[0]), 'g', 4, 32))
		}
		p := newPlot(title, "unit", "activation")
		p.Add(stems{vals: a.Values, color: colTrain})
		p.X.Tick.Marker = intTicks{}
		p.X.Min, p.X.Max = -0.5, float64(len(a.Values))-0.5
		p.Y.Min = math.Min(0, p.Y.Min)
		if p.Y.Max <= p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
		p.Y.Max += (p.Y.Max - p.Y.Min) * 0.05 // the tallest stem clear of the frame
		rows = append(rows, []*gplot.Plot{p})
	}
	return &Figure{Name: name, Title: "Activation profile for input x = " + strconv.FormatFloat(h, 'g', -1, 64),
		Width: 6.4 * vg.Inch, Height: vg.Length(len(layers))*2.2*vg.Inch + 0.4*vg.Inch, body: grid(rows)}, nil
}

// stems is a stem plot: a line from zero to each value, with a dot on top.
type stems struct {
	vals  []float32
	color color.Color
}

func (s stems) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	ls := draw.LineStyle{Color: s.color, Width: vg.Points(0.8)}
	gs := draw.GlyphStyle{Color: s.color, Radius: vg.Points(1.4), Shape: draw.CircleGlyph{}}
	for i, v := range s.vals {
		x, y := tx(float64(i)), ty(float64(v))
		c.StrokeLine2(ls, x, ty(0), x, y)
		c.DrawGlyph(gs, vg.Point{X: x, Y: y})
	}
}

func (s stems) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 0, 0
	for _, v := range s.vals {
		ymin, ymax = math.Min(ymin, float64(v)), math.Max(ymax, float64(v))
	}
	return 0, float64(len(s.vals) - 1), ymin, ymax
}
