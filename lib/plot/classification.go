package plot

import (
	"fmt"
	"image"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ClassificationPerformances is model_performances of the classification:
// test accuracy and test loss of each model, the most accurate highlighted
// in both panels. The y axes start near the smallest bar, since the models
// differ by fractions of a percent.
func ClassificationPerformances(testAcc, testLoss []float64) (*Figure, error) {
	fail := func(err error) (*Figure, error) {
		return nil, fmt.Errorf("plot: %s: %w", NameModelPerformances, err)
	}
	if len(testAcc) == 0 {
		return fail(fmt.Errorf("no models"))
	}
	if len(testLoss) != len(testAcc) {
		return fail(fmt.Errorf("%d accuracies but %d losses", len(testAcc), len(testLoss)))
	}
	if err := checkFinite("test accuracy", testAcc); err != nil {
		return fail(err)
	}
	if err := checkFinite("test loss", testLoss); err != nil {
		return fail(err)
	}
	best := argmax(testAcc)
	acc, err := barPanel("test accuracy", "model (fold)", "accuracy (axis not from 0)", testAcc, best, true)
	if err != nil {
		return fail(err)
	}
	loss, err := barPanel("test loss", "model (fold)", "cross-entropy (axis not from 0)", testLoss, best, true)
	if err != nil {
		return fail(err)
	}
	return &Figure{Name: NameModelPerformances,
		Title: fmt.Sprintf("Test performance of the %d models (best, model %d, in red)", len(testAcc), best+1),
		Width: 10 * vg.Inch, Height: 4.4 * vg.Inch, body: grid([][]*gplot.Plot{{acc, loss}})}, nil
}

// ConfusionBest is confusion_best: the confusion matrix of the best model.
func ConfusionBest(counts [][]int, classes []string) (*Figure, error) {
	return confusion(NameConfusionBest, "Confusion matrix of the best model", counts, classes)
}

// ConfusionVote is confusion_vote: the confusion matrix of the majority vote.
func ConfusionVote(counts [][]int, classes []string) (*Figure, error) {
	return confusion(NameConfusionVote, "Confusion matrix of the majority vote", counts, classes)
}

// confusion draws counts[true][predicted] with the count in each cell and the
// colour of each cell its share of the true class (its row), so that a rare
// class's mistakes show as clearly as a common one's.
func confusion(name, title string, counts [][]int, classes []string) (*Figure, error) {
	n := len(classes)
	if n == 0 {
		return nil, fmt.Errorf("plot: %s: no class names", name)
	}
	if len(counts) != n {
		return nil, fmt.Errorf("plot: %s: %d rows for %d classes", name, len(counts), n)
	}
	total, correct := 0, 0
	for i, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("plot: %s: row %d (%s) has %d columns for %d classes", name, i, classes[i], len(row), n)
		}
		for j, v := range row {
			if v < 0 {
				return nil, fmt.Errorf("plot: %s: count[%d][%d] is negative (%d)", name, i, j, v)
			}
			total += v
			if i == j {
				correct += v
			}
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("plot: %s: all counts are zero", name)
	}
	p := newPlot("", "predicted label", "true label")
	p.Add(confusionCells{counts: counts})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5, -0.5, float64(n)-0.5
	p.X.Tick.Marker = namedTicks(classes)
	// Row 0 at the top, as a matrix is read.
	rev := make([]string, n)
	for i, c := range classes {
		rev[n-1-i] = c
	}
	p.Y.Tick.Marker = namedTicks(rev)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.X.Tick.Length, p.Y.Tick.Length = vg.Points(3), vg.Points(3)
	bar := newColorBar(cmapBlues, 0, 1, "fraction of the true class")
	title = fmt.Sprintf("%s (accuracy %.4f on %d)", title, float64(correct)/float64(total), total)
	return &Figure{Name: name, Title: title, Width: 7.2 * vg.Inch, Height: 6.4 * vg.Inch,
		body: withColorBar(single(p), bar)}, nil
}

