// Package figures draws the homework's figures from the library's own
// values, one call each: a study (*hpo.Study), a cross-validation
// (*cv.Result), a model (*nn.Model) with its data, the datasets of lib/data.
//
//	fig, err := figures.OptimizationHistory(study)
//	fig, err := figures.Losses(cvResult)
//	figs, err := figures.Filters(model)
//
// It is the one place where those values become lib/plot's plain ones
// (plot.Study, plot.History, plot.Layer, plot.Image...): lib/plot draws and
// knows nothing of studies or models, lib/homework and the notebooks call
// this package and convert nothing themselves.
package figures
