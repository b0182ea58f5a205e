// Command hw1 runs the homework from the terminal: the two tasks, k-fold runs
// with given hyperparameters, the figure gallery, and a doctor that says what is
// missing on this machine.
//
//	hw1 <command> [flags]
//
// Each command lives in a file of its own and registers itself in commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/dlworkbench/hw1/lib/backend"
)

// command is one subcommand of hw1.
type command struct {
	summary string
	// run gets the arguments after the command name and returns the exit code.
	run func(args []string, stdout, stderr io.Writer) int
}

// commands holds every subcommand, registered by init functions of the files
// of this package.
var commands = map[string]command{}

func register(name, summary string, run func(args []string, stdout, stderr io.Writer) int) {
	if _, dup := commands[name]; dup {
		panic("hw1: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// backendUsage documents every command's --backend flag (lib/backend decides).
const backendUsage = "backend: " + backend.Names + " (default: " + backend.DefaultOrder + ")"

// taskBackendUsage documents the --backend flag of the commands that run a
// task (homework.ChooseBackend decides).
const taskBackendUsage = "backend: " + backend.Names + " (default: go for the regression, which runs its small MLPs faster, unless $GOMLX_BACKEND names one; for the classification " + backend.DefaultOrder + ")"

// parseExit is the exit code of a command whose flags did not parse: 0 for
// -h (the usage was asked for), 2 for a bad flag.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hw1 <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `hw1 <command> -h` for the flags of a command.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hw1: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}