// confusionCells draws the cells of a confusion matrix, row 0 on top.
type confusionCells struct{ counts [][]int }

func (m confusionCells) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	n := len(m.counts)
	for i, row := range m.counts {
		sum := 0
		for _, v := range row {
			sum += v
		}
		y := float64(n - 1 - i)
		for j, v := range row {
			frac := 0.0
			if sum > 0 {
				frac = float64(v) / float64(sum)
			}
			col := cmapBlues.at(frac)
			x := float64(j)
			c.FillPolygon(col, []vg.Point{
				{X: tx(x - 0.5), Y: ty(y - 0.5)}, {X: tx(x + 0.5), Y: ty(y - 0.5)},
				{X: tx(x + 0.5), Y: ty(y + 0.5)}, {X: tx(x - 0.5), Y: ty(y + 0.5)},
			})
			sty := textStyle(smallFontSize, draw.XCenter, draw.YCenter)
			if luminance(col) < 0.55 {
				sty.Color = rgb(0xffffff)
			}
			if i == j {
				sty.Font.Weight = xfont.WeightBold // the diagonal is the score
			}
			c.FillText(sty, vg.Point{X: tx(x), Y: ty(y)}, strconv.Itoa(v))
		}
	}
}

// Filters draws the kernels of a convolution, Shape [out, in, h, w], on one
// symmetric colour scale (blue negative, red positive) so that signs and
// sizes compare across filters. A layer with one input channel is laid out
// as a row of filters; otherwise a row per output and a column per input.
func Filters(name string, l Layer) (*Figure, error) {
	if err := l.check(4); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", name, err)
	}
	out, in, h, w := l.Shape[0], l.Shape[1], l.Shape[2], l.Shape[3]
	lo, hi := minMax32(l.Weights)
	lim := math.Max(math.Abs(lo), math.Abs(hi))
	if lim == 0 {
		lim = 1
	}
	var cells []imageCell
	var rowNames, colNames []string
	rows, cols := 0, 0
	if in == 1 {
		cols = min(out, 8)
		rows = (out + cols - 1) / cols
		for o := range out {
			k := l.Weights[o*h*w : (o+1)*h*w]
			cells = append(cells, imageCell{img: raster(k, h, w, -lim, lim, cmapDiverging), label: fmt.Sprintf("filter %d", o+1)})
		}
	} else {
		// A row per input channel and a column per output keeps the 16x6
		// grid of LeNet's conv2 landscape, like a page.
		rows, cols = in, out
		cells = make([]imageCell, in*out)
		for o := range out {
			colNames = append(colNames, fmt.Sprintf("out %d", o+1))
			for i := range in {
				k := l.Weights[(o*in+i)*h*w : (o*in+i+1)*h*w]
				cells[i*out+o] = imageCell{img: raster(k, h, w, -lim, lim, cmapDiverging)}
			}
		}
		for i := range in {
			rowNames = append(rowNames, fmt.Sprintf("in %d", i+1))
		}
	}
	g := imageGrid{cells: cells, rows: rows, cols: cols, rowNames: rowNames, colNames: colNames}
	title := fmt.Sprintf("Filters of %s: %d x %d of %dx%d", l.Name, out, in, h, w)
	cell := 0.95 * vg.Inch
	if cols > 8 {
		cell = 0.6 * vg.Inch
	}
	return &Figure{Name: name, Title: title, Width: vg.Length(cols)*cell + 2*vg.Inch,
		Height: vg.Length(rows)*cell*1.08 + 0.9*vg.Inch,
		body:   withColorBar(g.draw, newColorBar(cmapDiverging, -lim, lim, "weight"))}, nil
}

// FiltersConv1 is filters_conv1, the 6 kernels of the first convolution.
func FiltersConv1(l Layer) (*Figure, error) { return Filters(NameFiltersConv1, l) }

// FiltersConv2 is filters_conv2, the 16x6 kernels of the second convolution.
func FiltersConv2(l Layer) (*Figure, error) { return Filters(NameFiltersConv2, l) }

