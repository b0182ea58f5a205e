package backend

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// requireXLAEnv is backendtest.RequireXLAEnv (which this package's own tests
// cannot import: backendtest imports lib/backend).
const requireXLAEnv = "HW1_REQUIRE_XLA"

// cpuPluginOrSkip returns the locally found CPU plugin, skipping the test
// when there is none (failing under $HW1_REQUIRE_XLA).
func cpuPluginOrSkip(t *testing.T) string {
	t.Helper()
	plugin, _ := FindPlugin()
	if plugin == "" {
		if os.Getenv(requireXLAEnv) != "" {
			t.Fatalf("$%s is set but no XLA CPU plugin is found (looked in %v)", requireXLAEnv, searchedPlaces())
		}
		t.Skip("no XLA CPU plugin installed (run `make setup`)")
	}
	return plugin
}

// noPlugins makes this test see a machine with no plugin at all: an empty
// HOME, no $PJRT_PLUGIN_LIBRARY_PATH, and an empty venv.
func noPlugins(t *testing.T) {
	t.Helper()
	empty := t.TempDir()
	t.Setenv("HOME", empty)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "")
	t.Setenv("HW1_VENV", empty)
	t.Setenv(EnvVar, "")
	if p, where := FindPlugin(); p != "" {
		t.Skipf("a CPU plugin is installed system-wide (%s in %s): cannot test the fallback", p, where)
	}
}

func TestExplicitBeatsEnvironment(t *testing.T) {
	// Even a bad $GOMLX_BACKEND is ignored when a flag is given.
	t.Setenv(EnvVar, "no-such-backend")
	c, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "go" || !strings.Contains(c.Reason, "--backend") {
		t.Errorf("New(go) with $%s set: got %s", EnvVar, c)
	}
}

func TestEnvironmentBeatsFoundPlugin(t *testing.T) {
	cpuPluginOrSkip(t)
	t.Setenv(EnvVar, "go")
	c, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "go" || !strings.Contains(c.Reason, EnvVar) {
		t.Errorf("$%s=go with a plugin installed: got %s", EnvVar, c)
	}
}

func TestFoundPluginBeatsGo(t *testing.T) {
	plugin := cpuPluginOrSkip(t)
	t.Setenv(EnvVar, "")
	c, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	if cuda, _ := FindCUDAPlugin(); NvidiaGPU() == "" || cuda == "" {
		if c.Name != "xla" || c.Device != CPU || c.Plugin != plugin {
			t.Errorf("default with plugin %s: got %s", plugin, c)
		}
	}
	if c.Name == "xla" && !strings.HasPrefix(c.PJRTVersion, "0.") {
		t.Errorf("PJRT C API version %q, want 0.x", c.PJRTVersion)
	}
}

func TestXLANames(t *testing.T) {
	plugin := cpuPluginOrSkip(t)
	for _, config := range []string{"xla:cpu", "xla:" + plugin, "stablehlo:" + plugin} {
		c, err := New(config)
		if err != nil {
			t.Errorf("New(%q): %v", config, err)
			continue
		}
		if c.Name != "xla" || c.Device != CPU || c.Plugin != plugin || c.ID() != "xla" {
			t.Errorf("New(%q) = %s (ID %s)", config, c, c.ID())
		}
	}
	if NvidiaGPU() == "" {
		c, err := New("xla")
		if err != nil || c.Device != CPU {
			t.Errorf(`New("xla") without a GPU = %v, %v; want the CPU plugin`, c, err)
		}
	}
}

func TestSameConfigSharesBackend(t *testing.T) {
	a, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	if b := Go(); a.Backend != b.Backend {
		t.Error("New(go) and Go() made two pure-Go backends")
	}
}

func TestBadValuesAreOneClearError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.so")
	cases := []struct{ config, want string }{
		{"tpu", "unknown backend"},
		{"GO-fast", "unknown backend"},
		{"xla:relative/plugin.so", "absolute path"},
		{"xla:" + missing, "no such file"},
		{"xla:" + t.TempDir(), "is a directory"},
	}
	if NvidiaGPU() == "" {
		cases = append(cases, struct{ config, want string }{"xla:cuda", "CUDA"})
	}
	for _, c := range cases {
		_, err := New(c.config)
		if err == nil {
			t.Errorf("New(%q): no error", c.config)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, c.config) || strings.Contains(msg, "\n") {
			t.Errorf("New(%q) error %q: want one line naming the value and saying %q", c.config, msg, c.want)
		}
	}
	// The same bad values in $GOMLX_BACKEND are errors too, not a silent fallback.
	t.Setenv(EnvVar, "tpu")
	if _, err := New(""); err == nil || !strings.Contains(err.Error(), "tpu") {
		t.Errorf("$%s=tpu: error %v", EnvVar, err)
	}
}

// TestNoPluginFallsBackWithoutNetwork checks the offline promise: with no
// plugin anywhere, the default is the pure-Go backend, "xla" is an error, and
// nothing tries to download (any HTTP(S) request would reach our proxy).
func TestNoPluginFallsBackWithoutNetwork(t *testing.T) {
	noPlugins(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var connections atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			conn.Close()
		}
	}()
	proxy := "http://" + ln.Addr().String()
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(v, proxy)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	c, err := New("")
	if err != nil {
		t.Fatalf("default choice with no plugin: %v", err)
	}
	if c.Name != "go" {
		t.Errorf("default choice with no plugin: %s", c)
	}
	if line := c.String(); !strings.Contains(line, "no XLA PJRT CPU plugin found") || strings.Contains(line, "\n") {
		t.Errorf("String() = %q: want one line saying no plugin was found", line)
	}
	for _, config := range []string{"xla", "xla:cpu"} {
		if _, err := New(config); err == nil || !strings.Contains(err.Error(), "no XLA PJRT CPU plugin found") {
			t.Errorf("New(%q) with no plugin: error %v", config, err)
		}
	}
	if _, err := XLA(); err == nil {
		t.Error("XLA() with no plugin: no error")
	}
	if n := connections.Load(); n != 0 {
		t.Errorf("choosing a backend made %d network connection(s)", n)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("HOME"), ".local", "lib", "go-xla")); err == nil {
		t.Error("something tried to install a plugin into ~/.local/lib/go-xla")
	}
}

