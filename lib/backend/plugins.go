package backend

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// File names of PJRT plugins, as the packages that install them spell them.
var (
	// cpuPluginNames: the PyPI wheel xla-cpu-pjrt (xla_plugins/xla_cpu_pjrt/),
	// then GoMLX's own installer (pjrt_c_api_cpu[_vX.Y.Z]_plugin.so), which is
	// also the name in the PyPI wheel lammps-jax-pjrt-cpu (lammps_jax_pjrt_cpu/),
	// then the PyPI wheel fastatomstruct-xla-cpu (fastatomstruct_xla_cpu/).
	cpuPluginNames = []string{"xla_cpu_pjrt.so", "pjrt_c_api_cpu_plugin.so", "pjrt_c_api_cpu_*_plugin.so", "pjrt-plugin-cpu.so", "pjrt_plugin_cpu.so", "libpjrt_cpu.so"}
	// cudaPluginNames: the PyPI wheels jax-cuda12-pjrt and jax-cuda13-pjrt
	// (jax_plugins/xla_cuda1X/), then GoMLX's own installer.
	cudaPluginNames = []string{"xla_cuda_plugin.so", "pjrt_c_api_cuda_plugin.so", "pjrt_c_api_cuda*_plugin.so"}
	// venvCPUDirs and venvCUDADirs are where wheels put plugins, under
	// site-packages, in the order they are preferred when several are installed
	// (scripts/requirements-xla.txt installs the first; docs/PERFORMANCE.md
	// compares the three).
	venvCPUDirs  = []string{"xla_plugins/xla_cpu_pjrt", "lammps_jax_pjrt_cpu", "fastatomstruct_xla_cpu"}
	venvCUDADirs = []string{"jax_plugins/xla_cuda12", "jax_plugins/xla_cuda13"}
)

// FindPlugin looks for a PJRT CPU plugin on this machine, without downloading
// anything. It returns its absolute path and where it was found, or "" when none.
func FindPlugin() (path, where string) {
	return find(pluginPlaces(cpuPluginNames, venvCPUDirs, false))
}

// FindCUDAPlugin looks for a PJRT CUDA plugin the same way. Finding one says
// nothing about a GPU being present: see NvidiaGPU.
func FindCUDAPlugin() (path, where string) {
	return find(pluginPlaces(cudaPluginNames, venvCUDADirs, true))
}

func find(places []place) (path, where string) {
	for _, place := range places {
		for _, pattern := range place.patterns {
			matches, _ := filepath.Glob(pattern)
			sort.Strings(matches)
			for _, m := range matches {
				if abs, err := filepath.Abs(m); err == nil && isFile(abs) {
					return abs, place.name
				}
			}
		}
	}
	return "", ""
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

type place struct {
	name     string
	patterns []string
}

// pluginPlaces are searched in order: $PJRT_PLUGIN_LIBRARY_PATH (GoMLX's own
// variable), the project's venv, then the folders GoMLX's installer uses.
func pluginPlaces(names, venvDirs []string, cuda bool) []place {
	var places []place
	inDir := func(name, dir string) place {
		p := place{name: name}
		for _, f := range names {
			p.patterns = append(p.patterns, filepath.Join(dir, f))
			if cuda {
				// GoMLX's CUDA installer keeps the plugin beside its nvidia/ libraries.
				p.patterns = append(p.patterns, filepath.Join(dir, "*", f))
			}
		}
		return p
	}
	for _, dir := range filepath.SplitList(os.Getenv("PJRT_PLUGIN_LIBRARY_PATH")) {
		if dir != "" {
			places = append(places, inDir("$PJRT_PLUGIN_LIBRARY_PATH", dir))
		}
	}
	if venv := VenvDir(); venv != "" {
		p := place{name: "the project's venv " + venv}
		for _, d := range venvDirs {
			for _, f := range names {
				p.patterns = append(p.patterns, filepath.Join(venv, "lib", "python3*", "site-packages", d, f))
			}
		}
		places = append(places, p)
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		places = append(places, inDir("~/.local/lib/go-xla", filepath.Join(home, ".local", "lib", "go-xla")))
	}
	places = append(places, inDir("/usr/local/lib/go-xla", "/usr/local/lib/go-xla"))
	return places
}

func searchedPlaces() []string { return placeNames(pluginPlaces(cpuPluginNames, venvCPUDirs, false)) }
func searchedCUDAPlaces() []string {
	return placeNames(pluginPlaces(cudaPluginNames, venvCUDADirs, true))
}

func placeNames(places []place) []string {
	var names []string
	for _, p := range places {
		names = append(names, p.name)
	}
	return names
}

func isCUDAPlugin(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return strings.Contains(base, "cuda") || strings.Contains(base, "gpu")
}

// VenvDir returns the project's Python virtual environment (.venv at the
// repository root), found from $HW1_VENV, the working directory or the
// executable's directory, or "" when there is none.
func VenvDir() string {
	if env := os.Getenv("HW1_VENV"); env != "" {
		return env
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			if fi, err := os.Stat(filepath.Join(dir, ".venv")); err == nil && fi.IsDir() {
				if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
					return filepath.Join(dir, ".venv")
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

var nvidiaGPU = sync.OnceValue(func() string {
	if matches, _ := filepath.Glob("/dev/nvidia[0-9]*"); len(matches) > 0 {
		return "NVIDIA GPU " + matches[0]
	}
	smi, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return ""
	}
	// A wedged driver can make nvidia-smi hang: the choice must stay quick.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, smi, "-L").Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "GPU ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
})

// NvidiaGPU describes the first NVIDIA GPU of this machine (from /dev/nvidia0
// or `nvidia-smi -L`), or returns "" when there is none.
func NvidiaGPU() string { return nvidiaGPU() }

// prepareCUDA points XLA at the CUDA tools (ptxas, libdevice) installed next
// to the plugin, before it is loaded. go-xla v0.4.1 otherwise looks only for
// a nvidia/ folder two levels above the plugin (for the PyPI wheels that is
// site-packages/jax_plugins/nvidia, which does not exist) and warns when there
// is none; it leaves a flag already set alone. (go-xla v0.1.4 set the flag to
// a folder of its author's machine.)
func prepareCUDA(plugin string) {
	flags := os.Getenv("XLA_FLAGS")
	if strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
		return
	}
	var dataDir string
	for _, candidate := range []string{
		// Wheels: site-packages/jax_plugins/xla_cuda12/x.so and site-packages/nvidia/cuda_nvcc.
		filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(plugin))), "nvidia", "cuda_nvcc"),
		// GoMLX's installer: .../go-xla/nvidia/ with bin/ptxas.
		filepath.Join(filepath.Dir(filepath.Dir(plugin)), "nvidia"),
		filepath.Join(filepath.Dir(plugin), "nvidia"),
	} {
		if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
			dataDir = candidate
			break
		}
	}
	if dataDir == "" {
		return
	}
	_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(flags+" --xla_gpu_cuda_data_dir="+dataDir))
	if _, ok := os.LookupEnv("GOPJRT_CUDA_CHECKS"); !ok {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
}
