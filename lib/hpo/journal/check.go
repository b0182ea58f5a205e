package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dlworkbench/hw1/internal/atomicfile"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// RecoveryHint says, in an error about a damaged journal, how to recover. Commands set it
// to their own words (cmd/hw1 names `hw1 study check` and `hw1 study repair`).
var RecoveryHint = func(path string) string {
	return fmt.Sprintf("journal.Check(%q) lists the damage and journal.Repair rewrites the journal without it, keeping a backup", path)
}

// ErrDamaged is matched (errors.Is) by every *Error.
var ErrDamaged = errors.New("journal damaged")

// Error is a damaged line met while replaying a journal: the first one, since the
// replay stops there.
type Error struct {
	Path string
	Damage
}

// Damage is one damaged line: where it is, what is wrong with it, and which trials it
// concerns as far as the line and the lines before it tell.
type Damage struct {
	Line    int   // 1-based
	Offset  int64 // byte offset of the line's start
	Text    string
	Problem string
	// Trials are the trials the line concerns; Concerns says the same in words, with how
	// sure it is (a line that is not JSON is guessed from what is left of it).
	Trials   []int
	Concerns string
}

// Error implements error: the damaged line, what is wrong with it, the trials it concerns and
// how to recover (RecoveryHint).
func (e *Error) Error() string {
	return fmt.Sprintf("journal %s line %d (byte %d) is damaged: %s: %s; it concerns %s. Nothing was written to the journal; %s",
		e.Path, e.Line, e.Offset, e.Problem, e.Text, e.Concerns, RecoveryHint(e.Path))
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *Error) Is(target error) bool { return target == ErrDamaged }

func newJournalError(path string, line int, offset int64, text []byte, problem error, st *journalState, format journalFormat) *Error {
	return &Error{Path: path, Damage: describeDamage(line, offset, text, problem.Error(), st, format)}
}

var (
	reOp  = regexp.MustCompile(`"op"\s*:\s*"([a-z]+)"`)
	reNum = regexp.MustCompile(`"n"\s*:\s*(\d+)`)
	reDir = regexp.MustCompile(`"dir"\s*:\s*"(MINIMIZE|MAXIMIZE)"`)
)

// lineGuess is what can be read of a line: its operation (an ev* op, "" when unreadable), its
// name in the file, its study and trial (-1 when the line does not say), whether it decoded.
type lineGuess struct {
	op, what  string
	study, n  int
	decoded   bool
	knownName bool // the operation is one the format has
}

// guessLine reads a line's operation and trial, decoded if it decodes, else from what is left
// of its text.
func guessLine(text []byte, st *journalState, format journalFormat) lineGuess {
	if format == formatLegacy {
		return guessLegacyLine(text)
	}
	g := lineGuess{study: -1, n: -1}
	if ev, err := st.decodeOptuna(text); err == nil {
		g.op, g.what, g.study, g.decoded, g.knownName = ev.op, ev.what, ev.study, true, true
		switch {
		case ev.number != nil:
			g.n = *ev.number
		case ev.op == evCreate:
			g.n = nextOf(st, ev.study)
		case (ev.op == evEnqueue || ev.op == evAdd) && ev.study >= 0 && ev.study < len(st.studies):
			g.n = len(st.studies[ev.study].b.Trials)
		}
		return g
	}
	code := -1
	if m, err := decodeOptunaFields(text); err == nil {
		g.decoded = true
		if c, err := m.int("op_code"); err == nil {
			code = c
		}
	} else {
		code = submatchInt(reOptunaOp, text)
	}
	if code < 0 {
		return g
	}
	g.what = optunaOpName(code)
	if id := submatchInt(reOptunaTrial, text); id >= 0 {
		g.study, g.n, _ = st.resolve(id)
	} else if n := submatchInt(reHW1Number, text); n >= 0 {
		g.n = n
	}
	if s := submatchInt(reOptunaStudy, text); s >= 0 {
		g.study = s
	}
	state := submatchInt(reOptunaState, text)
	switch code {
	case opCreateStudy:
		g.op = evStudy
	case opDeleteStudy, opSetStudyUserAttr:
		g.op = evStudyAttr
	case opSetStudySystemAttr:
		g.op = evStudyAttr
		if bytes.Contains(text, []byte(attrHW1Worker)) {
			g.op = evWorker
		}
	case opCreateTrial:
		g.op = evCreate
		if state == optunaStateWaiting {
			g.op = evEnqueue
		} else if state > 0 {
			g.op = evAdd
		}
	case opSetTrialParam:
		g.op = evParam
	case opSetTrialStateValues:
		g.op = evFinish
		if state == optunaStateRunning {
			g.op = evCreate
		}
	case opSetTrialIntermediate:
		g.op = evReport
	case opSetTrialUserAttr:
		g.op = evTrialAttr
	case opSetTrialSystemAttr:
		g.op = evAttr
		if bytes.Contains(text, []byte(`"`+attrFailReason+`"`)) {
			g.op = evReason
		}
	case opDiscardTrials:
		g.op = evSkip
	default:
		return g
	}
	g.knownName = true
	return g
}