// FeatureMaps draws the input image beside the outputs of a convolution
// for it, maps Shape [channels, h, w]. Each map is scaled to its own range
// (a map that is all zero after ReLU stays dark).
func FeatureMaps(name string, input Image, maps Layer) (*Figure, error) {
	if err := input.check("input image"); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", name, err)
	}
	if err := maps.check(3); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", name, err)
	}
	ch, h, w := maps.Shape[0], maps.Shape[1], maps.Shape[2]
	cols := int(math.Ceil(math.Sqrt(float64(ch))))
	if ch == 6 {
		cols = 3
	}
	rows := (ch + cols - 1) / cols
	var cells []imageCell
	for k := range ch {
		m := maps.Weights[k*h*w : (k+1)*h*w]
		lo, hi := minMax32(m)
		label := fmt.Sprintf("map %d", k+1)
		if lo == hi {
			// Scaled to its own range a constant map is one colour, which
			// does not say which: name it (a dead ReLU channel is all 0).
			label += " (all " + strconv.FormatFloat(float64(lo), 'g', 3, 32) + ")"
		}
		cells = append(cells, imageCell{img: raster(m, h, w, lo, hi, cmapViridis), label: label})
	}
	ilo, ihi := minMax32(input.Pixels)
	in := imageGrid{cells: []imageCell{{img: raster(input.Pixels, input.Height, input.Width, ilo, ihi, cmapGrey),
		label: "input image"}}, rows: 1, cols: 1}
	g := imageGrid{cells: cells, rows: rows, cols: cols}
	cell := 1.1 * vg.Inch
	return &Figure{Name: name, Title: fmt.Sprintf("Feature maps of %s (%d of %dx%d)", maps.Name, ch, h, w),
		Width: vg.Length(cols+2)*cell + 0.6*vg.Inch, Height: vg.Length(rows)*cell*1.2 + 0.7*vg.Inch,
		body: func(c draw.Canvas) {
			left, right := splitX(c, 2.0/float64(cols+2))
			// The input is drawn one cell high next to the first row... but
			// bigger reads better: it takes the left column, centred.
			hgt := left.Max.Y - left.Min.Y
			side := min(left.Max.X-left.Min.X, hgt)
			pad := (hgt - side) / 2
			in.draw(draw.Crop(left, 0, 0, pad, -pad))
			g.draw(right)
		}}, nil
}

// FeatureMapsConv1 is feature_maps_conv1.
func FeatureMapsConv1(input Image, maps Layer) (*Figure, error) {
	return FeatureMaps(NameFeatureMapsConv1, input, maps)
}

// FeatureMapsConv2 is feature_maps_conv2.
func FeatureMapsConv2(input Image, maps Layer) (*Figure, error) {
	return FeatureMaps(NameFeatureMapsConv2, input, maps)
}

// Samples draws a grid of images with their class names; when predicted is
// not nil, each label reads "true / predicted" and mistakes are red.
func Samples(images []Image, labels, predicted []int, classes []string) (*Figure, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("plot: %s: no images", NameSamples)
	}
	if len(labels) != len(images) {
		return nil, fmt.Errorf("plot: %s: %d labels for %d images", NameSamples, len(labels), len(images))
	}
	if predicted != nil && len(predicted) != len(images) {
		return nil, fmt.Errorf("plot: %s: %d predictions for %d images", NameSamples, len(predicted), len(images))
	}
	label := func(k int) (string, error) {
		if k < 0 || k >= len(classes) {
			return "", fmt.Errorf("label %d outside the %d class names", k, len(classes))
		}
		return classes[k], nil
	}
	var cells []imageCell
	for i, im := range images {
		if err := im.check(fmt.Sprintf("image %d", i)); err != nil {
			return nil, fmt.Errorf("plot: %s: %w", NameSamples, err)
		}
		name, err := label(labels[i])
		if err != nil {
			return nil, fmt.Errorf("plot: %s: image %d: %w", NameSamples, i, err)
		}
		wrong := false
		if predicted != nil {
			pn, err := label(predicted[i])
			if err != nil {
				return nil, fmt.Errorf("plot: %s: image %d prediction: %w", NameSamples, i, err)
			}
			wrong = predicted[i] != labels[i]
			if wrong {
				name += " / " + pn
			}
		}
		lo, hi := minMax32(im.Pixels)
		cells = append(cells, imageCell{img: raster(im.Pixels, im.Height, im.Width, lo, hi, cmapGrey), label: name, wrong: wrong})
	}
	cols := min(len(images), 8)
	rows := (len(images) + cols - 1) / cols
	g := imageGrid{cells: cells, rows: rows, cols: cols}
	title := "Sample images with their labels"
	if predicted != nil {
		title = "Sample images: label (true / predicted in red when wrong)"
	}
	return &Figure{Name: NameSamples, Title: title,
		Width: vg.Length(cols) * 1.15 * vg.Inch, Height: vg.Length(rows)*1.4*vg.Inch + 0.4*vg.Inch, body: g.draw}, nil
}

