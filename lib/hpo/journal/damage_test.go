package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// cleanJournal runs a seeded study of n trials into a fresh journal and returns its path, its
// bytes and its trials.
func cleanJournal(t *testing.T, n int) (string, []byte, []hpo.FrozenTrial) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "study.journal")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(n)); err != nil {
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

// replayLines decodes every line of a journal as its replay reads it.
func replayLines(t *testing.T, lines [][]byte, format journalFormat) []journalEvent {
	t.Helper()
	st := newJournalState()
	if format == formatLegacy {
		st = newLegacyState(DefaultJournalStudy)
	}
	var out []journalEvent
	for i, l := range lines {
		var ev journalEvent
		var err error
		if format == formatLegacy {
			ev, err = decodeLegacy(l)
		} else {
			ev, err = st.decodeOptuna(l)
		}
		if err == nil {
			err = st.apply(&ev)
		}
		if err != nil {
			t.Fatalf("line %d of the clean journal: %v", i+1, err)
		}
		if format == formatLegacy && ev.number == nil && (ev.op == evCreate || ev.op == evEnqueue) {
			ev.number = intp(len(st.studies[0].b.Trials) - 1)
		}
		out = append(out, ev)
	}
	return out
}

// findLine returns the index of the first line whose event satisfies pred.
func findLine(t *testing.T, lines [][]byte, format journalFormat, pred func(ev journalEvent) bool) int {
	t.Helper()
	for i, ev := range replayLines(t, lines, format) {
		if pred(ev) {
			return i
		}
	}
	t.Fatal("no such line in the journal")
	return -1
}

// isOp matches the line of an operation on trial n (n < 0: any trial).
func isOp(op string, n int) func(ev journalEvent) bool {
	return func(ev journalEvent) bool {
		return ev.op == op && (n < 0 || ev.number != nil && *ev.number == n)
	}
}

func sameTrialRecord(a, b hpo.FrozenTrial) bool {
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

// damageCase damages one line of a clean journal.
type damageCase struct {
	name string
	at   int    // index of the line replaced, or before which text is inserted
	text string // the damaged line
	// insert keeps the line at index at (after the damaged one)
	insert bool
	// trial the error must name (-1: none), or concerns, a phrase it must hold; failed is the
	// trial a repair changes to FAIL (-1: none; every other trial must come back as it was)
	trial, failed int
	concerns      string
}

// TestDamagedJournalStopsOpening damages one line at the start, in the middle and at the end
// of a journal and checks the whole path: opening fails with one error that names the file,
// the line, its byte offset, the trial and the way out, and writes nothing; Check
// lists the line; Repair keeps a backup of the original and rewrites a journal that
// opens, with every intact trial as it was and the damaged trial as its policy says.
func TestDamagedJournalStopsOpening(t *testing.T) {
	quietJournalWarnings(t)
	_, clean, before := cleanJournal(t, 6)
	lines, offsets := journalLines(clean)
	at := func(op string, n int) int { return findLine(t, lines, formatOptuna, isOp(op, n)) }
	finish1 := at(evFinish, 1)
	const w = `"worker_id":"vm:1:hw1-x"`
	cases := []damageCase{
		{name: "start: CREATE_STUDY line", at: 0, text: `{"op_code":0,` + w + `,"study_na#`, trial: -1, failed: -1, concerns: "CREATE_STUDY"},
		{name: "middle: create line", at: at(evCreate, 2), text: `{"op_code":4,` + w + `,"study_id":0,"datetime_st#X`, trial: 2, failed: -1},
		{name: "middle: param line", at: at(evParam, 3), text: `{"op_code":5,` + w + `,"trial_id":3,"param_name":"x`, trial: 3, failed: 3},
		{name: "middle: finish line", at: at(evFinish, 3), text: `{"op_code":6,` + w + `,"trial_id":3,"state":1,"values":[0.4#`, trial: 3, failed: 3},
		{name: "middle: report line", at: at(evReport, 4), text: `{"op_code":7,` + w + `,"trial_id":4,"step":0,"interm`, trial: 4, failed: -1},
		{name: "middle: param of a trial never created", at: at(evReport, 1), insert: true,
			text:  `{"op_code":5,` + w + `,"trial_id":99,"param_name":"x","param_value_internal":1.0,"distribution":"{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": -3.0, \"high\": 3.0, \"log\": false}}"}`,
			trial: 99, failed: -1},
		{name: "middle: second finish", at: at(evCreate, 2), insert: true, text: string(lines[finish1]), trial: 1, failed: -1},
		{name: "middle: start of a trial never created", at: at(evReport, 1), insert: true,
			text: `{"op_code":6,` + w + `,"trial_id":2,"state":0,"values":null,"datetime_start":"2026-01-02T03:04:05.000000+00:00"}`, trial: 2, failed: -1},
		{name: "middle: unknown op", at: at(evReport, 2), insert: true, text: `{"op_code":42,` + w + `,"trial_id":2}`, trial: 2, failed: -1},
		{name: "middle: line of the first format", at: at(evReport, 2), insert: true, text: `{"op":"report","n":2,"v":1}`, trial: -1, failed: -1, concerns: "no trial"},
		{name: "end: last complete line", at: len(lines) - 1, text: `{"op_code":6,` + w + `,"trial_id":5,"sta`, trial: 5, failed: 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			damaged, dl, doff := damageJournal(lines, offsets, c)
			path := filepath.Join(t.TempDir(), "study.journal")
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			checkDamageFound(t, path, damaged, c, dl, doff)
			backup := repairDamage(t, path, damaged)
			j, err := Open(path)
			if err != nil {
				t.Fatalf("the repaired journal does not open: %v", err)
			}
			defer j.Close()
			if j.StudyName() != DefaultJournalStudy {
				t.Errorf("the repaired journal's study is %q, want %q", j.StudyName(), DefaultJournalStudy)
			}
			after, _ := j.Trials()
			compareRepaired(t, c, before, after)
			_ = backup
		})
	}
}

// damageJournal returns the journal with the case's damage, and the damaged line's number and
// offset.
func damageJournal(lines [][]byte, offsets []int64, c damageCase) ([]byte, int, int64) {
	rest := lines[c.at+1:]
	if c.insert {
		rest = lines[c.at:]
	}
	var damaged []byte
	for _, l := range append(append(append([][]byte{}, lines[:c.at]...), []byte(c.text)), rest...) {
		damaged = append(append(damaged, l...), '\n')
	}
	return damaged, c.at + 1, offsets[c.at]
}

// checkDamageFound checks that opening fails with an error naming the damage, writes nothing,
// and that Check lists the line.
func checkDamageFound(t *testing.T, path string, damaged []byte, c damageCase, dl int, doff int64) {
	t.Helper()
	_, err := Open(path)
	var je *Error
	if !errors.As(err, &je) || !errors.Is(err, ErrDamaged) {
		t.Fatalf("opening a journal with a damaged line gave %v, want a *JournalError", err)
	}
	msg := err.Error()
	want := []string{path, fmt.Sprintf("line %d ", dl), fmt.Sprintf("byte %d)", doff), "journal.Repair"}
	if c.trial >= 0 {
		want = append(want, fmt.Sprintf("trial %d", c.trial))
	}
	if c.concerns != "" {
		want = append(want, c.concerns)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not say %q:\n%s", w, msg)
		}
	}
	if je.Line != dl || je.Offset != doff {
		t.Errorf("error at line %d byte %d, want line %d byte %d", je.Line, je.Offset, dl, doff)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
		t.Fatal("a failed open changed the damaged journal")
	}
	rep, err := Check(path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged() || rep.Damage[0].Line != dl {
		t.Fatalf("Check: damaged %v, lines %+v; want line %d", rep.Damaged(), rep.Damage, dl)
	}
}

// repairDamage repairs the journal, checks the backup and that the result is clean, and
// returns the backup's name.
func repairDamage(t *testing.T, path string, damaged []byte) string {
	t.Helper()
	rep, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	if saved, err := os.ReadFile(rep.Backup); err != nil || !bytes.Equal(saved, damaged) {
		t.Fatalf("backup %q does not hold the original journal (%v)", rep.Backup, err)
	}
	if rep2, _ := Check(path); rep2.Damaged() {
		t.Fatalf("the repaired journal is still damaged: %+v", rep2.Damage)
	}
	return rep.Backup
}

// compareRepaired checks the trials after a repair against those before the damage.
func compareRepaired(t *testing.T, c damageCase, before, after []hpo.FrozenTrial) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("repaired journal has %d trials, the original %d", len(after), len(before))
	}
	for i := range before {
		if i == c.failed {
			if after[i].State != hpo.Failed || !strings.Contains(after[i].FailReason, "journal repair") {
				t.Errorf("trial %d after repair: %s %q, want FAIL by the repair", i, after[i].State, after[i].FailReason)
			}
			continue
		}
		b := before[i].Clone()
		if strings.HasSuffix(c.name, "report line") && i == 4 {
			// The lost intermediate value (step 0, its first) is dropped; the rest of
			// the trial stays.
			delete(b.Intermediate, 0)
		}
		if !sameTrialRecord(after[i], b) {
			t.Errorf("trial %d changed by the repair:\nbefore %s %v %v\nafter  %s %v %v", i,
				b.State, b.Value, b.ExternalParams(), after[i].State, after[i].Value, after[i].ExternalParams())
		}
	}
}

