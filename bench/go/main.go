// Command bench measures the project on one backend doing the same work as the
// PyTorch reference scripts of bench/pytorch, and prints one JSON line per run
// with the same field names where the quantity is the same, so that
// bench/run.sh can set the two side by side:
//
//	go run ./bench/go lenet5 --backend xla --batch 64           (a), (b), (f)
//	go run ./bench/go regression --bench epoch --backend go      (c)
//	go run ./bench/go regression --bench cv --backend xla        (d)
//	go run ./bench/go study --backend xla                        (e)
//	go run ./bench/go study --task classification --backend xla (g)
//	go run ./bench/go homework --backend xla                     (h)
//
// Every run is its own process, so that compile times are cold and the peak
// resident set size (VmHWM) is that of the measured work alone, as for the
// PyTorch scripts. --cpuprofile writes a pprof profile of the measured part
// for `go tool pprof -top`.
//
// It is not a test: it asserts nothing, and its numbers depend on the load of
// the machine, which each line reports: load_avg_1m_start when the process
// started, load_avg_1m when it reported, and cores, the CPUs it could use
// (the table calls a verdict noisy when a run started above cores/2).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/dlworkbench/hw1/lib/backend"
)

// common are the flags of every benchmark.
type common struct {
	backend    string
	dataDir    string
	cpuprofile string
	seed       int64
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", "go", "backend to measure: go or xla, or a full configuration such as go:ops_sequential or xla:/abs/plugin.so (for experiments)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory laid out like ../shared/data ($HW1_DATA_DIR when empty)")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured part to this file")
	fs.Int64Var(&c.seed, "seed", 0, "seed of weights, shuffling and splits")
}

// open returns the backend the flags name. Only go and xla are accepted: the
// table compares named backends, never a silent fallback.
func (c *common) open() (*backend.Choice, error) {
	switch c.backend {
	case "go":
		return backend.Go(), nil
	case "xla":
		return backend.XLA()
	}
	if strings.HasPrefix(c.backend, "go:") || strings.HasPrefix(c.backend, "xla:") {
		return backend.New(c.backend)
	}
	return nil, fmt.Errorf("--backend %q: want go or xla", c.backend)
}

// profile starts the CPU profile if asked and returns the function that stops
// it.
func (c *common) profile() (stop func(), err error) {
	if c.cpuprofile == "" {
		return func() {}, nil
	}
	if strings.HasPrefix(c.backend, "xla") || c.backend == defaultBackends {
		// Go's profiling signal, delivered to the XLA plugin's threads,
		// corrupts the C heap (glibc aborts with "corrupted size vs.
		// prev_size" within seconds, every time, with go-xla v0.4.1 and
		// xla-cpu-pjrt 0.0.1).
		return nil, fmt.Errorf("--cpuprofile: not with --backend %s (it may run XLA): Go's profiling signal crashes the XLA plugin; profile the go backend", c.backend)
	}
	f, err := os.Create(c.cpuprofile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

var benches = map[string]func(args []string) error{
	"lenet5":     lenet5Main,
	"regression": regressionMain,
	"study":      studyMain,
	"homework":   homeworkMain,
	"table":      tableMain,
	"backends":   backendsMain,
}

func main() {
	if len(os.Args) < 2 || benches[os.Args[1]] == nil {
		names := make([]string, 0, len(benches))
		for n := range benches {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: bench {%s} [flags]  (bench NAME -h for its flags)\n", joinNames(names))
		os.Exit(2)
	}
	if err := benches[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += "|"
		}
		s += n
	}
	return s
}

// report prints the one JSON line of a run: what was measured and where.
func report(bench string, c *common, choice *backend.Choice, fields map[string]any) error {
	line := map[string]any{
		"bench": bench, "side": "project", "backend": c.backend,
		"go": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0), "cores": cores(),
		"load_avg_1m_start": loadAtStart, "load_avg_1m": loadAvg1m(),
	}
	if choice != nil {
		line["backend_desc"] = choice.String()
	}
	for k, v := range fields {
		line[k] = v
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Println(string(b))
	return nil
}

// backendsMain prints the backends this machine can measure, one per line
// (go always; xla when its PJRT plugin loads), for run.sh.
func backendsMain(args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("backends takes no arguments")
	}
	if _, err := backend.XLA(); err == nil {
		fmt.Println("xla")
	} else {
		fmt.Fprintf(os.Stderr, "xla: %v\n", err)
	}
	fmt.Println("go")
	return nil
}