func guessLegacyLine(text []byte) lineGuess {
	g := lineGuess{study: 0, n: -1}
	var r legacyRecord
	if json.Unmarshal(text, &r) == nil {
		g.decoded, g.what = true, r.Op
		if r.Number != nil {
			g.n = *r.Number
		} else if legacyTrialOp(r.Op) {
			g.n = 0 // older lines leave out "n" for trial 0
		}
	} else {
		if m := reOp.FindSubmatch(text); m != nil {
			g.what = string(m[1])
		}
		g.n = submatchInt(reNum, text)
	}
	g.op, g.knownName = legacyOps[g.what]
	return g
}

var legacyOps = map[string]string{"study": evDirection, "worker": evWorker, "enqueue": evEnqueue, "create": evCreate,
	"param": evParam, "report": evReport, "attr": evAttr, "finish": evFinish}

func legacyTrialOp(op string) bool {
	return op == "param" || op == "report" || op == "attr" || op == "finish"
}

// nextOf is the number the next trial of a study gets.
func nextOf(st *journalState, study int) int {
	if study < 0 || study >= len(st.studies) {
		return 0
	}
	return st.studies[study].b.NextNumber()
}

func (s *journalState) runningTrials(study int) []int {
	var out []int
	if study < 0 || study >= len(s.studies) {
		return nil
	}
	for _, t := range s.studies[study].b.Trials {
		if t.State == hpo.Running {
			out = append(out, t.Number)
		}
	}
	return out
}

// describeDamage says which trials a damaged line concerns, from its text and the trials
// before it.
func describeDamage(line int, offset int64, text []byte, problem string, st *journalState, format journalFormat) Damage {
	d := Damage{Line: line, Offset: offset, Text: shorten(text), Problem: problem}
	g := guessLine(text, st, format)
	study := g.study
	if study < 0 {
		study = max(st.last, 0)
	}
	of := ""
	if len(st.studies) > 1 && study < len(st.studies) {
		of = fmt.Sprintf(" of study %q", st.studies[study].name)
	}
	looks := "the line is"
	if !g.decoded {
		looks = "the line looks like"
	}
	running := st.runningTrials(study)
	switch {
	case g.decoded && !g.knownName:
		if g.n >= 0 {
			d.Trials = []int{g.n}
			d.Concerns = fmt.Sprintf("trial %d%s (the line names it)", g.n, of)
		} else {
			d.Concerns = "no trial that the line names"
		}
	case g.op == evStudy || g.op == evDirection:
		d.Concerns = "no trial: it is the study's " + g.what + " line"
	case g.op == evWorker:
		d.Concerns = "no trial: it is a worker's registration"
	case g.op == evStudyAttr || g.op == evDelete:
		d.Concerns = "no trial: it is a line about the study (" + g.what + ")"
	case g.op == evSkip:
		d.Concerns = "no trial that hw1 keeps (" + g.what + ")"
	case g.op == evCreate || g.op == evEnqueue || g.op == evAdd:
		n := g.n
		if n < 0 {
			n = nextOf(st, study)
			if g.op != evCreate && study < len(st.studies) {
				n = len(st.studies[study].b.Trials)
			}
		}
		d.Trials = []int{n}
		d.Concerns = fmt.Sprintf("trial %d%s (%s its %s line; the trials after it are numbered from it)", n, of, looks, g.what)
	case isTrialEvent(g.op) && g.n >= 0:
		d.Trials = []int{g.n}
		d.Concerns = fmt.Sprintf("trial %d%s (%s its %s line)", g.n, of, looks, g.what)
	case isTrialEvent(g.op):
		d.Trials = running
		d.Concerns = fmt.Sprintf("%s%s (running at that point; %s a %s line)", trialList(running), of, looks, g.what)
	default:
		next := nextOf(st, study)
		d.Trials = append(append([]int(nil), running...), next)
		if len(running) > 0 {
			d.Concerns = fmt.Sprintf("%s%s (running at that point) or trial %d (if it was a create line)", trialList(running), of, next)
		} else {
			d.Concerns = fmt.Sprintf("trial %d%s (no trial was running at that point, so it was probably the create line of trial %d, or the study's line)", next, of, next)
		}
	}
	return d
}

