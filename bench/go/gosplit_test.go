package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"testing"

	"github.com/dlworkbench/hw1/lib/data"
)

// bench/pytorch/gosplit.py reproduces lib/data's splits so that the PyTorch
// reference trains on the same examples (the classification study's 10k/5k
// subset, the homework's CV fold): checked here index for index, with any
// python3 (the script needs no torch).
func TestPythonSplitsAreLibData(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	labels := make([]uint8, 3000)
	src := data.Permutation(len(labels), 7)
	for i := range labels {
		labels[i] = uint8(src[i] % 10)
		if i%7 == 0 {
			labels[i] = 3 // unequal classes, so that the apportioning rounds
		}
	}
	for _, seed := range []int64{0, 42, -5} {
		req := map[string]any{"labels": labels, "n_train": 1001, "n_val": 499, "seed": seed, "n": 1003, "k": 10}
		// encoding/json writes []uint8 as base64: pass the labels as numbers.
		ints := make([]int, len(labels))
		for i, l := range labels {
			ints[i] = int(l)
		}
		req["labels"] = ints
		in, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, "../pytorch/gosplit.py")
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gosplit.py: %v\n%s", err, stderr.String())
		}
		var got struct {
			Permutation []int      `json:"permutation"`
			KFold       [][2][]int `json:"kfold"`
			Holdout     [2][]int   `json:"holdout"`
			Stratified  [2][]int   `json:"stratified"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if want := data.Permutation(1003, seed); !reflect.DeepEqual(got.Permutation, want) {
			t.Errorf("seed %d: permutation differs from data.Permutation (first %v, want %v)", seed, got.Permutation[:5], want[:5])
		}
		folds, err := data.KFold(1003, 10, seed)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range folds {
			if !reflect.DeepEqual(got.KFold[i][0], f.Train) || !reflect.DeepEqual(got.KFold[i][1], f.Val) {
				t.Errorf("seed %d: fold %d differs from data.KFold", seed, i)
			}
		}
		tr, val, err := data.Holdout(1003, 0.2, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Holdout[0], tr) || !reflect.DeepEqual(got.Holdout[1], val) {
			t.Errorf("seed %d: holdout differs from data.Holdout", seed)
		}
		tr, val, err = data.StratifiedSubset(labels, 1001, 499, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Stratified[0], tr) || !reflect.DeepEqual(got.Stratified[1], val) {
			t.Errorf("seed %d: stratified subset differs from data.StratifiedSubset", seed)
		}
	}
}
