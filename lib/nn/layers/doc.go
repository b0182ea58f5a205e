// Package layers holds the convolution, max-pool and dense layers of LeNet5,
// initialised as PyTorch's, and fast on every GoMLX backend, the pure-Go one
// included.
//
// A convolution is an im2col made of static slices of the zero-padded input
// (padding is done by concatenating zeros) followed by one batched matrix
// product, and a max-pool is a reshape followed by ReduceMax. With GoMLX
// v0.26.0 that was the only way to train on the pure-Go backend, which lacked
// the ops of the gradients of GoMLX's own Convolve and MaxPool. With GoMLX
// v0.28.2 and compute v0.1.3 every backend runs those too; the im2col and the
// reshape stay the default because they measured faster on the pure-Go
// backend and on XLA CPU (docs/PERFORMANCE.md). The backend's own ops are one
// variable away (native.go), and the tests check both against the same loops.
//
// Importing this package replaces GoMLX's gradient of DotGeneral for the
// products whose contracting axes are not in increasing order, where GoMLX
// v0.28.2's is wrong (vjp.go); every other gradient is GoMLX's.
//
// It is not a general layer library: only stride 1 convolutions with symmetric
// zero padding, non-overlapping pools, and channels-last [batch, H, W, C]
// images. Models, optimizers and the training loop live in lib/nn.
package layers