func trialList(ns []int) string {
	switch len(ns) {
	case 0:
		return "no trial"
	case 1:
		return fmt.Sprintf("trial %d", ns[0])
	}
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return "trials " + strings.Join(parts, ", ")
}

// shorten gives a line as it is when it is short and printable, quoted when it is not.
func shorten(text []byte) string {
	const max = 160
	s := string(bytes.TrimSpace(text))
	cut := len(s) > max
	if cut {
		s = strings.ToValidUTF8(s[:max], "")
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			s = strconv.QuoteToGraphic(s)
			break
		}
	}
	if cut {
		s += "..."
	}
	return s
}

// Report is what Check found in a journal, or what Repair did to it.
type Report struct {
	Path  string
	Lines int // complete lines
	// FirstFormat is true for a journal of hw1's first format, which Open converts to
	// Optuna's (Repair repairs it in its own format).
	FirstFormat bool
	// Damage lists every damaged line, in file order.
	Damage []Damage
	// TornOffset and TornBytes locate a torn last line (TornBytes 0: none). A torn last line
	// is not damage: replays skip it and the next append cuts it off.
	TornOffset, TornBytes int64
	// Changes says, trial by trial, what a repair keeps, drops or changes.
	Changes []string
	// Counts of the trials as the journal holds them after a repair (for Check: as a
	// repair would leave them), over all its studies.
	Trials, Complete, Pruned, Failed, Running, Waiting int
	// Live lists the trials running in, and the workers registered by, live processes of this
	// host; Repair refuses to replace a journal that a live worker may write to.
	Live []string
	// Backup is where Repair copied the original journal ("" when it wrote nothing).
	Backup string
}

// Damaged reports whether the journal has damaged lines (a torn last line is not damage).
func (r *Report) Damaged() bool { return len(r.Damage) > 0 }

