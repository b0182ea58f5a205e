package hpo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cleanJournal runs a seeded study of n trials into a fresh journal and returns its path, its
// bytes and its trials.
func cleanJournal(t *testing.T, n int) (string, []byte, []FrozenTrial) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.journal")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStudy(WithStorage(j), WithSeed(21))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(mixedObjective, n, 0); err != nil {
		t.Fatal(err)
	}
	trials, err := s.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data, trials
}

// journalLines splits a journal into its lines (without newlines) and their byte offsets.
func journalLines(data []byte) (lines [][]byte, offsets []int64) {
	off := int64(0)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data) - 1
		}
		lines = append(lines, data[:i])
		offsets = append(offsets, off)
		off += int64(i + 1)
		data = data[i+1:]
	}
	return lines, offsets
}

// findLine returns the index of the first line whose record satisfies pred.
func findLine(t *testing.T, lines [][]byte, pred func(r journalRecord) bool) int {
	t.Helper()
	for i, l := range lines {
		var r journalRecord
		if json.Unmarshal(l, &r) == nil && pred(r) {
			return i
		}
	}
	t.Fatal("no such line in the journal")
	return -1
}

func sameTrialRecord(a, b FrozenTrial) bool {
	return a.Number == b.Number && a.State == b.State &&
		(a.Value == b.Value || math.IsNaN(a.Value) && math.IsNaN(b.Value)) &&
		fmt.Sprint(a.ExternalParams()) == fmt.Sprint(b.ExternalParams()) &&
		fmt.Sprint(a.Intermediate) == fmt.Sprint(b.Intermediate)
}

func quietJournalWarnings(t *testing.T) *bytes.Buffer {
	var warn bytes.Buffer
	saved := defaultLog
	defaultLog = &warn
	t.Cleanup(func() { defaultLog = saved })
	return &warn
}

