package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

// EnvVar is GoMLX's own variable for an explicit backend choice.
const EnvVar = "GOMLX_BACKEND"

// Devices an XLA backend runs on.
const (
	CPU  = "cpu"
	CUDA = "cuda"
)

// Choice is a backend with the reason it was chosen.
type Choice struct {
	// Backend is GoMLX's backend, what nn.New and cv.Run take.
	Backend compute.Backend
	// Name is "go" or "xla".
	Name string
	// Device is "cpu" for the pure-Go backend and the XLA CPU plugin, "cuda"
	// for the XLA CUDA plugin.
	Device string
	// Config is what was passed to GoMLX, e.g. "go" or "xla:/abs/xla_cpu_pjrt.so".
	Config string
	// Plugin is the absolute path of the PJRT plugin when Name is "xla".
	Plugin string
	// PJRTVersion is the plugin's PJRT C API version (e.g. "0.81") when Name is "xla".
	PJRTVersion string
	// Reason says in a few words why this backend was chosen.
	Reason string
}

// String is the one line printed when a backend is chosen.
func (c *Choice) String() string {
	if c.Name == "xla" {
		return fmt.Sprintf("backend: xla %s (plugin %s, PJRT C API %s): %s", c.Device, c.Plugin, c.PJRTVersion, c.Reason)
	}
	if !SIMD && runtime.GOARCH == "amd64" {
		return fmt.Sprintf("backend: go (pure Go, built without GOEXPERIMENT=simd: matrix products without AVX): %s", c.Reason)
	}
	return fmt.Sprintf("backend: go (pure Go): %s", c.Reason)
}

// ID names the backend and device in one word ("go", "xla", "xla-cuda"), for
// test and benchmark names.
func (c *Choice) ID() string {
	if c.Name == "xla" && c.Device != CPU {
		return c.Name + "-" + c.Device
	}
	return c.Name
}

func init() {
	// Offline, GoMLX's auto-install from GitHub blocks and fails: never use it.
	// The variable covers code that reaches GoMLX's xla package before this
	// init runs, or in a child process.
	xla.EnableAutoInstall(false)
	if _, ok := os.LookupEnv(xla.NoAutoInstallEnv); !ok {
		_ = os.Setenv(xla.NoAutoInstallEnv, "1")
	}
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Choice{}
)

// Names are the values New accepts, for a flag's help.
const Names = "go, xla, xla:cpu, xla:cuda or xla:/abs/plugin.so"

// DefaultOrder is how New chooses when nothing names a backend, in words, for
// help texts: the order is written here and in New only.
const DefaultOrder = "$GOMLX_BACKEND, else XLA CUDA (a CUDA plugin and an NVIDIA GPU), else XLA CPU when a plugin is found, else go"

// New chooses a backend. explicit is the value of a --backend flag ("" when
// not given): "go", "xla", "xla:cpu", "xla:cuda" or "xla:/abs/plugin.so".
// Without it, $GOMLX_BACKEND is used; without both, XLA CUDA when a CUDA
// plugin is installed and an NVIDIA GPU is present, else XLA CPU when a CPU
// plugin is found, else the pure-Go backend. It never downloads anything.
//
// An explicit value that cannot be honoured (unknown name, relative path,
// missing file, plugin that fails to load) is an error; the default choice
// instead falls back to the next backend and says so in Reason.
//
// Backends are created once per configuration and shared: calling New again
// with the same choice returns the same backend.
func New(explicit string) (*Choice, error) {
	if explicit != "" {
		return newFromConfig(explicit, "given by --backend")
	}
	if env := os.Getenv(EnvVar); env != "" {
		return newFromConfig(env, "given by $"+EnvVar)
	}
	var notes []string
	if plugin, where := FindCUDAPlugin(); plugin != "" {
		if gpu := NvidiaGPU(); gpu != "" {
			c, err := newXLA(plugin, "", CUDA, "CUDA plugin found in "+where+", "+gpu)
			if err == nil {
				return c, nil
			}
			notes = append(notes, oneLine(fmt.Sprintf("CUDA plugin %s failed: %v", plugin, err)))
		}
	}
	if plugin, where := FindPlugin(); plugin != "" {
		c, err := newXLA(plugin, "", CPU, joinReason(notes, "plugin found in "+where))
		if err == nil {
			return c, nil
		}
		notes = append(notes, oneLine(fmt.Sprintf("CPU plugin %s failed: %v", plugin, err)))
	} else {
		notes = append(notes, "no XLA PJRT CPU plugin found ("+strings.Join(searchedPlaces(), ", ")+")")
	}
	return newGo("", strings.Join(notes, "; "))
}