// WriteText describes the report for a person: every damaged line with the trials it concerns,
// then what a repair does (or did) trial by trial.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "journal %s: %d lines\n", r.Path, r.Lines)
	if r.FirstFormat {
		fmt.Fprintf(&b, "it is in hw1's first journal format: opening the study converts it to Optuna's JournalStorage format\n")
	}
	for _, d := range r.Damage {
		fmt.Fprintf(&b, "damaged line %d (byte %d): %s: %s\n  it concerns %s\n", d.Line, d.Offset, d.Problem, d.Text, d.Concerns)
	}
	if r.TornBytes > 0 {
		fmt.Fprintf(&b, "torn last line at byte %d (%d bytes, a write cut short): skipped, and cut off before the next append\n", r.TornOffset, r.TornBytes)
	}
	verb := "a repair keeps"
	if r.Backup != "" {
		verb = "the repaired journal holds"
	}
	if !r.Damaged() {
		verb = "it holds"
	}
	fmt.Fprintf(&b, "%s %d trials: %d complete, %d pruned, %d failed, %d running, %d waiting\n",
		verb, r.Trials, r.Complete, r.Pruned, r.Failed, r.Running, r.Waiting)
	for _, c := range r.Changes {
		fmt.Fprintf(&b, "  - %s\n", c)
	}
	for _, l := range r.Live {
		fmt.Fprintf(&b, "live worker: %s\n", l)
	}
	if r.Backup != "" {
		fmt.Fprintf(&b, "backup of the original: %s\n", r.Backup)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Check reads a journal (under a shared lock, so while hw1 workers write to it) and
// reports every damaged line and what Repair would do about it; it changes nothing. The
// error is for a journal that cannot be read at all.
func Check(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := flock(f, lockShared); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	sc, _, err := scanFile(f, path)
	if err != nil {
		return nil, err
	}
	return sc.rep, nil
}

// Repair rewrites a damaged journal without its damaged lines, and reports what it did.
// Every trial whose lines are intact is kept as it was, finished ones included. A trial whose
// lines are partly damaged keeps what is certain, and Changes says what was dropped:
//   - a damaged create line: the trial is recreated from the lines that follow it;
//   - a damaged CREATE_STUDY line: the study is recreated from hw1's copy of its name and
//     direction (the "hw1:study" attribute), or from what the damaged line still shows;
//   - a lost intermediate value or attribute: dropped, the trial keeps its state;
//   - a lost parameter line (or a line that may have been one): a COMPLETE or PRUNED trial
//     becomes FAIL, with its former state and value in the reason, since its parameters
//     are not all known and a study must not build on them;
//   - a lost finish line: the trial becomes FAIL with the reason saying so.
//
// The original is first copied to PATH.bak-<UTC time> (a new name, never an existing file),
// then the new journal is written to a temporary file, fsynced and renamed over the journal,
// all under the journal's locks (its flock and Optuna's lock); hw1 storages that still have
// the old file open fail their next call instead of writing to it. A journal without damage is
// left alone (a torn last line alone is cut off). Repair refuses while a live process
// of this host works on the study (runs one of its trials, or registered as its worker and has
// not exited); Optuna processes cannot be seen, so stop them before a repair (they would go on
// reading the new file from where the old one ended). A journal of hw1's first format is
// repaired in that format; opening it converts it.
func Repair(path string) (*Report, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	lock, err := newOptunaLock(path, defaultLog)
	if err != nil {
		return nil, err
	}
	release, err := lockJournal(f, path, lockExclusive, lock)
	if err != nil {
		return nil, err
	}
	var replaced *os.File
	defer func() { release(replaced) }()
	sc, data, err := scanFile(f, path)
	if err != nil {
		return nil, err
	}
	rep := sc.rep
	if !rep.Damaged() && rep.TornBytes == 0 {
		return rep, nil
	}
	if len(rep.Live) > 0 {
		return rep, fmt.Errorf("journal %s: not repaired while live workers use it (%s): stop them first", path, strings.Join(rep.Live, "; "))
	}
	if !rep.Damaged() {
		if err := f.Truncate(rep.TornOffset); err != nil {
			return rep, fmt.Errorf("journal %s: cut the torn last line: %w", path, err)
		}
		return rep, f.Sync()
	}
	out, err := sc.encode()
	if err != nil {
		return rep, err
	}
	backup, err := writeBackup(path, data)
	if err != nil {
		return rep, err
	}
	if replaced, err = replaceJournal(path, out); err != nil {
		return rep, fmt.Errorf("journal %s: write the repaired journal (the original is in %s): %w", path, backup, err)
	}
	rep.Backup = backup
	return rep, nil
}

// writeBackup copies data to path.bak-<UTC time>, adding -1, -2, ... rather than overwrite a
// file, and fsyncs it.
func writeBackup(path string, data []byte) (string, error) {
	base := path + ".bak-" + time.Now().UTC().Format("20060102T150405Z")
	for i := 0; i < 1000; i++ {
		name := base
		if i > 0 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, atomicfile.Perm)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("journal %s: backup: %w", path, err)
		}
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("journal %s: backup %s: %w", path, name, err)
		}
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
		return name, nil
	}
	return "", fmt.Errorf("journal %s: backup: no free name after %s", path, base)
}

// journalScan is the lenient replay behind Check and Repair: it applies what it
// can, records each damaged line, and recovers trial numbers from the lines that follow a
// damaged one, so that one lost create line does not shift every later trial.
type journalScan struct {
	format journalFormat
	st     journalState
	out    [][]byte // the repaired journal, line by line
	rep    *Report
	// damagedAt holds, per trial, the damaged line that may have been its create (explained
	// recreation), parameter (suspect) or finish line.
	createLost, paramLost, finishLost map[trialRef]Damage
	recreated                         map[trialRef]bool
	// pendingLost counts the damaged lines that may have been create or enqueue lines and
	// have not yet explained a recreated trial: a line about trial n may recreate the trials
	// missing below n only that many (plus one, for a line that is simply missing), so that a
	// damaged trial number does not invent trials.
	pendingLost int
	// studyLost holds the damaged lines that may have been CREATE_STUDY lines, not yet
	// explained by a recreated study.
	studyLost []Damage
	host      string
}

