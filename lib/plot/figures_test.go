package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/gif"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// want lists, per section and figure name, texts a reader needs: the title
// and the axis labels, and where they matter legend entries or class names.
var want = map[string]map[string][]string{
	"regression": {
		NameDataBest:          {"Fit of the best model", "x", "y", "train", "test", "best model"},
		NameDataMean:          {"Mean prediction of the k models", "x", "y", "mean of 5 models", "min..max of the models"},
		NameModelPerformances: {"Test loss of the k models", "model (fold)", "test loss (MSE)"},
		NameLosses:            {"Average loss over 5 folds", "epoch", "loss (log scale)", "train (mean)", "validation (min..max)"},
		NameLossesForEachFold: {"Validation loss of each fold", "epoch", "validation loss", "fold 1", "fold 5"},
		NameWeights:           {"Weights of each layer of the best model", "weight", "count", "hidden 1 weights"},
		ActivationsName(-4):   {"Activation profile for input x = -4", "unit", "activation", "hidden 1", "hidden 2"},
		ActivationsName(-1):   {"Activation profile for input x = -1", "unit", "activation"},
		ActivationsName(2):    {"Activation profile for input x = 2", "unit", "activation"},
		ActivationsName(4.5):  {"Activation profile for input x = 4.5", "unit", "activation"},
	},
	"classification": {
		NameModelPerformances: {"Test performance of the 10 models", "test accuracy", "test loss", "model (fold)", "accuracy (axis not from 0)"},
		NameConfusionBest:     {"Confusion matrix of the best model", "predicted label", "true label", "T-shirt/top", "Ankle boot", "fraction of the true class"},
		NameConfusionVote:     {"Confusion matrix of the majority vote", "predicted label", "true label", "Shirt", "Bag"},
		NameLosses:            {"Average loss over 10 folds", "epoch", "loss"},
		NameAccuracies:        {"Average accuracy over 10 folds", "epoch", "accuracy", "validation (mean)"},
		NameWeights:           {"Weights of each layer", "fc1", "fc3", "weight", "count"},
		NameFiltersConv1:      {"Filters of conv1", "filter 1", "filter 6", "weight"},
		NameFiltersConv2:      {"Filters of conv2", "in 1", "in 6", "out 16", "weight"},
		NameFeatureMapsConv1:  {"Feature maps of conv1", "input image", "map 6"},
		NameFeatureMapsConv2:  {"Feature maps of conv2", "input image", "map 16"},
		NameSamples:           {"Sample images", "Trouser", "Ankle boot"},
	},
	"regression_study": {
		NameOptimizationHistory: {"Optimization history", "trial", "validation loss", "best value so far", "pruned (last reported value)"},
		NameParamImportances:    {"Hyperparameter importances", "importance", "lr", "n_layers"},
		NameContour:             {"Contour of the objective", "lr (log scale)", "n_units_l0", "weight_decay (log scale)", "validation loss"},
		NameSlice:               {"Slice plot", "lr (log scale)", "optimizer", "validation loss", "trial"},
		NameParallelCoordinate:  {"Parallel coordinates", "validation loss", "optimizer", "RMSprop"},
		NameIntermediateValues:  {"Intermediate values", "step (epoch)", "complete", "pruned"},
	},
	"classification_study": {
		NameOptimizationHistory: {"Optimization history", "trial", "validation accuracy"},
		NameParamImportances:    {"Hyperparameter importances", "optimizer"},
		NameContour:             {"Contour of the objective", "optimizer", "Adam", "SGD", "lr (log scale)", "validation accuracy"},
		NameSlice:               {"Slice plot", "dropout"},
		NameParallelCoordinate:  {"Parallel coordinates", "validation accuracy"},
		NameIntermediateValues:  {"Intermediate values", "step (epoch)"},
	},
}

// syntheticSections builds every figure from the synthetic results, the
// same way the gallery does.
func syntheticSections(t *testing.T) []Section {
	t.Helper()
	reg, anims, err := RegressionFigures(SyntheticRegression(1))
	if err != nil {
		t.Fatal(err)
	}
	cls, err := ClassificationFigures(SyntheticClassification(1))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := StudyFigures(SyntheticRegressionStudy(1))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := StudyFigures(SyntheticClassificationStudy(1))
	if err != nil {
		t.Fatal(err)
	}
	return []Section{
		{Dir: "regression", Figures: reg, Animations: anims},
		{Dir: "regression_study", Figures: rs},
		{Dir: "classification", Figures: cls},
		{Dir: "classification_study", Figures: cs},
	}
}

func TestEveryFigure(t *testing.T) {
	for _, sec := range syntheticSections(t) {
		var got []string
		for _, f := range sec.Figures {
			got = append(got, f.Name)
		}
		var exp []string
		for n := range want[sec.Dir] {
			exp = append(exp, n)
		}
		sort.Strings(got)
		sort.Strings(exp)
		if strings.Join(got, ",") != strings.Join(exp, ",") {
			t.Errorf("%s: figures %v, want %v", sec.Dir, got, exp)
		}
		for _, f := range sec.Figures {
			t.Run(sec.Dir+"/"+f.Name, func(t *testing.T) {
				t.Parallel()
				checkPNG(t, f, 480, 360)
				texts := checkSVG(t, f)
				for _, w := range want[sec.Dir][f.Name] {
					if !strings.Contains(texts, w) {
						t.Errorf("SVG has no text %q", w)
					}
				}
				if !strings.Contains(texts, f.Title) {
					t.Errorf("SVG lacks the title %q", f.Title)
				}
			})
		}
	}
}

