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
// It is not for the layers themselves (lib/nn/layers, which train on every
// backend), for k-fold runs and ensembles (lib/cv), nor for the search over
// hyperparameters (lib/hpo).
package nn
