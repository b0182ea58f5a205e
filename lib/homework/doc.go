// Package homework runs the two tasks of the homework end to end, as the seed's
// scripts do, with one Run for both: the study over a search space
// (RunStudy, the seed's Hype_Select and Hype_Select_CNN), the model built
// from the best parameters (BuildOptModel, build_opt_model), k-fold
// cross-validation with test scores and ensembles (RunCV), every figure and
// the results folder <out>/<study>_results/ (WriteResults).
//
//	r, err := homework.New(cfg, homework.Options{})
//	err = r.RunStudy()
//	best, err := r.BuildOptModel()
//	err = r.RunCV()
//	sum, err := r.WriteResults()
//
// Presets (smoke, quick, seed) and the search space live here, in one place.
// It is not a library of models, search or figures: it calls lib/nn, lib/cv,
// lib/hpo and lib/figures.
package homework