// TestDamagedFirstFormatJournal: a damaged journal of hw1's first format is not converted:
// opening it fails with the same *Error as before, naming its line; Repair
// repairs it in its format, and the next open converts it, with the trials as a repair of
// that format leaves them.
func TestDamagedFirstFormatJournal(t *testing.T) {
	quietJournalWarnings(t)
	clean, err := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	if err != nil {
		t.Fatal(err)
	}
	before := convertedFixture(t, clean)
	lines, offsets := journalLines(clean)
	at := func(op string, n int) int { return findLine(t, lines, formatLegacy, isOp(op, n)) }
	cases := []damageCase{
		{name: "start: study line", at: 0, text: `{"op":"stu#`, trial: 0, failed: -1},
		{name: "middle: create line", at: at(evCreate, 2), text: `{"op":"create","wor#X`, trial: 2, failed: -1},
		{name: "middle: param line", at: at(evParam, 4), text: `{"op":"param","n":4,"name":"x`, trial: 4, failed: 4},
		{name: "middle: finish line", at: at(evFinish, 4), text: `{"op":"finish","n":4,"v":0.4#`, trial: 4, failed: 4},
		{name: "middle: param of a trial never created", at: at(evReport, 1), insert: true,
			text: `{"op":"param","n":99,"name":"x","dist":{"kind":"float","low":-3,"high":3},"v":1}`, trial: 99, failed: -1},
		{name: "middle: second finish", at: at(evCreate, 2), insert: true, text: string(lines[at(evFinish, 1)]), trial: 1, failed: -1},
		{name: "middle: unknown op", at: at(evReport, 2), insert: true, text: `{"op":"frobnicate","n":2}`, trial: 2, failed: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			damaged, dl, doff := damageJournal(lines, offsets, c)
			path := filepath.Join(t.TempDir(), "study.journal")
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			checkDamageFound(t, path, damaged, c, dl, doff)
			repairDamage(t, path, damaged)
			if f, _ := os.Open(path); f != nil {
				format, _ := detectFormat(f)
				f.Close()
				if format != formatLegacy {
					t.Fatal("Repair changed the format of a first-format journal")
				}
			}
			j, err := Open(path)
			if err != nil {
				t.Fatalf("the repaired journal does not open: %v", err)
			}
			defer j.Close()
			after, _ := j.Trials()
			compareRepaired(t, c, before, after)
		})
	}
}

