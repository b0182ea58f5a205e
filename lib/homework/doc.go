// Package homework runs the two tasks of the homework end to end, as the seed's
// scripts do: the study over a search space (the seed's Hype_Select and
// Hype_Select_CNN), the model built from the best parameters
// (build_opt_model), k-fold cross-validation, test scores, ensembles, every
// figure, and the results folder <out>/<study>_results/.
//
// Presets (smoke, quick, seed) and the search space live here, in one place.
// It is not a library of models, search or figures: it calls lib/nn, lib/cv,
// lib/hpo and lib/plot.
package homework
