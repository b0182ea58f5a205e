package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGalleryWritesEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("renders all figures (a few seconds)")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runGallery([]string{"--out", dir}, &out, &errb); code != 0 {
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