// checkPNG renders f at w x h and checks that the PNG decodes at that size
// and is not blank: the grey levels must vary.
func checkPNG(t *testing.T, f *Figure, w, h int) {
	t.Helper()
	b, err := f.PNG(w, h)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: w, Y: h}) {
		t.Fatalf("PNG is %v, want %dx%d", got, w, h)
	}
	if v := greyVariance(img); v < 100 {
		t.Errorf("PNG looks blank: grey variance %.1f", v)
	}
}

func greyVariance(img image.Image) float64 {
	var sum, sum2, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += v
			sum2 += v * v
			n++
		}
	}
	m := sum / n
	return sum2/n - m*m
}

// checkSVG checks that the SVG is well-formed XML to the end and returns the
// contents of its text elements, one per line.
func checkSVG(t *testing.T, f *Figure) string {
	t.Helper()
	b, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("<image")) {
		if bytes.Contains(b, []byte("image/jpg")) || !bytes.Contains(b, []byte(`preserveAspectRatio="none"`)) {
			t.Error("SVG images are mislabelled or keep their aspect ratio (see fixSVGImages)")
		}
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var texts strings.Builder
	texts.WriteString("\n")
	inText, root := false, ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tk.Name.Local
			}
			inText = tk.Name.Local == "text"
		case xml.EndElement:
			if tk.Name.Local == "text" {
				texts.WriteString("\n")
			}
			inText = false
		case xml.CharData:
			if inText {
				texts.Write(tk)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("SVG root element is %q", root)
	}
	return texts.String()
}

func TestFitGIF(t *testing.T) {
	r := SyntheticRegression(2)
	frames := r.Frames[:3]
	a, err := FitAnimation(r.Train, r.Test, frames)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.WriteGIF(&buf, 320, 240); err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(&buf)
	if err != nil {
		t.Fatalf("GIF does not decode: %v", err)
	}
	if len(g.Image) != len(frames) {
		t.Fatalf("GIF has %d frames, want %d", len(g.Image), len(frames))
	}
	for i, im := range g.Image {
		if im.Bounds().Dx() != 320 || im.Bounds().Dy() != 240 {
			t.Errorf("frame %d is %v", i, im.Bounds())
		}
		if v := greyVariance(im); v < 100 {
			t.Errorf("frame %d looks blank: variance %.1f", i, v)
		}
	}
	if bytes.Equal(g.Image[0].Pix, g.Image[2].Pix) {
		t.Error("first and last frames are identical; the curve should move")
	}
	// The epoch is in each frame's title.
	for i, f := range a.Frames {
		if !strings.Contains(f.Title, "epoch "+strconv.Itoa(frames[i].Epoch)) {
			t.Errorf("frame %d title %q lacks its epoch", i, f.Title)
		}
	}
}

func TestSaveAndGallery(t *testing.T) {
	dir := t.TempDir()
	r := SyntheticRegression(3)
	f, err := DataBest(r.Train, r.Test, r.Best)
	if err != nil {
		t.Fatal(err)
	}
	a, err := FitAnimation(r.Train, r.Test, r.Frames[:2])
	if err != nil {
		t.Fatal(err)
	}
	err = WriteGallery(dir, "T", "SYNTHETIC <data>", []Section{{Title: "Regression", Dir: "regression", Figures: []*Figure{f}, Animations: []*Animation{a}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"regression/data_best.png", "regression/data_best.svg", "regression/fit.gif", "index.html"} {
		st, err := os.Stat(filepath.Join(dir, p))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	idx, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, s := range []string{`src="regression/data_best.png"`, `src="regression/fit.gif"`, "regression/data_best.png", "SYNTHETIC &lt;data&gt;"} {
		if !bytes.Contains(idx, []byte(s)) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	// No temporary files are left behind.
	left, _ := filepath.Glob(filepath.Join(dir, "regression", ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestShowOutsideNotebook(t *testing.T) {
	r := SyntheticRegression(1)
	f, err := DataBest(r.Train, r.Test, r.Best)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Show(); !errors.Is(err, ErrNotNotebook) {
		t.Errorf("Show outside a notebook: %v, want ErrNotNotebook", err)
	}
	if err := f.ShowSVG(); !errors.Is(err, ErrNotNotebook) {
		t.Errorf("ShowSVG outside a notebook: %v", err)
	}
	if err := Display(DataBest(XY{}, XY{}, XY{})); err == nil || errors.Is(err, ErrNotNotebook) {
		t.Errorf("Display of a failed figure should return the figure's error, got %v", err)
	}
}

func TestData(t *testing.T) {
	r := SyntheticRegression(5)
	f, err := Data(r.Train, r.Test)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != NameData {
		t.Errorf("name %q, want %q", f.Name, NameData)
	}
	if png, err := f.PNG(320, 240); err != nil || len(png) == 0 {
		t.Fatalf("PNG: %d bytes, %v", len(png), err)
	}
}
