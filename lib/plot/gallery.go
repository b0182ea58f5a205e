package plot

import (
	"errors"
	"fmt"
	"html"
	"path/filepath"
	"sort"
	"strings"
)

// RegressionResults is everything the regression figures read, in plain
// types; lib/homework fills it from a k-fold run.
type RegressionResults struct {
	Train, Test XY
	// Best is the best model's curve over an interval covering all the data.
	Best XY
	// Xs is that interval; Preds[m][i] is model m at Xs[i].
	Xs    []float64
	Preds [][]float64
	// Frames are the last fold's curves every few epochs (fit.gif).
	Frames   []FitFrame
	TestLoss []float64
	Folds    []History
	// Layers are the weights of the best model, one histogram each.
	Layers []Layer
	// Activations of the best model per input x (activations_x_H).
	Activations map[float64][]Activation
}

// ClassificationResults is everything the classification figures read.
type ClassificationResults struct {
	Classes                      []string
	TestAcc, TestLoss            []float64
	ConfusionBest, ConfusionVote [][]int
	Folds                        []History
	// Linear are the linear layers of the best model.
	Linear []Layer
	// Conv1 and Conv2 are its kernels, Shape [out, in, h, w].
	Conv1, Conv2 Layer
	// Input is a test image; Maps1 and Maps2 the two convolutions' outputs
	// for it, Shape [channels, h, w].
	Input        Image
	Maps1, Maps2 Layer
	// Samples are images to show with their labels; Predicted may be nil.
	Samples   []Image
	Labels    []int
	Predicted []int
}

// StudyResults is what the study figures read.
type StudyResults struct {
	Study       Study
	Importances map[string]float64
}

// drawn gathers the figures drawn without an error, so that a list of
// figures reads as errors.Join(figs.add(A(...)), figs.add(B(...)), ...).
type drawn struct{ figs []*Figure }

// add keeps f when there is no err, and returns err.
func (d *drawn) add(f *Figure, err error) error {
	if err == nil {
		d.figs = append(d.figs, f)
	}
	return err
}

// RegressionFigures renders the regression's figures, in the seed's order.
// This and the two functions below are the one list of which figure goes
// into which results folder.
func RegressionFigures(r RegressionResults) ([]*Figure, []*Animation, error) {
	var figs drawn
	anim, err := FitAnimation(r.Train, r.Test, r.Frames)
	err = errors.Join(err,
		figs.add(DataBest(r.Train, r.Test, r.Best)),
		figs.add(DataMean(r.Train, r.Test, r.Xs, r.Preds)),
		figs.add(RegressionPerformances(r.TestLoss)),
		figs.add(Losses(r.Folds)),
		figs.add(LossesForEachFold(r.Folds)),
		figs.add(Weights(r.Layers)),
	)
	hs := make([]float64, 0, len(r.Activations))
	for h := range r.Activations {
		hs = append(hs, h)
	}
	sort.Float64s(hs)
	for _, h := range hs {
		err = errors.Join(err, figs.add(Activations(h, r.Activations[h])))
	}
	if err != nil {
		return nil, nil, err
	}
	return figs.figs, []*Animation{anim}, nil
}

// ClassificationFigures renders the classification's figures.
func ClassificationFigures(c ClassificationResults) ([]*Figure, error) {
	var figs drawn
	err := errors.Join(
		figs.add(ClassificationPerformances(c.TestAcc, c.TestLoss)),
		figs.add(ConfusionBest(c.ConfusionBest, c.Classes)),
		figs.add(ConfusionVote(c.ConfusionVote, c.Classes)),
		figs.add(Losses(c.Folds)),
		figs.add(Accuracies(c.Folds)),
		figs.add(Weights(c.Linear)),
		figs.add(FiltersConv1(c.Conv1)),
		figs.add(FiltersConv2(c.Conv2)),
		figs.add(FeatureMapsConv1(c.Input, c.Maps1)),
		figs.add(FeatureMapsConv2(c.Input, c.Maps2)),
		figs.add(Samples(c.Samples, c.Labels, c.Predicted, c.Classes)),
	)
	if err != nil {
		return nil, err
	}
	return figs.figs, nil
}

// StudyFigures renders the study's figures; the contour shows the most
// important parameter against the next two. A young study cannot have every
// figure (importances need two complete trials): it returns the figures it
// could draw, with an error naming those it could not.
func StudyFigures(s StudyResults) ([]*Figure, error) {
	var figs drawn
	err := errors.Join(
		figs.add(OptimizationHistory(s.Study)),
		figs.add(ParamImportances(s.Importances)),
		figs.add(Contour(s.Study, TopParams(s.Importances, 3))),
		figs.add(Slice(s.Study)),
		figs.add(ParallelCoordinate(s.Study)),
		figs.add(IntermediateValues(s.Study)),
	)
	return figs.figs, err
}

// Section is one folder of a gallery: a heading and its figures.
type Section struct {
	Title string
	// Dir is the sub-folder the files go to, e.g. "regression".
	Dir        string
	Figures    []*Figure
	Animations []*Animation
}

// WriteGallery saves every figure of every section under dir/<Section.Dir>
// and writes dir/index.html showing them all with their names. note is
// printed under the title (e.g. to say the data are synthetic).
func WriteGallery(dir, title, note string, sections []Section) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString(`<style>body{font-family:sans-serif;margin:2em;max-width:1400px}` +
		`figure{display:inline-block;vertical-align:top;margin:0 1.5em 2em 0}` +
		`img{max-width:680px;border:1px solid #ddd}figcaption{font-family:monospace;margin-top:.3em}` +
		`.note{background:#fff3cd;padding:.6em 1em;border:1px solid #e0c36a}</style></head><body>` + "\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(title))
	if note != "" {
		fmt.Fprintf(&b, "<p class=\"note\">%s</p>\n", html.EscapeString(note))
	}
	for _, s := range sections {
		sub := filepath.Join(dir, s.Dir)
		fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(s.Title))
		for _, a := range s.Animations {
			if err := a.Save(sub); err != nil {
				return err
			}
			src := s.Dir + "/" + a.Name + ".gif"
			fmt.Fprintf(&b, "<figure><img src=\"%s\" alt=\"%s\"><figcaption>%s</figcaption></figure>\n",
				html.EscapeString(src), html.EscapeString(a.Name), html.EscapeString(src))
		}
		for _, f := range s.Figures {
			if err := f.Save(sub); err != nil {
				return err
			}
			src := s.Dir + "/" + f.Name
			fmt.Fprintf(&b, "<figure><img src=\"%s.png\" alt=\"%s\"><figcaption>%s.png (<a href=\"%s.svg\">svg</a>)</figcaption></figure>\n",
				html.EscapeString(src), html.EscapeString(f.Title), html.EscapeString(src), html.EscapeString(src))
		}
	}
	b.WriteString("</body></html>\n")
	return writeFileAtomic(filepath.Join(dir, "index.html"), []byte(b.String()))
}