// scanFile scans the journal open as f, in its format, and returns the
// bytes it read (Repair backs them up).
func scanFile(f *os.File, path string) (*journalScan, []byte, error) {
	format, err := detectFormat(f)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: read: %w", path, err)
	}
	return scanJournal(path, data, format), data, nil
}

func scanJournal(path string, data []byte, format journalFormat) *journalScan {
	host, _ := os.Hostname()
	sc := &journalScan{format: format, st: newJournalState(), rep: &Report{Path: path, FirstFormat: format == formatLegacy}, host: host,
		createLost: map[trialRef]Damage{}, paramLost: map[trialRef]Damage{},
		finishLost: map[trialRef]Damage{}, recreated: map[trialRef]bool{}}
	if format == formatLegacy {
		sc.st = newLegacyState(DefaultJournalStudy)
	}
	offset := int64(0)
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			sc.rep.TornOffset, sc.rep.TornBytes = offset, int64(len(data))
			break
		}
		sc.rep.Lines++
		if text := data[:i]; len(bytes.TrimSpace(text)) > 0 {
			sc.line(line, offset, text)
		}
		offset += int64(i + 1)
		data = data[i+1:]
	}
	sc.finish()
	return sc
}

func (sc *journalScan) change(s string) { sc.rep.Changes = append(sc.rep.Changes, s) }

func (sc *journalScan) decode(text []byte) (journalEvent, error) {
	if sc.format == formatLegacy {
		return decodeLegacy(text)
	}
	return sc.st.decodeOptuna(text)
}

func (sc *journalScan) line(line int, offset int64, text []byte) {
	ev, err := sc.decode(text)
	if err != nil {
		sc.damaged(line, offset, text, err.Error())
		return
	}
	// A line about a study that no line created: its CREATE_STUDY line was lost.
	if ev.study == len(sc.st.studies) && ev.op != evStudy && len(sc.studyLost) > 0 {
		sc.recreateStudy(&ev)
		if ev, err = sc.decode(text); err != nil {
			sc.damaged(line, offset, text, err.Error())
			return
		}
	}
	// A line about a trial that no line created, or created only as WAITING: the create line
	// was lost. The trial's own lines say it existed, so it is recreated.
	if ev.study >= 0 && ev.study < len(sc.st.studies) {
		st := sc.st.studies[ev.study]
		have := len(st.b.Trials)
		again := false
		switch {
		case (ev.op == evCreate || ev.op == evEnqueue || ev.op == evAdd) && ev.number != nil && *ev.number > have:
			if sc.mayRecreate(*ev.number - have) {
				sc.recreateBelow(st, *ev.number, ev.time, line, offset, text)
				again = true
			}
		case isTrialEvent(ev.op) && ev.trial() >= have:
			if n := ev.trial(); sc.mayRecreate(n - have + 1) {
				sc.recreateBelow(st, n, ev.time, line, offset, text)
				sc.recreate(st, n, ev.time, line, offset, text)
				again = true
			}
		case isTrialEvent(ev.op) && ev.trial() >= 0 && st.b.Trials[ev.trial()].State == hpo.Waiting && ev.op != evAttr && ev.op != evReason && ev.op != evTrialAttr:
			if sc.mayRecreate(1) {
				sc.recreate(st, ev.trial(), ev.time, line, offset, text)
				again = true
			}
		}
		if again {
			// What the line means depends on the trials before it: read it again.
			if ev, err = sc.decode(text); err != nil {
				sc.damaged(line, offset, text, err.Error())
				return
			}
		}
	}
	if err := sc.st.check(&ev); err != nil {
		sc.damaged(line, offset, text, err.Error())
		return
	}
	if ev.op == evFinish && (ev.state == hpo.Complete || ev.state == hpo.Pruned) {
		key := trialRef{ev.study, ev.trial()}
		if d, ok := sc.paramLost[key]; ok {
			was := fmt.Sprintf("%s with value %v", ev.state, ev.value)
			reason := fmt.Sprintf("journal repair: was %s, but line %d (byte %d), which may have held one of its parameters, was damaged", was, d.Line, d.Offset)
			sc.change(fmt.Sprintf("trial %d: was %s; now FAIL, since a parameter line may be lost (line %d)", ev.trial(), was, d.Line))
			sc.finishFailed(ev.study, ev.trial(), reason, ev.time)
			return
		}
	}
	if err := sc.emit(&ev); err != nil {
		sc.damaged(line, offset, text, err.Error())
	}
}

