// Package layers holds the convolution, max-pool and dense layers of LeNet5,
// written so that they train on every GoMLX backend, the pure-Go one included.
//
// GoMLX's own layers.Convolution and MaxPool build gradients from ops that the
// pure-Go backend lacks (Pad, Reverse, SelectAndScatterMax). Here a convolution
// is an im2col made of static slices of the zero-padded input (padding is done
// by concatenating zeros) followed by one matrix product, and a max-pool is a
// reshape followed by ReduceMax. Both have gradients made only of ops that
// every backend has, once this package has registered a Pad-free gradient for
// Slice and faster ones for Dot and DotGeneral (see vjp.go). Importing this
// package therefore changes those gradients for the whole program; they are
// equal in value to GoMLX's and fall back to GoMLX's where a case is not
// covered (strided slices, non-matrix Dot).
//
// Where the backend can run the gradients of its own convolution and pooling
// (XLA), Conv2D and MaxPool2D use them instead: measured faster, and equal to
// the same reference in the tests.
//
// It is not a general layer library: only stride 1 convolutions with symmetric
// zero padding, non-overlapping pools, and channels-last [batch, H, W, C]
// images. Models, optimizers and the training loop live in lib/nn.
package layers
