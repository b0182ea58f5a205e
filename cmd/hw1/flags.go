package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/dlworkbench/hw1/lib/homework"
)

// finiteFloat is a float64 flag that refuses NaN and infinities as it is
// parsed, so the error names the flag (strconv accepts "NaN" and "Inf").
type finiteFloat float64

func (f *finiteFloat) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }

func (f *finiteFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("not a finite number")
	}
	*f = finiteFloat(v)
	return nil
}

// configFlags maps the configuration fields that a flag of the task commands
// sets to the flag.
var configFlags = map[string]string{
	"out": "out", "study": "study", "storage": "storage", "trials": "trials", "seed": "seed", "folds": "folds",
	"timeout_seconds": "timeout", "backend": "backend", "data_dir": "data-dir",
}

// configSource says where the value of an invalid field came from: the flag
// when one set it, else the config file when it holds the field, else the
// preset.
type configSource struct {
	flags      map[string]bool // flags given on the command line
	file       string
	fileFields map[string]bool // dotted fields present in the file
}

// explain rewrites a configuration error to name the flag or the file the
// bad value came from.
func (c configSource) explain(err error) string {
	var fe *homework.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	if f, ok := configFlags[fe.Field]; ok && c.flags[f] {
		return fmt.Sprintf("--%s: %s", f, fe.Msg)
	}
	field := fe.Field
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	if c.fileFields[field] {
		return fmt.Sprintf("config file %s: %s", c.file, fe)
	}
	return fe.Error()
}

// jsonFields lists the fields of a JSON object, nested ones dotted
// ("space.epochs"). A file that is not an object gives none: LoadOverrides
// reports it.
func jsonFields(path string) map[string]bool {
	out := map[string]bool{}
	raw, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var walk func(prefix string, raw json.RawMessage)
	walk = func(prefix string, raw json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return
		}
		for k, v := range obj {
			out[prefix+k] = true
			walk(prefix+k+".", v)
		}
	}
	walk("", raw)
	return out
}

// interrupt turns the first SIGINT or SIGTERM into the cancellation of a
// context, so that the run records its running trial and stops cleanly; a
// second one exits at once.
type interrupt struct {
	ctx  context.Context
	ch   chan os.Signal
	done chan struct{}
	mu   sync.Mutex
	got  os.Signal
	// last runs before a second signal exits.
	last func()
}

// beforeExit sets what a second signal does before exiting (record the
// running trial).
func (in *interrupt) beforeExit(f func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.last = f
}

// catchSignals starts listening; call stop when the run is over.
func catchSignals(name string, stderr io.Writer) *interrupt {
	ctx, cancel := context.WithCancel(context.Background())
	in := &interrupt{ctx: ctx, ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer cancel()
		select {
		case s := <-in.ch:
			in.mu.Lock()
			in.got = s
			in.mu.Unlock()
			fmt.Fprintf(stderr, "%s: %s: stopping at the next batch, the running trial is recorded as interrupted (%s again quits at once)\n",
				name, signalName(s), signalName(s))
			cancel()
		case <-in.done:
			return
		}
		select {
		case s := <-in.ch:
			fmt.Fprintf(stderr, "%s: %s again: quitting at once\n", name, signalName(s))
			in.mu.Lock()
			last := in.last
			in.mu.Unlock()
			if last != nil {
				last()
			}
			os.Exit(signalExit(s))
		case <-in.done:
		}
	}()
	return in
}

func (in *interrupt) stop() {
	signal.Stop(in.ch)
	close(in.done)
}

// signal is the signal that interrupted the run, nil when none did.
func (in *interrupt) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.got
}

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// signalExit is the shell's exit status of a process ended by s: 128 + its
// number (130 for SIGINT, 143 for SIGTERM).
func signalExit(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// commandLine is the command that ran, quoted for a POSIX shell: the line
// that resumes an interrupted study.
func commandLine(args []string) string {
	prog := "hw1"
	// As it was invoked (bin/hw1), unless go run built it in a temporary
	// folder that is gone once it exits.
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == "hw1" && !strings.Contains(os.Args[0], string(filepath.Separator)+"go-build") {
		prog = os.Args[0]
	}
	parts := []string{shellQuote(prog)}
	for i, a := range args {
		// A database password never reaches the terminal or a log: the resume reads it
		// from $PGPASSWORD or ~/.pgpass.
		if name, value, ok := strings.Cut(a, "="); ok && (name == "--storage" || name == "-storage") {
			a = name + "=" + homework.RedactStorage(value)
		} else if i > 0 && (args[i-1] == "--storage" || args[i-1] == "-storage") {
			a = homework.RedactStorage(a)
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