// emit applies an event and adds its line to the repaired journal: the line as it was, or,
// for an event of the repair's own, the line that replays to it.
func (sc *journalScan) emit(ev *journalEvent) error {
	var line []byte
	var err error
	switch {
	case sc.format == formatLegacy:
		if ev.number == nil && ev.op == evCreate {
			ev.number = intp(nextOf(&sc.st, ev.study))
		}
		if ev.number == nil && ev.op == evEnqueue {
			ev.number = intp(len(sc.st.studies[ev.study].b.Trials))
		}
		line, err = json.Marshal(legacyRecordOf(ev))
	case ev.raw != nil:
		line = ev.raw
	default:
		if ev.worker == "" {
			ev.worker = "hw1-repair"
		}
		line, err = sc.st.encodeOptuna(ev)
	}
	if err != nil {
		return err
	}
	if err := sc.st.apply(ev); err != nil {
		return err
	}
	sc.out = append(sc.out, line)
	return nil
}

// finishFailed fails a trial in the repaired journal with a reason.
func (sc *journalScan) finishFailed(study, n int, reason string, t time.Time) {
	if t.IsZero() {
		t = time.Now()
	}
	evs := []journalEvent{{op: evFinish, what: "finish", study: study, number: intp(n), state: hpo.Failed, value: math.NaN(), reason: reason, time: t}}
	if sc.format == formatOptuna {
		evs = []journalEvent{
			{op: evReason, what: "reason", study: study, number: intp(n), reason: reason},
			{op: evFinish, what: "finish", study: study, number: intp(n), state: hpo.Failed, value: math.NaN(), time: t},
		}
	}
	for i := range evs {
		sc.emit(&evs[i])
	}
}

// legacyRecordOf is the first-format line of an event.
func legacyRecordOf(ev *journalEvent) legacyRecord {
	r := legacyRecord{Number: ev.number, Worker: ev.worker, ID: ev.id, Time: ev.time}
	switch ev.op {
	case evDirection:
		r.Op, r.Dir, r.Number = "study", ev.dirs[0], nil
	case evWorker:
		r.Op, r.Index, r.Number = "worker", intp(ev.index), nil
	case evEnqueue:
		r.Op, r.Fixed = "enqueue", ev.fixed
	case evCreate:
		r.Op = "create"
	case evParam:
		r.Op, r.Name, r.Dist, r.Value = "param", ev.name, ev.dist, jfloat(ev.value)
	case evReport:
		r.Op, r.Step, r.Value = "report", ev.step, jfloat(ev.value)
	case evAttr:
		r.Op, r.Key, r.Value = "attr", ev.key, jfloat(ev.value)
	case evFinish:
		r.Op, r.State, r.Value, r.Reason = "finish", ev.state, jfloat(ev.value), ev.reason
	}
	return r
}

// mayRecreate says whether n trials whose create lines are missing may be recreated, and
// counts them as explained.
func (sc *journalScan) mayRecreate(n int) bool {
	if n > sc.pendingLost+1 {
		return false
	}
	sc.pendingLost = max(0, sc.pendingLost-n)
	return true
}

// recreateBelow recreates the trials numbered below n that no line created.
func (sc *journalScan) recreateBelow(st *journalStudy, n int, t time.Time, line int, offset int64, text []byte) {
	for len(st.b.Trials) < n {
		sc.recreate(st, len(st.b.Trials), t, line, offset, text)
	}
}

// recreate starts trial n (new, or WAITING) whose create line is missing.
func (sc *journalScan) recreate(st *journalStudy, n int, t time.Time, line int, offset int64, text []byte) {
	ev := journalEvent{op: evCreate, what: "create", study: st.id, number: intp(n), time: t, trialID: -1}
	if err := sc.emit(&ev); err != nil {
		return // not recreatable: the line itself is then reported by check
	}
	key := trialRef{st.id, n}
	sc.recreated[key] = true
	if d, ok := sc.createLost[key]; ok {
		sc.change(fmt.Sprintf("trial %d: its create line (line %d) is damaged; recreated from the lines that follow", n, d.Line))
		return
	}
	d := Damage{Line: line, Offset: offset, Text: shorten(text),
		Problem: fmt.Sprintf("trial %d has no create line before this one (a line is missing)", n), Trials: []int{n},
		Concerns: fmt.Sprintf("trial %d", n)}
	sc.rep.Damage = append(sc.rep.Damage, d)
	sc.change(fmt.Sprintf("trial %d: its create line is missing; recreated from line %d and the lines that follow", n, line))
}

