// Package backend chooses the GoMLX backend for the whole project, in one place.
//
// The order is: an explicit choice (a --backend flag, then $GOMLX_BACKEND);
// else XLA CUDA when a CUDA PJRT plugin is installed and an NVIDIA GPU is
// present; else XLA CPU with a PJRT CPU plugin found on this machine
// ($PJRT_PLUGIN_LIBRARY_PATH, the project's .venv, GoMLX's usual folders);
// else the pure-Go backend. Plugins come from PyPI wheels pinned in
// scripts/requirements-xla.txt (CPU) and scripts/requirements-cuda.txt (CUDA).
// It never downloads anything: GoMLX's own auto-install is switched off.
//
// The tests' list of backends (every backend this machine has) is
// internal/backendtest.ForTests, kept out of this package so that programs
// do not link package testing.
//
// It is not for building graphs or training: see lib/nn for that.
package backend
