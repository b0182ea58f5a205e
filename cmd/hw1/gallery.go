package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/dlworkbench/hw1/lib/plot"
)

func init() {
	register("gallery", "render every figure to a folder with index.html", runGallery)
}

// runGallery draws every figure of the homework and of the studies into
// --out, with an index.html showing them all.
//
// The data are SYNTHETIC (lib/plot/synthetic.go): made-up results shaped
// like the real ones, so that the figures can be checked without a training
// run. To draw a real run instead, replace the four plot.Synthetic* calls
// below with the results of lib/homework adapted to the plot types.
func runGallery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gallery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "gallery", "folder to write the figures and index.html to")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hw1 gallery: unexpected arguments %v\n", fs.Args())
		return 2
	}
	sections, err := syntheticSections(*seed)
	if err != nil {
		fmt.Fprintln(stderr, "hw1 gallery:", err)
		return 1
	}
	note := "SYNTHETIC DATA: every number in these figures is made up (lib/plot/synthetic.go) " +
		"to show what the figures look like; nothing was trained."
	if err := plot.WriteGallery(*out, "Homework 1 figures (synthetic data)", note, sections); err != nil {
		fmt.Fprintln(stderr, "hw1 gallery:", err)
		return 1
	}
	n := 0
	for _, s := range sections {
		n += len(s.Figures) + len(s.Animations)
	}
	fmt.Fprintf(stdout, "wrote %d figures and %s\n", n, *out+"/index.html")
	return 0
}

// syntheticSections builds the four sections of the gallery from synthetic
// results, one folder each as the results folders will be.
func syntheticSections(seed uint64) ([]plot.Section, error) {
	regFigs, regAnims, err := plot.RegressionFigures(plot.SyntheticRegression(seed))
	if err != nil {
		return nil, err
	}
	clsFigs, err := plot.ClassificationFigures(plot.SyntheticClassification(seed))
	if err != nil {
		return nil, err
	}
	regStudy, err := plot.StudyFigures(plot.SyntheticRegressionStudy(seed))
	if err != nil {
		return nil, err
	}
	clsStudy, err := plot.StudyFigures(plot.SyntheticClassificationStudy(seed))
	if err != nil {
		return nil, err
	}
	return []plot.Section{
		{Title: "Regression (synthetic)", Dir: "regression", Figures: regFigs, Animations: regAnims},
		{Title: "Regression study (synthetic)", Dir: "regression_study", Figures: regStudy},
		{Title: "Classification (synthetic)", Dir: "classification", Figures: clsFigs},
		{Title: "Classification study (synthetic)", Dir: "classification_study", Figures: clsStudy},
	}, nil
}
