package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
)

func init() {
	register("study", "check or repair a study journal: hw1 study check|repair PATH", runStudyCommand)
	// Errors about a damaged journal, from any command, name the commands below.
	journal.RecoveryHint = func(path string) string {
		return fmt.Sprintf("run `hw1 study check %s` to list the damage, then `hw1 study repair %s` to rewrite the journal without it (it keeps a backup)", path, path)
	}
}

func runStudyCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hw1 study", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: hw1 study check|repair PATH\n\n"+
			"PATH is a study journal, or a results folder holding %s.\n"+
			"  check   list every damaged line of the journal, the trials it concerns and what a\n"+
			"          repair would do; exit 1 if the journal is damaged, 0 if not (it changes nothing)\n"+
			"  repair  copy the journal to PATH.bak-<time>, then rewrite it without its damaged lines,\n"+
			"          keeping every intact trial; refused while a live worker uses the journal\n",
			homework.FileJournal)
	}
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "check" && fs.Arg(0) != "repair") {
		fs.Usage()
		return 2
	}
	path := fs.Arg(1)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, homework.FileJournal)
	}
	if fs.Arg(0) == "check" {
		rep, err := journal.Check(path)
		if err != nil {
			fmt.Fprintf(stderr, "hw1 study check: %v\n", err)
			return 2
		}
		rep.WriteText(stdout)
		if rep.Damaged() {
			fmt.Fprintf(stdout, "the journal is damaged: run `hw1 study repair %s` to rewrite it without the damaged lines (it keeps a backup)\n", path)
			return 1
		}
		fmt.Fprintln(stdout, "no damage")
		return 0
	}
	rep, err := journal.Repair(path)
	if rep != nil {
		rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "hw1 study repair: %v\n", err)
		return 1
	}
	switch {
	case rep.Backup != "":
		fmt.Fprintf(stdout, "repaired %s\n", path)
	case rep.TornBytes > 0:
		fmt.Fprintf(stdout, "no damage; the torn last line was cut off\n")
	default:
		fmt.Fprintf(stdout, "no damage: nothing to repair\n")
	}
	return 0
}