// TestDamagedJournalStopsOpening damages one line at the start, in the middle and at the end
// of a journal and checks the whole path: opening fails with one error that names the file,
// the line, its byte offset, the trial and the way out, and writes nothing; CheckJournal
// lists the line; RepairJournal keeps a backup of the original and rewrites a journal that
// opens, with every intact trial as it was and the damaged trial as its policy says.
func TestDamagedJournalStopsOpening(t *testing.T) {
	quietJournalWarnings(t)
	_, clean, before := cleanJournal(t, 6)
	lines, offsets := journalLines(clean)
	isOp := func(op string, n int) func(r journalRecord) bool {
		return func(r journalRecord) bool { return r.Op == op && r.Number != nil && *r.Number == n }
	}
	cases := []struct {
		name string
		at   int    // index of the line replaced, or before which text is inserted
		text string // the damaged line
		// insert keeps the line at index at (after the damaged one)
		insert bool
		// trial the error must name, and the trial a repair changes to FAIL (-1: none;
		// every other trial must come back as it was)
		trial, failed int
	}{
		{name: "start: study line", at: 0, text: `{"op":"stu#`, trial: 0, failed: -1},
		{name: "middle: create line", at: findLine(t, lines, isOp("create", 2)), text: `{"op":"create","wor#X`, trial: 2, failed: -1},
		{name: "middle: param line", at: findLine(t, lines, isOp("param", 3)), text: `{"op":"param","n":3,"name":"x`, trial: 3, failed: 3},
		{name: "middle: finish line", at: findLine(t, lines, isOp("finish", 3)), text: `{"op":"finish","n":3,"v":0.4#`, trial: 3, failed: 3},
		{name: "middle: report line", at: findLine(t, lines, isOp("report", 4)), text: `{"op":"report","n":4,"v":`, trial: 4, failed: -1},
		{name: "middle: param of a trial never created", at: findLine(t, lines, isOp("report", 1)), insert: true,
			text: `{"op":"param","n":99,"name":"x","dist":{"kind":"float","low":-3,"high":3},"v":1}`, trial: 99, failed: -1},
		{name: "middle: second finish", at: findLine(t, lines, isOp("create", 2)), insert: true,
			text: string(lines[findLine(t, lines, isOp("finish", 1))]), trial: 1, failed: -1},
		{name: "middle: unknown op", at: findLine(t, lines, isOp("report", 2)), insert: true, text: `{"op":"frobnicate","n":2}`, trial: 2, failed: -1},
		{name: "end: last complete line", at: len(lines) - 1, text: `{"op":"finish","n":5,"sta`, trial: 5, failed: 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "study.journal")
			rest := lines[c.at+1:]
			if c.insert {
				rest = lines[c.at:]
			}
			var damaged []byte
			for _, l := range append(append(append([][]byte{}, lines[:c.at]...), []byte(c.text)), rest...) {
				damaged = append(append(damaged, l...), '\n')
			}
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := OpenJournal(path)
			var je *JournalError
			if !errors.As(err, &je) || !errors.Is(err, ErrJournalDamaged) {
				t.Fatalf("opening a journal with a damaged line gave %v, want a *JournalError", err)
			}
			msg := err.Error()
			dl, doff := c.at+1, offsets[c.at]
			for _, want := range []string{path, fmt.Sprintf("line %d ", dl), fmt.Sprintf("byte %d)", doff), fmt.Sprintf("trial %d", c.trial), "RepairJournal"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not say %q:\n%s", want, msg)
				}
			}
			if je.Line != dl || je.Offset != doff {
				t.Errorf("error at line %d byte %d, want line %d byte %d", je.Line, je.Offset, dl, doff)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
				t.Fatal("a failed open changed the damaged journal")
			}

			rep, err := CheckJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Damaged() || rep.Damage[0].Line != dl {
				t.Fatalf("CheckJournal: damaged %v, lines %+v; want line %d", rep.Damaged(), rep.Damage, dl)
			}

			rep, err = RepairJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if saved, err := os.ReadFile(rep.Backup); err != nil || !bytes.Equal(saved, damaged) {
				t.Fatalf("backup %q does not hold the original journal (%v)", rep.Backup, err)
			}
			j, err := OpenJournal(path)
			if err != nil {
				t.Fatalf("the repaired journal does not open: %v", err)
			}
			defer j.Close()
			after, _ := j.Trials()
			if len(after) != len(before) {
				t.Fatalf("repaired journal has %d trials, the original %d", len(after), len(before))
			}
			for i := range before {
				if i == c.failed {
					if after[i].State != Failed || !strings.Contains(after[i].FailReason, "journal repair") {
						t.Errorf("trial %d after repair: %s %q, want FAIL by the repair", i, after[i].State, after[i].FailReason)
					}
					continue
				}
				b := before[i].clone()
				if c.name == "middle: report line" && i == 4 {
					// The lost intermediate value (step 0, its first) is dropped; the rest of
					// the trial stays.
					delete(b.Intermediate, 0)
				}
				if !sameTrialRecord(after[i], b) {
					t.Errorf("trial %d changed by the repair:\nbefore %s %v %v\nafter  %s %v %v", i,
						b.State, b.Value, b.ExternalParams(), after[i].State, after[i].Value, after[i].ExternalParams())
				}
			}
			if rep2, _ := CheckJournal(path); rep2.Damaged() {
				t.Fatalf("the repaired journal is still damaged: %+v", rep2.Damage)
			}
		})
	}
}

// TestDamageWhileOpenWritesNothing: a journal damaged by someone else while a study runs on it
// makes the study's next call fail, and nothing is appended after the damage.
func TestDamageWhileOpenWritesNothing(t *testing.T) {
	quietJournalWarnings(t)
	path := filepath.Join(t.TempDir(), "study.journal")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := NewStudy(WithStorage(j), WithSeed(4))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(mixedObjective, 3, 0); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"op\":\"finish\",\"n\":1,#\n")
	f.Close()
	damaged, _ := os.ReadFile(path)
	err = s.Optimize(mixedObjective, 3, 0)
	if !errors.Is(err, ErrJournalDamaged) {
		t.Fatalf("Optimize on a journal damaged under it: %v, want ErrJournalDamaged", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
		t.Fatalf("the study appended to a damaged journal:\n%s", now[len(damaged):])
	}
}

