package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/backends/xla"
)

// EnvVar is GoMLX's own variable for an explicit backend choice.
const EnvVar = "GOMLX_BACKEND"

// Choice is a backend with the reason it was chosen.
type Choice struct {
	Backend backends.Backend
	// Name is "go" or "xla".
	Name string
	// Config is what was passed to GoMLX, e.g. "xla:/abs/pjrt_c_api_cpu_plugin.so".
	Config string
	// Plugin is the absolute path of the PJRT plugin when Name is "xla".
	Plugin string
	// PJRTVersion is the plugin's PJRT C API version ("0.83") when Name is "xla".
	PJRTVersion string
	// Reason says in a few words why this backend was chosen.
	Reason string
}

// String is the one line printed when a backend is chosen.
func (c *Choice) String() string {
	if c.Name == "xla" {
		return fmt.Sprintf("backend: xla (plugin %s, PJRT C API %s): %s", c.Plugin, c.PJRTVersion, c.Reason)
	}
	return fmt.Sprintf("backend: go (pure Go): %s", c.Reason)
}

func init() {
	// Offline, GoMLX's auto-install from GitHub blocks and fails: never use it.
	xla.EnableAutoInstall(false)
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Choice{}
)

// New chooses a backend. explicit is the value of a --backend flag ("" when not
// given): "go", "xla", "xla:/abs/plugin.so" or any GoMLX configuration string.
// Without it, $GOMLX_BACKEND is used; without both, XLA with a locally found
// plugin, else the pure-Go backend.
//
// Backends are created once per configuration and shared: calling New again
// with the same choice returns the same backend.
func New(explicit string) (*Choice, error) {
	reason := "given by --backend"
	config := explicit
	if config == "" {
		if env, ok := os.LookupEnv(EnvVar); ok && env != "" {
			config, reason = env, "given by $"+EnvVar
		}
	}
	if config == "" {
		if plugin, where := FindPlugin(); plugin != "" {
			config, reason = "xla:"+plugin, "plugin found in "+where
		} else {
			config, reason = "go", "no XLA PJRT CPU plugin found ("+strings.Join(searchedPlaces(), ", ")+")"
		}
	}
	return newFromConfig(config, reason)
}

// Go returns the pure-Go backend.
func Go() *Choice {
	c, err := newFromConfig("go", "requested")
	if err != nil {
		panic(err) // The pure-Go backend is compiled in: this cannot fail.
	}
	return c
}

// XLA returns the XLA backend with a locally found plugin, or an error saying
// where it looked.
func XLA() (*Choice, error) {
	plugin, where := FindPlugin()
	if plugin == "" {
		return nil, fmt.Errorf("no XLA PJRT CPU plugin found (looked in %s); run `make setup`", strings.Join(searchedPlaces(), ", "))
	}
	return newFromConfig("xla:"+plugin, "plugin found in "+where)
}

func newFromConfig(config, reason string) (*Choice, error) {
	name, rest, _ := strings.Cut(config, ":")
	switch name {
	case "go", "simplego":
		name = "go"
	case "xla", "stablehlo", "hlo", "shlo":
		name = "xla"
		if rest == "" || rest == "cpu" {
			plugin, where := FindPlugin()
			if plugin == "" {
				return nil, fmt.Errorf("backend %q: no XLA PJRT CPU plugin found (looked in %s); run `make setup` or pass xla:/abs/path/plugin.so", config, strings.Join(searchedPlaces(), ", "))
			}
			rest = plugin
			reason += "; plugin found in " + where
		}
		if !filepath.IsAbs(rest) {
			return nil, fmt.Errorf("backend %q: the XLA plugin must be an absolute path to a .so file", config)
		}
		if _, err := os.Stat(rest); err != nil {
			return nil, fmt.Errorf("backend %q: %w", config, err)
		}
		config = "xla:" + rest
	default:
		return nil, fmt.Errorf("backend %q: unknown backend %q (want go, xla or xla:/abs/plugin.so)", config, name)
	}

	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[config]; ok {
		return c, nil
	}
	c := &Choice{Name: name, Config: config, Reason: reason}
	var err error
	if name == "go" {
		c.Backend, err = simplego.New(rest)
	} else {
		c.Plugin = rest
		var b *xla.Backend
		b, err = xla.NewWithOptions(rest, nil)
		if err == nil {
			c.Backend = b
			c.PJRTVersion = pjrtVersion(rest)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	cache[config] = c
	return c, nil
}

// FindPlugin looks for a PJRT CPU plugin on this machine, without downloading
// anything. It returns its absolute path and where it was found, or "" when none.
func FindPlugin() (path, where string) {
	for _, place := range pluginPlaces() {
		for _, pattern := range place.patterns {
			matches, _ := filepath.Glob(pattern)
			sort.Strings(matches)
			for _, m := range matches {
				if abs, err := filepath.Abs(m); err == nil && isCPUPlugin(abs) {
					return abs, place.name
				}
			}
		}
	}
	return "", ""
}

type place struct {
	name     string
	patterns []string
}

var pluginFileNames = []string{"pjrt_c_api_cpu_plugin.so", "pjrt-plugin-cpu.so", "pjrt_plugin_cpu.so", "pjrt_c_api_cpu*.so", "*pjrt*cpu*.so"}

func pluginPlaces() []place {
	var places []place
	inDir := func(name, dir string) place {
		p := place{name: name}
		for _, f := range pluginFileNames {
			p.patterns = append(p.patterns, filepath.Join(dir, f))
		}
		return p
	}
	if env := os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"); env != "" {
		for _, dir := range filepath.SplitList(env) {
			if dir != "" {
				places = append(places, inDir("$PJRT_PLUGIN_LIBRARY_PATH", dir))
			}
		}
	}
	if venv := VenvDir(); venv != "" {
		p := place{name: "the project's venv " + venv}
		for _, f := range pluginFileNames {
			p.patterns = append(p.patterns,
				filepath.Join(venv, "lib", "python3*", "site-packages", "*", f),
				filepath.Join(venv, "lib", "python3*", "site-packages", "*", "*", f))
		}
		places = append(places, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		places = append(places, inDir("~/.local/lib/go-xla", filepath.Join(home, ".local", "lib", "go-xla")))
	}
	places = append(places, inDir("/usr/local/lib/go-xla", "/usr/local/lib/go-xla"))
	return places
}

func searchedPlaces() []string {
	var names []string
	for _, p := range pluginPlaces() {
		names = append(names, p.name)
	}
	return names
}

func isCPUPlugin(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return strings.HasSuffix(base, ".so") && !strings.Contains(base, "cuda") && !strings.Contains(base, "gpu") && !strings.Contains(base, "tpu")
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

// pjrtVersion reads the PJRT C API version of the plugin that was just loaded.
func pjrtVersion(pluginPath string) string {
	p, err := pjrt.GetPlugin(pluginPath)
	if err != nil {
		return "unknown"
	}
	major, minor := p.Version()
	return fmt.Sprintf("%d.%d", major, minor)
}