func TestFindPluginOrder(t *testing.T) {
	noPlugins(t)
	first, second := t.TempDir(), t.TempDir()
	for _, dir := range []string{first, second} {
		if err := os.WriteFile(filepath.Join(dir, "pjrt_c_api_cpu_plugin.so"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := os.Getenv("HOME")
	goxla := filepath.Join(home, ".local", "lib", "go-xla")
	if err := os.MkdirAll(goxla, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(goxla, "pjrt_c_api_cpu_v0.83.3_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, where := FindPlugin(); p != filepath.Join(goxla, "pjrt_c_api_cpu_v0.83.3_plugin.so") || where != "~/.local/lib/go-xla" {
		t.Errorf("FindPlugin() = %s in %s, want the one in ~/.local/lib/go-xla", p, where)
	}
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", first+string(os.PathListSeparator)+second)
	if p, _ := FindPlugin(); p != filepath.Join(first, "pjrt_c_api_cpu_plugin.so") {
		t.Errorf("FindPlugin() = %s, want the first $PJRT_PLUGIN_LIBRARY_PATH folder's", p)
	}

	// A venv laid out as pip installs the xla-cpu-pjrt wheel.
	venv := t.TempDir()
	dir := filepath.Join(venv, "lib", "python3.11", "site-packages", "xla_plugins", "xla_cpu_pjrt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "xla_cpu_pjrt.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HW1_VENV", venv)
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "")
	if p, _ := FindPlugin(); p != filepath.Join(dir, "xla_cpu_pjrt.so") {
		t.Errorf("FindPlugin() = %s, want the venv's (it comes before ~/.local/lib/go-xla)", p)
	}
	// The other CPU wheels, where xla-cpu-pjrt is not installed, in the order
	// of venvCPUDirs.
	site := filepath.Join(t.TempDir(), "lib", "python3.11", "site-packages")
	t.Setenv("HW1_VENV", filepath.Dir(filepath.Dir(filepath.Dir(site))))
	for _, wheel := range []string{"fastatomstruct_xla_cpu/libpjrt_cpu.so", "lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so"} {
		path := filepath.Join(site, filepath.FromSlash(wheel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if p, _ := FindPlugin(); p != path {
			t.Errorf("FindPlugin() = %s, want %s", p, path)
		}
	}
	t.Setenv("HW1_VENV", venv)
	// A CUDA wheel in the same venv is found as CUDA, never as CPU.
	cudaDir := filepath.Join(venv, "lib", "python3.11", "site-packages", "jax_plugins", "xla_cuda12")
	if err := os.MkdirAll(cudaDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cudaDir, "xla_cuda_plugin.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, _ := FindCUDAPlugin(); p != filepath.Join(cudaDir, "xla_cuda_plugin.so") {
		t.Errorf("FindCUDAPlugin() = %q, want the venv's jax-cuda12-pjrt plugin", p)
	}
	if p, _ := FindPlugin(); isCUDAPlugin(p) {
		t.Errorf("FindPlugin() = %s: a CUDA plugin", p)
	}
}

func TestPrepareCUDASetsDataDir(t *testing.T) {
	site := filepath.Join(t.TempDir(), "site-packages")
	plugin := filepath.Join(site, "jax_plugins", "xla_cuda12", "xla_cuda_plugin.so")
	nvcc := filepath.Join(site, "nvidia", "cuda_nvcc")
	if err := os.MkdirAll(nvcc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
	t.Setenv("GOPJRT_CUDA_CHECKS", "")
	prepareCUDA(plugin)
	if got, want := os.Getenv("XLA_FLAGS"), "--xla_dump_to=/tmp/x --xla_gpu_cuda_data_dir="+nvcc; got != want {
		t.Errorf("XLA_FLAGS = %q, want %q", got, want)
	}
	// A flag the user set is kept.
	t.Setenv("XLA_FLAGS", "--xla_gpu_cuda_data_dir=/opt/cuda")
	prepareCUDA(plugin)
	if got := os.Getenv("XLA_FLAGS"); got != "--xla_gpu_cuda_data_dir=/opt/cuda" {
		t.Errorf("XLA_FLAGS = %q, want the user's", got)
	}
}

// TestBrokenPluginFallsBack: a file that only looks like a plugin is an error
// when asked for, and skipped (with a note) by the default choice.
func TestBrokenPluginFallsBack(t *testing.T) {
	noPlugins(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(broken, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	c, err := New("")
	if err != nil {
		t.Fatalf("default choice with a broken plugin: %v", err)
	}
	if c.Name != "go" || !strings.Contains(c.Reason, broken) || !strings.Contains(c.Reason, "failed") {
		t.Errorf("default choice with a broken plugin: %s", c)
	}
	if _, err := New("xla:" + broken); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("New(xla:%s): error %v, want one naming the plugin", broken, err)
	}
}