// TestTornLastLineIsCutBeforeTheNextAppend: a write cut short leaves a line without its
// newline; it is skipped, is not damage, and is cut off before the next line is written, so
// every line of the journal parses afterwards.
func TestTornLastLineIsCutBeforeTheNextAppend(t *testing.T) {
	warn := quietJournalWarnings(t)
	path, clean, before := cleanJournal(t, 3)
	torn := append(append([]byte{}, clean...), `{"op":"finish","n":2,"sta`...)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := CheckJournal(path)
	if err != nil || rep.Damaged() || rep.TornBytes != 25 || rep.TornOffset != int64(len(clean)) {
		t.Fatalf("CheckJournal of a torn last line: %v %+v", err, rep)
	}
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatalf("a torn last line must not stop opening: %v", err)
	}
	defer j.Close()
	if !strings.Contains(warn.String(), "torn last line") {
		t.Errorf("no warning about the torn line: %q", warn.String())
	}
	s, err := NewStudy(WithStorage(j), WithSeed(21))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(mixedObjective, 2, 0); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, clean) {
		t.Fatal("the journal's earlier lines changed")
	}
	lines, _ := journalLines(data)
	for i, l := range lines {
		var r journalRecord
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("line %d does not parse (the torn line was left in the file): %s", i+1, l)
		}
	}
	if bytes.Contains(data, []byte(`"sta{`)) || bytes.Contains(data, []byte(`"sta`+"\n")) {
		t.Fatal("the torn bytes are still in the journal")
	}
	again, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	trials, _ := again.Trials()
	if len(trials) != 5 || !sameTrialRecord(trials[2], before[2]) {
		t.Fatalf("%d trials after the torn line, trial 2 %s; want 5 and trial 2 unchanged", len(trials), trials[2].State)
	}
}

// TestRepairReplacesAtomicallyAndKeepsEveryBackup: storages still open on the journal fail
// instead of writing to the replaced file; a second repair does not overwrite the first
// backup, even within the same second.
func TestRepairReplacesAtomicallyAndKeepsEveryBackup(t *testing.T) {
	quietJournalWarnings(t)
	path, clean, _ := cleanJournal(t, 3)
	open, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	damage := func() []byte {
		data, _ := os.ReadFile(path)
		data = append(data, "garbage\n"...)
		os.WriteFile(path, data, 0o644)
		return data
	}
	first := damage()
	rep1, err := RepairJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Trials(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("a storage open on the replaced journal: %v, want an error saying it was replaced", err)
	}
	second := damage()
	rep2, err := RepairJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if rep1.Backup == rep2.Backup {
		t.Fatalf("both repairs wrote the backup %s", rep1.Backup)
	}
	b1, _ := os.ReadFile(rep1.Backup)
	b2, _ := os.ReadFile(rep2.Backup)
	if !bytes.Equal(b1, first) || !bytes.Equal(b2, second) {
		t.Fatal("a backup does not hold the journal as it was before its repair")
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, clean) {
		t.Fatalf("the repaired journal differs from the journal before the garbage line:\n%s", now)
	}
	// A name that exists is never reused.
	name, err := writeBackup(path, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	name2, err := writeBackup(path, []byte("y"))
	if err != nil || name2 == name {
		t.Fatalf("backup names %q then %q (%v)", name, name2, err)
	}
	if b, _ := os.ReadFile(name); string(b) != "x" {
		t.Fatal("a backup was overwritten")
	}
}

// TestRepairRefusesWhileAWorkerRuns: a journal with a trial running in a live storage is not
// replaced.
func TestRepairRefusesWhileAWorkerRuns(t *testing.T) {
	quietJournalWarnings(t)
	path, _, _ := cleanJournal(t, 2)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := j.CreateTrial(0); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("garbage\n")
	f.Close()
	before, _ := os.ReadFile(path)
	if _, err := RepairJournal(path); err == nil || !strings.Contains(err.Error(), "live workers") {
		t.Fatalf("repair while a trial runs: %v, want a refusal", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("a refused repair changed the journal")
	}
}