func joinReason(notes []string, reason string) string {
	return strings.Join(append(notes, reason), "; ")
}

// oneLine keeps a plugin's multi-line error on the one line Choice.String prints.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Go returns the pure-Go backend.
func Go() *Choice {
	c, err := newGo("", "requested")
	if err != nil {
		panic(err) // The pure-Go backend is compiled in: this cannot fail.
	}
	return c
}

// XLA returns the XLA backend with a locally found CPU plugin, or an error
// saying where it looked.
func XLA() (*Choice, error) {
	plugin, where := FindPlugin()
	if plugin == "" {
		return nil, fmt.Errorf("no XLA PJRT CPU plugin found (looked in %s); run `make setup`", strings.Join(searchedPlaces(), ", "))
	}
	return newXLA(plugin, "", CPU, "plugin found in "+where)
}

// XLACUDA returns the XLA backend with a locally found CUDA plugin, or an
// error when there is no plugin or no NVIDIA GPU.
func XLACUDA() (*Choice, error) {
	plugin, where := FindCUDAPlugin()
	if plugin == "" {
		return nil, fmt.Errorf("no XLA PJRT CUDA plugin found (looked in %s); see scripts/requirements-cuda.txt", strings.Join(searchedCUDAPlaces(), ", "))
	}
	gpu := NvidiaGPU()
	if gpu == "" {
		return nil, fmt.Errorf("CUDA plugin %s found but no NVIDIA GPU (no /dev/nvidia0, nvidia-smi lists none)", plugin)
	}
	return newXLA(plugin, "", CUDA, "CUDA plugin found in "+where+", "+gpu)
}

// newFromConfig honours an explicit choice or fails.
func newFromConfig(config, reason string) (*Choice, error) {
	name, rest, _ := strings.Cut(config, ":")
	switch strings.ToLower(name) {
	case "go", "simplego":
		return newGo(rest, reason)
	case "xla", "stablehlo", "hlo", "shlo":
	default:
		return nil, fmt.Errorf("backend %q: unknown backend %q (want go, xla, xla:cpu, xla:cuda or xla:/abs/plugin.so)", config, name)
	}

	// GoMLX appends plugin options after a comma ("xla:/p.so,shared_buffers").
	plugin, options, _ := strings.Cut(rest, ",")
	switch plugin {
	case "":
		// Plain "xla" is the best XLA this machine has: CUDA on a GPU, else CPU.
		if cuda, _ := FindCUDAPlugin(); cuda != "" && NvidiaGPU() != "" {
			c, err := XLACUDA()
			if err == nil {
				c.Reason = reason + "; " + c.Reason
				return c, nil
			}
			reason += oneLine(fmt.Sprintf("; CUDA plugin %s failed: %v", cuda, err))
		}
		fallthrough
	case CPU:
		found, where := FindPlugin()
		if found == "" {
			return nil, fmt.Errorf("backend %q: no XLA PJRT CPU plugin found (looked in %s); run `make setup` or pass xla:/abs/path/plugin.so", config, strings.Join(searchedPlaces(), ", "))
		}
		return newXLA(found, options, CPU, reason+"; plugin found in "+where)
	case CUDA:
		c, err := XLACUDA()
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", config, err)
		}
		if options != "" {
			return newXLA(c.Plugin, options, CUDA, reason+"; "+c.Reason)
		}
		c.Reason = reason + "; " + c.Reason
		return c, nil
	}
	if !filepath.IsAbs(plugin) {
		return nil, fmt.Errorf("backend %q: the XLA plugin %q must be cpu, cuda or an absolute path to a .so file", config, plugin)
	}
	fi, err := os.Stat(plugin)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("backend %q: %s is a directory, not a PJRT plugin .so file", config, plugin)
	}
	device := CPU
	if isCUDAPlugin(plugin) {
		device = CUDA
	}
	return newXLA(plugin, options, device, reason)
}

// GoOptionsEnvVar holds the pure-Go backend's options when --backend and
// $GOMLX_BACKEND name none: e.g. HW1_GO_OPTIONS=ops_sequential goes back to
// the sequential executor without changing any command line.
const GoOptionsEnvVar = "HW1_GO_OPTIONS"

