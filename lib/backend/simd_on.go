//go:build goexperiment.simd

package backend

// SIMD reports whether the program was built with GOEXPERIMENT=simd: the
// pure-Go backend then multiplies matrices with AVX2 or AVX-512 where the
// processor has them (about 1.6x faster LeNet5 training on the project's
// machine, docs/PERFORMANCE.md), instead of its portable loops.
const SIMD = true