// imageCell is one picture of an imageGrid, with an optional label above.
type imageCell struct {
	img   image.Image
	label string
	wrong bool
}

// imageGrid draws square images in rows and columns, with optional row and
// column names, keeping every image square whatever the canvas shape.
type imageGrid struct {
	cells              []imageCell
	rows, cols         int
	rowNames, colNames []string
}

func (g imageGrid) draw(c draw.Canvas) {
	labelH := vg.Length(0)
	for _, cell := range g.cells {
		if cell.label != "" {
			labelH = vg.Points(smallFontSize * 1.6)
		}
	}
	left, top := vg.Length(0), vg.Length(0)
	if len(g.rowNames) > 0 {
		left = vg.Points(smallFontSize * 3.6)
	}
	if len(g.colNames) > 0 {
		top = vg.Points(smallFontSize * 1.8)
	}
	margin := vg.Points(6)
	c = draw.Crop(c, margin, -margin, margin, -margin)
	W, H := c.Max.X-c.Min.X-left, c.Max.Y-c.Min.Y-top
	gap := vg.Points(3)
	side := min((W-gap*vg.Length(g.cols-1))/vg.Length(g.cols),
		(H-gap*vg.Length(g.rows-1))/vg.Length(g.rows)-labelH)
	if side <= 0 {
		return
	}
	// Centre the block in the canvas.
	bw := vg.Length(g.cols)*side + vg.Length(g.cols-1)*gap
	bh := vg.Length(g.rows)*(side+labelH) + vg.Length(g.rows-1)*gap
	x0 := c.Min.X + left + (W-bw)/2
	y0 := c.Max.Y - top - (H-bh)/2
	for i, cell := range g.cells {
		r, col := i/g.cols, i%g.cols
		x := x0 + vg.Length(col)*(side+gap)
		y := y0 - vg.Length(r)*(side+labelH+gap) - labelH
		c.DrawImage(vg.Rectangle{Min: vg.Point{X: x, Y: y - side}, Max: vg.Point{X: x + side, Y: y}}, cell.img)
		if cell.label != "" {
			sty := textStyle(smallFontSize, draw.XCenter, draw.YBottom)
			if cell.wrong {
				sty.Color = colBest
			}
			c.FillText(sty, vg.Point{X: x + side/2, Y: y + vg.Points(2)}, cell.label)
		}
	}
	for r, n := range g.rowNames {
		y := y0 - vg.Length(r)*(side+labelH+gap) - labelH - side/2
		c.FillText(textStyle(smallFontSize, draw.XRight, draw.YCenter), vg.Point{X: x0 - vg.Points(3), Y: y}, n)
	}
	for col, n := range g.colNames {
		x := x0 + vg.Length(col)*(side+gap) + side/2
		c.FillText(textStyle(smallFontSize, draw.XCenter, draw.YBottom), vg.Point{X: x, Y: y0 + vg.Points(2)}, n)
	}
}
