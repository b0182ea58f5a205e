package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/plot"
)

func init() {
	register("gallery", "render every figure of a small real run (or --synthetic) to a folder with index.html", runGallery)
}

// runGallery draws every figure of the homework and of the studies into
// --out, with an index.html showing them all.
//
// By default the figures come from a small REAL run of both tasks (the smoke
// preset with a few more trials and epochs, so that the figures have
// something to show), whose results folders go to --out/runs. --synthetic
// draws made-up results instead (lib/plot/synthetic.go): seconds instead of
// minutes, for checking the figures' code.
func runGallery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gallery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "gallery", "folder to write the figures and index.html to")
	synthetic := fs.Bool("synthetic", false, "draw made-up results instead of training (seconds, not minutes)")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data (--synthetic only)")
	backendFlag := fs.String("backend", "", taskBackendUsage)
	dataDir := fs.String("data-dir", "", "local data directory of the real run (default $HW1_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hw1 gallery: unexpected arguments %v\n", fs.Args())
		return 2
	}
	var (
		sections    []plot.Section
		title, note string
		err         error
	)
	if *synthetic {
		sections, err = syntheticSections(*seed)
		title = "Homework 1 figures (synthetic data)"
		note = "SYNTHETIC DATA: every number in these figures is made up (lib/plot/synthetic.go) " +
			"to show what the figures look like; nothing was trained."
	} else {
		sections, note, err = realSections(filepath.Join(*out, "runs"), *backendFlag, *dataDir, stderr)
		title = "Homework 1 figures (small real run)"
	}
	if err != nil {
		fmt.Fprintln(stderr, "hw1 gallery:", err)
		return 1
	}
	if err := plot.WriteGallery(*out, title, note, sections); err != nil {
		fmt.Fprintln(stderr, "hw1 gallery:", err)
		return 1
	}
	n := 0
	for _, s := range sections {
		n += len(s.Figures) + len(s.Animations)
	}
	fmt.Fprintf(stdout, "wrote %d figures and %s\n", n, filepath.Join(*out, "index.html"))
	return 0
}

// galleryConfigs are the two tasks' configurations of the real gallery: the
// smoke preset with enough trials and epochs that pruning, importances and
// the fit animation have something to show, in about four to five minutes on
// 2 cores with XLA (a loaded machine; most of it compiles and trains
// LeNet5).
func galleryConfigs(out, backendName, dataDir string) (reg, cls homework.Config, err error) {
	if reg, err = homework.Preset(homework.TaskRegression, "smoke"); err != nil {
		return reg, cls, err
	}
	reg.Study, reg.Out, reg.Backend, reg.DataDir = "gallery_regression", out, backendName, dataDir
	reg.Trials = 10
	reg.Space.Epochs = homework.IntRange{Low: 30, High: 60}
	reg.PrunerStartupTrials, reg.PrunerWarmupSteps = 4, 10
	reg.Folds, reg.CVEpochs = 3, 50

	if cls, err = homework.Preset(homework.TaskClassification, "smoke"); err != nil {
		return reg, cls, err
	}
	cls.Study, cls.Out, cls.Backend, cls.DataDir = "gallery_classification", out, backendName, dataDir
	cls.Trials = 4
	cls.StudyTrain, cls.StudyVal = 10000, 5000
	cls.Space.Epochs = homework.IntRange{Low: 1, High: 2}
	cls.Folds, cls.CVEpochs, cls.CVTrain = 3, 2, 6000
	return reg, cls, nil
}

// realSections runs both tasks small and returns the gallery's sections and
// the note saying what was run.
func realSections(out, backendName, dataDir string, log io.Writer) ([]plot.Section, string, error) {
	regCfg, clsCfg, err := galleryConfigs(out, backendName, dataDir)
	if err != nil {
		return nil, "", err
	}
	start := time.Now()
	reg, err := galleryRun(regCfg, filepath.Dir(out), log)
	if err != nil {
		return nil, "", err
	}
	cls, err := galleryRun(clsCfg, filepath.Dir(out), log)
	if err != nil {
		return nil, "", err
	}
	note := fmt.Sprintf("REAL RUN, small: %s; %s; backend %s; %.0f s in all. Results folders: %s, %s.",
		describeRun(regCfg, reg.sum), describeRun(clsCfg, cls.sum), reg.sum.Backend,
		time.Since(start).Seconds(), reg.dir, cls.dir)
	return []plot.Section{
		{Title: "Regression study (real, small)", Dir: reg.dir, Figures: reg.study},
		{Title: "Regression (real, small)", Dir: reg.dir, Figures: reg.figs, Animations: reg.anims},
		{Title: "Classification study (real, small)", Dir: cls.dir, Figures: cls.study},
		{Title: "Classification (real, small)", Dir: cls.dir, Figures: cls.figs, Animations: cls.anims},
	}, note, nil
}

// taskGallery is one task's part of the real gallery.
type taskGallery struct {
	sum   *homework.Summary
	figs  []*plot.Figure
	anims []*plot.Animation
	study []*plot.Figure
	// dir is the results folder, relative to the gallery's folder: the
	// gallery's figures are the files WriteResults wrote there, so the page
	// shows what a run keeps.
	dir string
}

// galleryRun runs a task end to end under cfg and returns its figures, its
// study's and where its results folder is from galleryDir.
func galleryRun(cfg homework.Config, galleryDir string, log io.Writer) (*taskGallery, error) {
	r, err := homework.New(cfg, homework.Options{Log: log})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	g := &taskGallery{}
	if g.sum, err = homework.RunAll(r); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Task, err)
	}
	if g.figs, g.anims, err = r.Figures(); err != nil {
		return nil, fmt.Errorf("%s figures: %w", cfg.Task, err)
	}
	if g.study, err = r.StudyFigures(); err != nil {
		return nil, fmt.Errorf("%s study figures: %w", cfg.Task, err)
	}
	if g.dir, err = filepath.Rel(galleryDir, r.Dir()); err != nil {
		return nil, err
	}
	return g, nil
}

// describeRun says in one phrase what a task ran and found.
func describeRun(cfg homework.Config, s *homework.Summary) string {
	st := s.StudyStats
	var b strings.Builder
	fmt.Fprintf(&b, "%s (preset %s, enlarged: %d trials of %d-%d epochs: %d complete, %d pruned; %d-fold CV of %d epochs",
		cfg.Task, cfg.Preset, cfg.Trials, cfg.Space.Epochs.Low, cfg.Space.Epochs.High,
		st.Complete, st.Pruned, cfg.Folds, cfg.CVEpochs)
	if cfg.Task == homework.TaskClassification {
		fmt.Fprintf(&b, " on %d images; study on %d/%d images", cfg.CVTrain, cfg.StudyTrain, cfg.StudyVal)
	}
	for _, k := range []string{"ensemble_test_mse", "vote_test_accuracy"} {
		if v, ok := s.Metrics[k]; ok {
			fmt.Fprintf(&b, "; %s %.4f", k, v)
		}
	}
	b.WriteString(")")
	return b.String()
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
