// Package layers holds the convolution, max-pool and dense layers of LeNet5,
// initialised as PyTorch's, and fast on every GoMLX backend, the pure-Go one
// included.
//
// A convolution is an im2col made of static slices of the zero-padded input
// (padding is done by concatenating zeros) followed by one batched matrix
// product, and a max-pool is a reshape followed by ReduceMax. With GoMLX
// v0.26.0 that was the only way to train on the pure-Go backend, which lacked
// the ops of the gradients of GoMLX's own Convolve and MaxPool. With GoMLX
// v0.28.2 and compute v0.1.3 every backend runs those too, so each layer uses
// what measured faster on each backend (docs/PERFORMANCE.md): the im2col on
// the pure-Go backend (half the CPU time of GoMLX's Convolve), GoMLX's
// Convolve on XLA (XLA's own convolution, 2-3x faster there at batch 256 and
// in evaluation), and the reshape max-pool on both. native.go holds the
// choice; the tests check both implementations against the same loops.
//
// Importing this package replaces GoMLX's gradient of DotGeneral for the
// products whose contracting axes are not in increasing order, where GoMLX
// v0.28.2's is wrong, and for the product of two matrices, which it computes
// with the same values in layouts the pure-Go backend multiplies faster
// (vjp.go); every other gradient is GoMLX's.
//
// It is not a general layer library: only stride 1 convolutions with symmetric
// zero padding, non-overlapping pools, and channels-last [batch, H, W, C]
// images. Models, optimizers and the training loop live in lib/nn.
package layers