// DefaultGoOptions are the pure-Go backend's options when none are given:
// GoMLX's own executor, which runs independent ops in parallel while one graph
// executes, with an unlimited worker pool.
//
// With the pool's default limit (2 x GOMAXPROCS workers) the parallel
// executor can deadlock: ops running in parallel each hold a worker while
// they wait for more workers of the same pool (batched matrix products do in
// compute v0.1.3; see docs/upstream-simplego-deadlock.md and
// internal/repro/simplegodeadlock). Without a limit there is no worker to
// run out of. GoMLX v0.26.0 forced this project to "ops_sequential" instead;
// that still works: --backend go:ops_sequential or $HW1_GO_OPTIONS.
const DefaultGoOptions = "parallelism=-1"

func newGo(options, reason string) (c *Choice, err error) {
	if options == "" {
		if env := os.Getenv(GoOptionsEnvVar); env != "" {
			options = env
			reason += "; options from $" + GoOptionsEnvVar
		} else {
			options = DefaultGoOptions
		}
	}
	config := "go"
	if options != "" {
		config += ":" + options
	}
	return cached(config, reason, func() (*Choice, error) {
		b, err := newGoBackend(options)
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", config, err)
		}
		return &Choice{Backend: b, Name: "go", Device: CPU, Config: config}, nil
	})
}

// newGoBackend is gobackend.New(options), except that a "parallelism=N"
// option is applied to the backend's worker pool directly: compute v0.1.3
// prints "Go backend: parallelism set to N" on standard output when it parses
// the option, which would corrupt the output of `hw1 cv` (a JSON document)
// and of the benchmarks. If the pool cannot be reached (a later compute
// version), the option goes to gobackend.New after all.
func newGoBackend(options string) (compute.Backend, error) {
	var rest []string
	parallelism, hasParallelism := 0, false
	for _, part := range strings.Split(options, ",") {
		if v, ok := strings.CutPrefix(part, "parallelism="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("parallelism=%q: want a number of workers (-1: no limit)", v)
			}
			parallelism, hasParallelism = n, true
			continue
		}
		rest = append(rest, part)
	}
	b, err := gobackend.New(strings.Join(rest, ","))
	if err != nil || !hasParallelism {
		return b, err
	}
	if !setWorkers(b, parallelism) {
		b.Finalize()
		return gobackend.New(options)
	}
	return b, nil
}

// setWorkers calls b.Workers.SetMaxParallelism(n) on compute's pure-Go
// backend, whose type is internal to compute. It reports false when b has no
// such field or method.
func setWorkers(b compute.Backend, n int) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v := reflect.ValueOf(b)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return false
	}
	set := v.Elem().FieldByName("Workers").MethodByName("SetMaxParallelism")
	if !set.IsValid() || set.Type().NumIn() != 1 || set.Type().In(0).Kind() != reflect.Int {
		return false
	}
	set.Call([]reflect.Value{reflect.ValueOf(n)})
	return true
}

func newXLA(plugin, options, device, reason string) (*Choice, error) {
	config := "xla:" + plugin
	if options != "" {
		config += "," + options
	}
	return cached(config, reason, func() (c *Choice, err error) {
		// A plugin that does not match the PJRT C API go-xla was built for
		// can panic in cgo glue rather than return an error.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("backend %q: loading the plugin panicked: %v", config, r)
			}
		}()
		if device == CUDA {
			prepareCUDA(plugin)
		}
		b, err := xla.NewWithOptions(strings.TrimPrefix(config, "xla:"), nil)
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", config, err)
		}
		return &Choice{Backend: b, Name: "xla", Device: device, Config: config, Plugin: plugin,
			PJRTVersion: pjrtVersion(plugin)}, nil
	})
}

// cached returns a copy of the choice already made for config, with this
// call's reason, or makes it. Failures are not cached, so that a later call may
// succeed once a plugin is installed.
func cached(config, reason string, create func() (*Choice, error)) (*Choice, error) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	c, ok := cache[config]
	if !ok {
		var err error
		if c, err = create(); err != nil {
			return nil, err
		}
		cache[config] = c
	}
	copied := *c
	copied.Reason = reason
	return &copied, nil
}

// pjrtVersion reads the PJRT C API version of a plugin already loaded by GoMLX
// (go-xla keeps loaded plugins, so this does not load it twice).
func pjrtVersion(pluginPath string) string {
	p, err := pjrt.GetPlugin(pluginPath)
	if err != nil {
		return "unknown"
	}
	major, minor := p.Version()
	return fmt.Sprintf("%d.%d", major, minor)
}