// recreateStudy recreates the study a line names, whose CREATE_STUDY line was damaged: its
// name and direction from hw1's copy of them (the line itself, if it is that copy), else from
// what the damaged line still shows.
func (sc *journalScan) recreateStudy(ev *journalEvent) {
	lost := sc.studyLost[0]
	sc.studyLost = sc.studyLost[1:]
	name, dir := "", hpo.Direction("")
	if ev.op == evStudyAttr && ev.key == attrHW1Study {
		var copyOf struct{ Name, Direction string }
		if json.Unmarshal(ev.attr, &copyOf) == nil {
			name, dir = copyOf.Name, hpo.Direction(copyOf.Direction)
		}
	}
	if m := reStudyName.FindStringSubmatch(lost.Text); name == "" && m != nil {
		if s, err := strconv.Unquote(m[1]); err == nil {
			name = s
		}
	}
	if m := reDirections.FindStringSubmatch(lost.Text); dir == "" && m != nil {
		dir, _ = directionFromOptuna(int(m[1][0] - '0'))
	}
	how := "read back from the damaged line and hw1's copy"
	if name == "" {
		name = fmt.Sprintf("recovered-study-%d", len(sc.st.studies))
		how = "its name is lost: named " + strconv.Quote(name)
	}
	if dir == "" {
		dir = hpo.Minimize
		how += "; its direction is lost: recreated as MINIMIZE (rename and redo if it maximized)"
	}
	evs := studyEvents(name, dir, "hw1-repair", len(sc.st.studies))
	if ev.op == evStudyAttr && ev.key == attrHW1Study {
		evs = evs[:1] // the line itself is the copy, and follows
	}
	for i := range evs {
		if err := sc.emit(&evs[i]); err != nil {
			return
		}
	}
	sc.change(fmt.Sprintf("study %q: its CREATE_STUDY line (line %d) is damaged; recreated (%s)", name, lost.Line, how))
}

// damaged records a line that is dropped, and what its loss may mean for the trials it
// concerns.
func (sc *journalScan) damaged(line int, offset int64, text []byte, problem string) {
	d := describeDamage(line, offset, text, problem, &sc.st, sc.format)
	sc.rep.Damage = append(sc.rep.Damage, d)
	g := guessLine(text, &sc.st, sc.format)
	if g.decoded && !g.knownName {
		// Whole JSON with an op nobody writes: not a lost line of ours, just dropped.
		return
	}
	study := g.study
	if study < 0 {
		study = max(sc.st.last, 0)
	}
	if !g.decoded && (g.op == "" || g.op == evCreate || g.op == evEnqueue || g.op == evAdd) {
		sc.pendingLost++
	}
	if ((g.op == "" && !g.decoded) || g.op == evStudy) && sc.format == formatOptuna {
		sc.studyLost = append(sc.studyLost, d)
	}
	running := map[int]bool{}
	for _, r := range sc.st.runningTrials(study) {
		running[r] = true
	}
	switch {
	case g.op == evDirection:
		if m := reDir.FindSubmatch(text); m != nil && sc.st.studies[0].b.Direction == "" {
			ev := journalEvent{op: evDirection, what: "study", dirs: []hpo.Direction{hpo.Direction(m[1])}}
			if sc.emit(&ev) == nil {
				sc.change(fmt.Sprintf("the study's direction %s is read back from the damaged line %d", m[1], line))
				return
			}
		}
		sc.change(fmt.Sprintf("the study's direction (line %d) is lost: the next study opened on the journal sets it, so open it with the direction it had", line))
	case g.op == evStudy:
		if g.decoded {
			sc.change(fmt.Sprintf("line %d (%s) is dropped", line, g.what))
		}
	case g.op == evWorker:
		sc.change(fmt.Sprintf("a worker registration (line %d) is dropped: harmless", line))
	case g.op == evStudyAttr || g.op == evDelete || g.op == evSkip:
		sc.change(fmt.Sprintf("line %d (%s) is dropped", line, g.what))
	case g.op == evReport || g.op == evAttr || g.op == evReason || g.op == evTrialAttr:
		what := map[string]string{evReport: "an intermediate value", evAttr: "a system attribute", evReason: "its failure's reason",
			evTrialAttr: "an attribute"}[g.op]
		for _, t := range d.Trials {
			sc.change(fmt.Sprintf("trial %d: %s (line %d) is dropped; the trial keeps its state", t, what, line))
		}
	case g.op == evCreate || g.op == evEnqueue || g.op == evAdd:
		for _, t := range d.Trials {
			sc.createLost[trialRef{study, t}] = d
		}
		if g.decoded {
			sc.change(fmt.Sprintf("line %d (%s) is dropped", line, g.what))
		}
	default: // param, finish, or a line nothing can be read from
		if g.op == "" && sc.format == formatLegacy && sc.st.studies[0].b.Direction == "" {
			sc.change(fmt.Sprintf("if line %d was the study's line, its direction is lost: the next study opened on the journal sets it, so open it with the direction it had", line))
		}
		for _, t := range d.Trials {
			key := trialRef{study, t}
			if !running[t] {
				if !isTrialEvent(g.op) {
					sc.createLost[key] = d
				}
				continue
			}
			if g.op == "" || g.op == evParam {
				sc.paramLost[key] = d
			}
			if g.op == "" || g.op == evFinish {
				sc.finishLost[key] = d
			}
		}
	}
}

