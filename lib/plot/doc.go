// Package plot draws every figure of the homework and of the hyperparameter
// study: the regression fits, losses, weights and activations; the
// classification confusion matrices, accuracies, filters and feature maps; and
// the Optuna-like study plots (optimization history, importances, contour,
// slice, parallel coordinate, intermediate values).
//
// A figure function takes plain data (the types in data.go and study.go) and
// returns a *Figure: a value that can be written as PNG at any pixel size, as
// SVG, saved to a folder, or shown inline in a GoNB notebook with Show. The
// fit animation is an *Animation written as GIF. The file name of each figure
// is fixed in names.go, the one place for them.
//
// It is not for training or evaluating models: it never imports the rest of
// the project. lib/figures is the one place that turns the project's values
// (studies, cross-validations, models, datasets) into these types. Bad data
// (empty or mismatched slices, NaN) is reported as an error, never a panic.
package plot
