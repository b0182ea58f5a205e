package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/homework"
)

func TestGalleryWritesEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("renders all figures (a few seconds)")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runGallery([]string{"--synthetic", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(idx), "SYNTHETIC") {
		t.Error("index.html does not say the data are synthetic")
	}
	for _, p := range []string{
		"regression/fit.gif", "regression/data_best.png", "regression/activations_x_2.svg",
		"classification/confusion_vote.png", "classification/filters_conv2.png",
		"regression_study/contour.png", "classification_study/parallel_coordinate.svg",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s", p)
		}
		if !strings.Contains(string(idx), p) && !strings.HasSuffix(p, ".svg") {
			t.Errorf("index.html does not show %s", p)
		}
	}
}

func TestGalleryRejectsStrayArguments(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runGallery([]string{"--out", t.TempDir(), "extra"}, &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

// The real gallery takes minutes, so the unit tests check that its
// configurations would be accepted and stay small, and run one task's part
// of it on the smoke preset (TestGalleryRunOfATask).
func TestGalleryRealConfigsAreValidAndSmall(t *testing.T) {
	reg, cls, err := galleryConfigs(t.TempDir(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		trials   int
		validate func() error
	}{
		{"regression", reg.Trials, reg.Validate},
		{"classification", cls.Trials, cls.Validate},
	} {
		if err := c.validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.trials > 12 {
			t.Errorf("%s: %d trials, too many for a gallery", c.name, c.trials)
		}
	}
	if cls.Space.Epochs.High > 2 || cls.CVEpochs > 2 || cls.CVTrain > 6000 || cls.CVTrain == 0 {
		t.Errorf("classification budget too large: epochs %d, CV epochs %d on %d images", cls.Space.Epochs.High, cls.CVEpochs, cls.CVTrain)
	}
	if reg.Study == cls.Study || reg.Study == "regression" || cls.Study == "classification" {
		t.Errorf("gallery studies %q, %q would resume the homework's own", reg.Study, cls.Study)
	}
}

// TestGalleryRunOfATask: one task's part of the real gallery, on the
// regression's smoke preset (seconds): its figures, the fit animation and
// the study's figures are the files its results folder holds, found from
// the gallery's folder.
func TestGalleryRunOfATask(t *testing.T) {
	dataDir := regressionDataDir(t)
	cfg, err := homework.Preset(homework.TaskRegression, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	gallery := t.TempDir()
	cfg.Out, cfg.Backend, cfg.DataDir = filepath.Join(gallery, "runs"), "go", dataDir
	g, err := galleryRun(cfg, gallery, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("runs", cfg.Study+"_results"); g.dir != want {
		t.Errorf("results folder %q from the gallery, want %q", g.dir, want)
	}
	if len(g.figs) == 0 || len(g.anims) == 0 || len(g.study) == 0 || g.sum == nil {
		t.Fatalf("%d figures, %d animations, %d study figures, summary %v", len(g.figs), len(g.anims), len(g.study), g.sum)
	}
	for _, f := range append(g.figs, g.study...) {
		if _, err := os.Stat(filepath.Join(gallery, g.dir, f.Name+".png")); err != nil {
			t.Errorf("figure %s is not in the results folder: %v", f.Name, err)
		}
	}
	for _, a := range g.anims {
		if _, err := os.Stat(filepath.Join(gallery, g.dir, a.Name+".gif")); err != nil {
			t.Errorf("animation %s is not in the results folder: %v", a.Name, err)
		}
	}
}
