// Package backend chooses the GoMLX backend for the whole project, in one place.
//
// The order is: an explicit choice (a --backend flag or $GOMLX_BACKEND); else XLA
// with a PJRT CPU plugin found on this machine (PJRT_PLUGIN_LIBRARY_PATH, the
// project's .venv, GoMLX's usual folders); else the pure-Go backend. It never
// downloads anything: GoMLX's own auto-install is switched off.
//
// It is not for building graphs or training: see lib/nn for that.
package backend
