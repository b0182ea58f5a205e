// Package cv runs the seed's k-fold cross-validation with given
// hyperparameters: one model per fold, each kept with its history; scores
// every model on the test set; and combines them as the seed does, by the
// mean of the predictions (regression) or a majority vote whose ties go to the
// best single model (classification).
//
// It is not for choosing hyperparameters (lib/hpo) nor for writing the
// results folder or figures (lib/homework, lib/plot).
package cv
