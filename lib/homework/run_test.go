package homework

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/datatest"
)

// TestRunSteps: New picks the task's part; the steps refuse to run out of
// order; BuildOptModel is its own step, which RunCV takes when it was
// skipped; summary.json lists the activation inputs, as ReadSummary reads it.
func TestRunSteps(t *testing.T) {
	datatest.NeedRegression(t)
	bad := smoke(t, TaskRegression, "go")
	bad.Task = "clustering"
	var fe *FieldError
	if _, err := New(bad, Options{Log: io.Discard}); !errors.As(err, &fe) || fe.Field != "task" {
		t.Fatalf("New of an unknown task: %v", err)
	}
	cfg := smoke(t, TaskRegression, "go")
	r, err := New(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Regression == nil || r.Classification != nil || len(r.Regression.Grid) == 0 {
		t.Fatalf("task parts: %+v, %+v", r.Regression, r.Classification)
	}
	if _, err := r.BuildOptModel(); err == nil || !strings.Contains(err.Error(), "RunStudy first") {
		t.Errorf("BuildOptModel before RunStudy: %v", err)
	}
	if err := r.RunCV(); err == nil || !strings.Contains(err.Error(), "RunStudy first") {
		t.Errorf("RunCV before RunStudy: %v", err)
	}
	if _, err := r.WriteResults(); err == nil || !strings.Contains(err.Error(), "RunCV first") {
		t.Errorf("WriteResults before RunCV: %v", err)
	}
	if err := r.RunStudy(); err != nil {
		t.Fatal(err)
	}
	if r.Best.Spec.Kind != "" {
		t.Errorf("RunStudy built the model: %+v", r.Best)
	}
	if err := r.RunCV(); err != nil { // builds the model first
		t.Fatal(err)
	}
	built, err := r.BuildOptModel()
	if err != nil || built.Spec.Kind != r.Best.Spec.Kind || built.Hyperparameters != r.Best.Hyperparameters {
		t.Errorf("BuildOptModel %+v (%v), RunCV trained %+v", built, err, r.Best)
	}
	if _, err := r.WriteResults(); err != nil {
		t.Fatal(err)
	}
	sum, err := ReadSummary(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sum.ActivationInputs, ActivationInputs) || sum.Task != TaskRegression {
		t.Errorf("summary: task %q, activation inputs %v", sum.Task, sum.ActivationInputs)
	}
}
