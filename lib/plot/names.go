package plot

import (
	"strconv"
	"strings"
)

// File stems of the figures, as the seed names them (the seed wrote .pdf; we
// write .png and .svg). A results folder holds one task, so the regression and
// the classification share the names they have in common.
const (
	// Regression and classification.
	NameModelPerformances = "model_performances"
	NameLosses            = "losses"
	NameWeights           = "weights"

	// Regression.
	NameData              = "data" // the points alone (not in the results folder)
	NameDataBest          = "data_best"
	NameDataMean          = "data_mean"
	NameFit               = "fit" // animation, written as fit.gif
	NameLossesForEachFold = "losses_for_each_fold"
	namePrefixActivations = "activations_x_"

	// Classification.
	NameConfusionBest    = "confusion_best"
	NameConfusionVote    = "confusion_vote"
	NameAccuracies       = "accuracies"
	NameFiltersConv1     = "filters_conv1"
	NameFiltersConv2     = "filters_conv2"
	NameFeatureMapsConv1 = "feature_maps_conv1"
	NameFeatureMapsConv2 = "feature_maps_conv2"
	NameSamples          = "samples"

	// Study, the names of optuna.visualization's plot_* functions.
	NameOptimizationHistory = "optimization_history"
	NameParamImportances    = "param_importances"
	NameContour             = "contour"
	NameSlice               = "slice"
	NameParallelCoordinate  = "parallel_coordinate"
	NameIntermediateValues  = "intermediate_values"
)

// ActivationsName is the file stem of the activation profile for input x=h,
// e.g. "activations_x_1.5" or "activations_x_-2".
func ActivationsName(h float64) string {
	s := strconv.FormatFloat(h, 'g', -1, 64)
	// A '+' from an exponent is legal but awkward in URLs and shells.
	return namePrefixActivations + strings.ReplaceAll(s, "+", "")
}