// finish settles the trials left RUNNING: those whose finish line may be the damaged one, or
// that were recreated and never finished, become FAIL; the others stay RUNNING (the next open
// fails them if their worker is dead).
func (sc *journalScan) finish() {
	for _, st := range sc.st.studies {
		for _, t := range st.b.Trials {
			if t.State != hpo.Running {
				continue
			}
			key := trialRef{st.id, t.Number}
			if w := st.creator[t.Number]; w.pid > 0 && w.host == sc.host && workerAlive(w, sc.host) {
				sc.rep.Live = append(sc.rep.Live, fmt.Sprintf("trial %d runs in process %s", t.Number, w.raw))
				continue
			}
			var reason string
			if d, ok := sc.finishLost[key]; ok {
				reason = fmt.Sprintf("journal repair: its finish line may be the damaged line %d (byte %d); its result is lost", d.Line, d.Offset)
			} else if sc.recreated[key] {
				reason = "journal repair: its create line was lost and no finish line follows; its result is lost"
			} else {
				continue
			}
			sc.finishFailed(st.id, t.Number, reason, time.Now())
			if t.State == hpo.Failed {
				sc.change(fmt.Sprintf("trial %d: was RUNNING; now FAIL (%s)", t.Number, strings.TrimPrefix(reason, "journal repair: ")))
			}
		}
		slots := make([]int, 0, len(st.slots))
		for k := range st.slots {
			slots = append(slots, k)
		}
		sort.Ints(slots)
		for _, k := range slots {
			if w := st.slots[k]; w.pid > 0 && w.host == sc.host && workerAlive(w, sc.host) {
				sc.rep.Live = append(sc.rep.Live, fmt.Sprintf("worker %d is process %s, still running", k, w.raw))
			}
		}
	}
	sort.SliceStable(sc.rep.Damage, func(a, b int) bool { return sc.rep.Damage[a].Offset < sc.rep.Damage[b].Offset })
	for _, st := range sc.st.studies {
		for _, t := range st.b.Trials {
			sc.rep.Trials++
			switch t.State {
			case hpo.Complete:
				sc.rep.Complete++
			case hpo.Pruned:
				sc.rep.Pruned++
			case hpo.Failed:
				sc.rep.Failed++
			case hpo.Running:
				sc.rep.Running++
			case hpo.Waiting:
				sc.rep.Waiting++
			}
		}
	}
}

// encode returns the repaired journal after checking that it replays without damage, so that
// a repair never writes a journal that does not open.
func (sc *journalScan) encode() ([]byte, error) {
	var buf bytes.Buffer
	check := newJournalState()
	if sc.format == formatLegacy {
		check = newLegacyState(DefaultJournalStudy)
	}
	for i, line := range sc.out {
		var ev journalEvent
		var err error
		if sc.format == formatLegacy {
			ev, err = decodeLegacy(line)
		} else {
			ev, err = check.decodeOptuna(line)
		}
		if err == nil {
			err = check.apply(&ev)
		}
		if err != nil {
			return nil, fmt.Errorf("journal %s: the repaired journal would not replay at its line %d (%v); nothing was changed", sc.rep.Path, i+1, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}
