// Package importance computes hyperparameter importances the way Optuna does:
// fANOVA (Optuna's default FanovaImportanceEvaluator) and mean decrease in
// impurity (MeanDecreaseImpurityImportanceEvaluator), both over a random
// forest regressor configured as Optuna configures scikit-learn's.
//
// It works on a plain matrix: one row per completed trial, one column per
// parameter in Optuna's internal representation (the float value; the int
// value as a float; the index of the choice for a categorical), plus a Param
// per column describing its distribution. lib/hpo turns a Study into that
// matrix; this package knows nothing of studies, so it can be tested against
// Optuna's own numbers on exported trials (testdata/).
//
// What it reproduces of Optuna 3.1 (and of Optuna 4, which did not change it):
//   - parameters are fitted on their raw values, log-scaled ones included
//     (Optuna builds the matrix with transform_log=False), and marginals are
//     integrated uniformly over [Low, High] in that raw space;
//   - categorical parameters are one-hot encoded, one forest column per
//     choice with bounds [0, 1]; fANOVA takes the variance of the joint
//     marginal over all of a parameter's one-hot columns, MDI sums the
//     columns' importances;
//   - parameters with a single value get importance 0 and stay out of the fit;
//   - trials whose objective value is not finite are left out;
//   - forest: bootstrap samples, every feature tried at every split
//     (scikit-learn's max_features=1.0 default), variance-reduction splits at
//     midpoints between distinct values, min_samples_split 2, min_samples_leaf
//     1, max_depth 64, 64 trees.
//
// The forest uses Go's random numbers, not NumPy's, so results agree with
// Optuna's statistically (same top parameter, close ranking), not to the bit;
// optuna_test.go measures how close, on studies exported from Optuna
// (testdata/optuna_reference.py).
//
// It is not for training models, sampling parameters or plotting importances:
// those are lib/nn, lib/hpo and lib/plot.
package importance
