package nn_test

import (
	"slices"
	"testing"

	"github.com/dlworkbench/hw1/lib/nn"
)

// A subset's Targets and Labels are its own rows, in its order: the parent's
// storage is not reachable from the view.
func TestSubsetAccessorsAreTheView(t *testing.T) {
	reg, err := nn.NewRegressionData([]float64{0, 1, 2, 3}, []float64{10, 11, 12, 13}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := reg.Subset([]int{2})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Len() != 1 || !slices.Equal(sub.Targets(), []float64{12}) || sub.Labels() != nil {
		t.Errorf("subset [2]: Len %d, Targets %v, Labels %v; want 1, [12], nil", sub.Len(), sub.Targets(), sub.Labels())
	}
	im, err := nn.NewImageData(make([]uint8, 3*4), []int32{7, 8, 9}, []int{2, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	sub, err = im.Subset([]int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	sub, err = sub.Subset([]int{1})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Len() != 1 || !slices.Equal(sub.Labels(), []int32{7}) || sub.Targets() != nil || !slices.Equal(sub.Shape(), []int{2, 2, 1}) {
		t.Errorf("subset of a subset: Len %d, Labels %v, Targets %v, Shape %v", sub.Len(), sub.Labels(), sub.Targets(), sub.Shape())
	}
	two, err := nn.NewRegressionData([]float64{0, 1, 2, 3}, []float64{1, 2, 3, 4}, []int{2})
	if err != nil || two.Len() != 2 || two.Outputs() != 2 {
		t.Errorf("2 examples of 2 inputs and 2 targets: %v, Len %d, Outputs %d", err, two.Len(), two.Outputs())
	}
}

func TestDataConstructorsRefuseMismatches(t *testing.T) {
	if _, err := nn.NewRegressionData([]float64{1, 2, 3}, []float64{1, 2}, []int{1}); err == nil {
		t.Error("3 examples, 2 targets: accepted")
	}
	if _, err := nn.NewRegressionData([]float64{1, 2, 3}, nil, []int{2}); err == nil {
		t.Error("3 values in examples of 2: accepted")
	}
	if _, err := nn.NewClassificationData([]float64{1, 2}, []int32{0}, []int{1}); err == nil {
		t.Error("2 examples, 1 label: accepted")
	}
	if _, err := nn.NewImageData(make([]uint8, 8), []int32{0, 1}, []int{0, 4}); err == nil {
		t.Error("a zero size in the shape: accepted")
	}
}
