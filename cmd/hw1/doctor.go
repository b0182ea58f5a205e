package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/data"
)

func init() {
	register("doctor", "say which backend, versions and datasets this machine has, and what is missing", runDoctor)
}

func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hw1 doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	backendFlag := fs.String("backend", "", backendUsage)
	dataDir := fs.String("data-dir", "", "local data directory laid out like regression/*.csv, fashion-mnist/*.gz (default $HW1_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}

	var problems []string
	fmt.Fprintf(stdout, "go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	versions := backend.Versions()
	fmt.Fprintf(stdout, "gomlx:    %s\n", versions["gomlx"])
	fmt.Fprintf(stdout, "compute:  %s\n", versions["compute"])
	fmt.Fprintf(stdout, "go-xla:   %s\n", versions["go-xla"])

	choice, err := backend.New(*backendFlag)
	if err != nil {
		fmt.Fprintf(stdout, "backend:  FAILED: %v\n", err)
		problems = append(problems, "no usable backend: "+err.Error())
	} else {
		fmt.Fprintf(stdout, "backend:  %s\n", choice.Name)
		if choice.Name == "xla" {
			fmt.Fprintf(stdout, "  plugin: %s\n  PJRT C API: %s\n", choice.Plugin, choice.PJRTVersion)
		}
		fmt.Fprintf(stdout, "  why:    %s\n", choice.Reason)
		if err := runTinyGraph(choice); err != nil {
			fmt.Fprintf(stdout, "  check:  FAILED: %v\n", err)
			problems = append(problems, fmt.Sprintf("backend %s cannot execute a graph: %v", choice.Name, err))
		} else {
			fmt.Fprintf(stdout, "  check:  executes a graph\n")
		}
	}

	for _, st := range data.Check(data.Options{Dir: *dataDir}) {
		switch {
		case st.Err != nil:
			fmt.Fprintf(stdout, "data:     %-42s MISSING OR BAD: %v\n", st.Name, st.Err)
			problems = append(problems, fmt.Sprintf("dataset %s: %v", st.Name, st.Err))
		case !st.Found:
			fmt.Fprintf(stdout, "data:     %-42s not found\n", st.Name)
			problems = append(problems, fmt.Sprintf("dataset %s not found", st.Name))
		case st.UserData:
			// The user's own file in the data directory: a choice, not a fault.
			fmt.Fprintf(stdout, "data:     %-42s %s (user data: not the course's file)\n", st.Name, st.Path)
		case !st.Verified:
			fmt.Fprintf(stdout, "data:     %-42s %s (checksum NOT verified)\n", st.Name, st.Path)
			problems = append(problems, fmt.Sprintf("dataset %s at %s does not verify", st.Name, st.Path))
		default:
			fmt.Fprintf(stdout, "data:     %-42s %s (sha256 verified)\n", st.Name, st.Path)
		}
	}

	if len(problems) > 0 {
		fmt.Fprintf(stdout, "\nstatus:   %d problem(s):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(stdout, "  - %s\n", p)
		}
		fmt.Fprintln(stdout, "  `make setup` installs the plugin and Fashion-MNIST; --data-dir or $HW1_DATA_DIR points at local copies.")
		return 1
	}
	fmt.Fprintln(stdout, "\nstatus:   ok")
	return 0
}

// runTinyGraph compiles and runs x*2+1 on the chosen backend: loading a plugin
// is not enough to know it works.
func runTinyGraph(c *backend.Choice) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	exec, err := graph.NewExec(c.Backend, func(x *graph.Node) *graph.Node {
		return graph.AddScalar(graph.MulScalar(x, 2), 1)
	})
	if err != nil {
		return err
	}
	out, err := exec.Call([]float32{1, 2, 3})
	if err != nil {
		return err
	}
	got := out[0].Value().([]float32)
	if len(got) != 3 || got[0] != 3 || got[2] != 7 {
		return fmt.Errorf("2*[1 2 3]+1 gave %v", got)
	}
	return nil
}
