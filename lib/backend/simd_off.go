//go:build !goexperiment.simd

package backend

// SIMD is false: built without GOEXPERIMENT=simd (see simd_on.go).
const SIMD = false
