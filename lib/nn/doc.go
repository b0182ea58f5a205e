// Package nn holds the two models of the homework (the regression MLP, the
// seed's Net_flex, and the LeNet5 classifier), optimizers with PyTorch's update
// rules, the losses, the training loop (Fit) with its per-epoch history and
// callbacks, metrics, and checkpoints.
//
// A model is described by a Spec and trained with Hyperparameters, both plain
// Go values that save as JSON. Training runs on whichever GoMLX backend the
// caller chose with lib/backend. A Model holds only its weights; compiled
// graphs live in workspaces pooled per backend and model shape, so they are
// reused across epochs and across models of the same shape (the
// hyperparameter search trains hundreds of them, k-fold keeps k). Dropout
// rates and the optimizer's learning rate, weight decay and momentum are fed
// as variables, so they do not count as shape.
//
// Data is built with FromCSV, FromImages, Inputs or the New*Data
// constructors; its storage is shared by subsets and unexported, and
// Targets and Labels return the rows of the view. PruneWith is the callback
// that lets a hyperparameter search (lib/hpo's *Trial is a Reporter) prune
// Fit.
//
// Importing lib/nn changes one GoMLX gradient for the whole program: its
// layers package (lib/nn/layers, vjp.go) registers, at init, a DotGeneral
// gradient in GoMLX's graph.VJPRegistration. It is GoMLX's own for every
// product whose contracting axes are listed in increasing order (all of
// lib/nn's), and a correct one where GoMLX v0.28.2's is wrong (contracting
// axes out of order, as an Einsum written in a notebook makes them). It is
// done at init, not by nn.New, on purpose: the registry is a global map that
// GoMLX reads whenever any graph is differentiated, so writing it later could
// race with graphs being built on other goroutines, and gradients would
// depend on whether a model had been built yet.
//
// It is not for the layers themselves (lib/nn/layers, which train on every
// backend), for k-fold runs and ensembles (lib/cv), nor for the search over
// hyperparameters (lib/hpo).
package nn