// TestDamageWhileOpenWritesNothing: a journal damaged by someone else while a study runs on it
// makes the study's next call fail, and nothing is appended after the damage.
func TestDamageWhileOpenWritesNothing(t *testing.T) {
	quietJournalWarnings(t)
	path := filepath.Join(t.TempDir(), "study.journal")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(4))))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(3)); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{\"op_code\":6,\"worker_id\":\"w\",\"trial_id\":1,#\n")
	f.Close()
	damaged, _ := os.ReadFile(path)
	err = s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(3))
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Optimize on a journal damaged under it: %v, want ErrDamaged", err)
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
	const tornLine = `{"op_code":6,"worker_id":"w","trial_id":2,"sta`
	torn := append(append([]byte{}, clean...), tornLine...)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(path)
	if err != nil || rep.Damaged() || rep.TornBytes != int64(len(tornLine)) || rep.TornOffset != int64(len(clean)) {
		t.Fatalf("Check of a torn last line: %v %+v", err, rep)
	}
	j, err := Open(path)
	if err != nil {
		t.Fatalf("a torn last line must not stop opening: %v", err)
	}
	defer j.Close()
	if !strings.Contains(warn.String(), "torn last line") {
		t.Errorf("no warning about the torn line: %q", warn.String())
	}
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(context.Background(), hpotest.MixedObjective, hpo.NTrials(2)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, clean) {
		t.Fatal("the journal's earlier lines changed")
	}
	lines, _ := journalLines(data)
	for i, l := range lines {
		if _, err := decodeOptunaFields(l); err != nil {
			t.Fatalf("line %d does not parse (the torn line was left in the file): %s", i+1, l)
		}
	}
	if bytes.Contains(data, []byte(`"sta{`)) || bytes.Contains(data, []byte(`"sta`+"\n")) {
		t.Fatal("the torn bytes are still in the journal")
	}
	again, err := Open(path)
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
	open, err := Open(path)
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
	rep1, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open.Trials(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("a storage open on the replaced journal: %v, want an error saying it was replaced", err)
	}
	second := damage()
	rep2, err := Repair(path)
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
	j, err := Open(path)
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
	if _, err := Repair(path); err == nil || !strings.Contains(err.Error(), "live workers") {
		t.Fatalf("repair while a trial runs: %v, want a refusal", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
		t.Fatal("a refused repair changed the journal")
	}
}
