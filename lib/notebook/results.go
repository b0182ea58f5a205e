package notebook

import (
	"fmt"
	"path/filepath"

	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/plot"
)

// Saved is a figure of a results folder and where the seed has it.
type Saved struct {
	// Name is the file stem (plot.Name*).
	Name    string
	Caption string
}

// RegressionResults are the regression's figures in the order the notebook
// shows them, the activation profiles aside (one per input x of the run,
// from summary.json).
var RegressionResults = []Saved{
	{plot.NameDataBest, "The seed's Fig. 1, left"},
	{plot.NameDataMean, "The seed's Fig. 1, right"},
	{plot.NameLossesForEachFold, "The seed's Fig. 2, left"},
	{plot.NameLosses, "The seed's Fig. 2, right"},
	{plot.NameModelPerformances, "The seed's Fig. 8"},
	{plot.NameWeights, "The seed's Fig. 3, left"},
}

// ClassificationResults are the classification's figures in the order the
// notebook shows them.
var ClassificationResults = []Saved{
	{plot.NameModelPerformances, "The seed's Fig. 13"},
	{plot.NameConfusionBest, "The seed's Fig. 5 and 12, left"},
	{plot.NameConfusionVote, "The seed's Fig. 5 and 12, right"},
	{plot.NameLosses, "The seed's Fig. 4, right"},
	{plot.NameAccuracies, "The seed's Fig. 14"},
	{plot.NameWeights, "Weights of the dense layers (the seed's weights histogram)"},
	{plot.NameFiltersConv1, "Filters of the first convolution"},
	{plot.NameFeatureMapsConv1, "Feature maps of the first convolution"},
	{plot.NameFiltersConv2, "The seed's Fig. 15"},
	{plot.NameFeatureMapsConv2, "The seed's Fig. 16"},
	{plot.NameSamples, "Test images with the best model's mistakes marked"},
}

// Results are the saved figures of a run, in the order the notebook shows
// them: for the regression the activation profiles (one per input x that
// summary.json lists) and fit.gif come after the others.
func Results(sum *homework.Summary) []Saved {
	if sum.Task == homework.TaskClassification {
		return ClassificationResults
	}
	out := append([]Saved(nil), RegressionResults...)
	for _, x := range sum.ActivationInputs {
		out = append(out, Saved{plot.ActivationsName(x), fmt.Sprintf("The seed's Fig. 3 (right) and 9: activations for x = %g", x)})
	}
	return append(out, Saved{plot.NameFit, "The seed's fit.gif: the last fold's fit every 5 epochs"})
}

// ShowResults shows the headline numbers of a run's summary, then every
// figure it saved (Results), read from its results folder: what the
// notebook shows is exactly what hw1 would have saved.
func ShowResults(sum *homework.Summary) error {
	ShowTables(MetricsTable(sum))
	for _, f := range Results(sum) {
		if err := ShowFile(filepath.Join(sum.ResultsDir, f.Name), f.Caption); err != nil {
			return err
		}
	}
	return nil
}

// ShowSavedResults reads summary.json of the task's results folder under
// Config (homework.ReadSummary), which an earlier cell or hw1 wrote, and
// shows it (ShowResults).
func ShowSavedResults(task string) error {
	cfg, err := Config(task)
	if err != nil {
		return err
	}
	sum, err := homework.ReadSummary(cfg)
	if err != nil {
		return err
	}
	return ShowResults(sum)
}
