package main

// Fault injection on the real binary: SIGINT in the middle of a trial, kill
// -9 at random moments of a run, a disk that fills up. Each ends with the
// properties a user relies on: no finished trial lost or changed, no trial
// left running, a results folder that describes one run, a rerun that
// completes.
//
// HW1_FAULT_KILLS sets the number of kill points (default 5),
// HW1_FAULT_SEED their random seed (logged, so a failure can be replayed).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
)

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// TestMain removes the binary the fault tests built, and stops the
// PostgreSQL server of the storage tests (storage_test.go) if they started
// one.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// hw1Binary builds this command once, into a temporary folder, as bin/hw1 is
// built.
func hw1Binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "hw1-fault-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "hw1")
		out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// smokeArgs is a smoke regression run with its results under out.
func smokeArgs(out string, extra ...string) []string {
	return append([]string{"regression", "--preset", "smoke", "--backend", "go", "--quiet", "--out", out}, extra...)
}

// syncBuffer is a bytes.Buffer that a test may read while the process
// writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

func start(t *testing.T, bin, data string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "HW1_DATA_DIR="+data)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p
}

// wait waits for the process to end (killing it after a minute) and returns
// its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%v did not end within a minute\n%s", p.cmd.Args, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// trials reads the study's journal. lib/hpo marks a trial that a dead
// process left running as failed ("worker ... died") on opening, so a trial
// left RUNNING shows as such a failure.
func trials(t *testing.T, resultsDir string) []hpo.FrozenTrial {
	t.Helper()
	st, err := journal.Open(filepath.Join(resultsDir, homework.FileJournal))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts, err := st.Trials()
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range ts {
		if tr.Number != i {
			t.Fatalf("journal: trial %d at position %d", tr.Number, i)
		}
	}
	return ts
}

// finishedRecord is what must never change of a finished trial.
type finishedRecord struct {
	State  hpo.TrialState
	Value  string
	Params map[string]float64
	Steps  []int
}

func recordOf(tr hpo.FrozenTrial) finishedRecord {
	return finishedRecord{State: tr.State, Value: strconv.FormatFloat(tr.Value, 'g', -1, 64), Params: tr.Params, Steps: tr.Steps()}
}

// checkKept asserts that every finished trial seen so far is still in the
// journal, unchanged, and adds the newly finished ones to seen.
func checkKept(t *testing.T, when string, seen map[int]finishedRecord, ts []hpo.FrozenTrial) {
	t.Helper()
	for n, want := range seen {
		if n >= len(ts) {
			t.Errorf("%s: finished trial %d lost", when, n)
			continue
		}
		if got := recordOf(ts[n]); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: finished trial %d changed: %+v, was %+v", when, n, got, want)
		}
	}
	for _, tr := range ts {
		if tr.State.Finished() {
			if _, ok := seen[tr.Number]; !ok {
				seen[tr.Number] = recordOf(tr)
			}
		}
	}
}

// checkNoRepeats asserts that no two complete or pruned trials drew the same
// parameters: a resume goes on with the sampler's stream instead of drawing
// its first trials again. A trial cut short by a kill (FAIL) is drawn again
// by design, so FAIL trials are left out.
func checkNoRepeats(t *testing.T, ts []hpo.FrozenTrial) {
	t.Helper()
	first := map[string]int{}
	for _, tr := range ts {
		if tr.State != hpo.Complete && tr.State != hpo.Pruned {
			continue
		}
		key := fmt.Sprint(tr.Params) // fmt prints maps in key order
		if n, ok := first[key]; ok {
			t.Errorf("trials %d and %d drew the same parameters %v", n, tr.Number, tr.Params)
			continue
		}
		first[key] = tr.Number
	}
}

// studyFile tells the files of the study itself (the journal and its
// companions, study.json, study_timings.json), which no run replaces.
func studyFile(name string) bool {
	return strings.HasPrefix(name, homework.FileJournal) || strings.HasPrefix(name, "."+homework.FileJournal) ||
		name == homework.FileStudy || name == homework.FileStudyTimings
}

// checkFolder asserts that a results folder with a summary.json describes
// the run of that summary: every output it lists is there, no other output
// is, report.md and study_stats.json tell the same run, nothing was written
// before notBefore (when not zero); with final set, no hidden leftover
// (stage, commit, temporary file) remains. It returns the summary.
func checkFolder(t *testing.T, when, dir string, final bool, notBefore time.Time) *homework.Summary {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, homework.FileSummary))
	if err != nil {
		if final {
			t.Fatalf("%s: %v", when, err)
		}
		return nil
	}
	var sum homework.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatalf("%s: summary.json: %v", when, err)
	}
	want := map[string]bool{homework.FileConfig: true, homework.FileSummary: true, homework.FileReport: true,
		homework.FileStudyStats: true, homework.FileStudyStatsJSON: true, homework.FileBestParams: true, homework.FileTrialsCSV: true}
	for _, f := range append(slices.Clone(sum.Figures), sum.Checkpoints...) {
		want[f] = true
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		hidden := strings.HasPrefix(d.Name(), ".")
		switch {
		case rel == ".":
			return nil
		case studyFile(rel) || rel == "checkpoints":
			return nil
		case hidden && !final:
			if d.IsDir() {
				return filepath.SkipDir // a stage or commit for the next run to clean up
			}
			return nil
		case hidden:
			t.Errorf("%s: %s left behind", when, rel)
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir():
			t.Errorf("%s: unexpected folder %s", when, rel)
			return filepath.SkipDir
		case !want[rel]:
			t.Errorf("%s: %s is not an output of the run summary.json describes", when, rel)
		}
		delete(want, rel)
		if !notBefore.IsZero() {
			if fi, err := d.Info(); err == nil && fi.ModTime().Before(notBefore) {
				t.Errorf("%s: %s is from an earlier run (%v, the run started %v)", when, rel, fi.ModTime(), notBefore)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range want {
		t.Errorf("%s: summary.json lists %s, the folder lacks it", when, f)
	}
	var stats hpo.Stats
	if raw, err := os.ReadFile(filepath.Join(dir, homework.FileStudyStatsJSON)); err != nil || json.Unmarshal(raw, &stats) != nil {
		t.Errorf("%s: study_stats.json: %v", when, err)
	} else if stats.Finished != sum.StudyStats.Finished {
		t.Errorf("%s: study_stats.json says %d finished trials, summary.json %d", when, stats.Finished, sum.StudyStats.Finished)
	}
	report, _ := os.ReadFile(filepath.Join(dir, homework.FileReport))
	if !strings.Contains(string(report), sum.Finished.Format(time.RFC3339)) {
		t.Errorf("%s: report.md is not the report of summary.json's run (finished %v)", when, sum.Finished)
	}
	return &sum
}

// TestSIGINTRecordsTheTrialAndResumes: Ctrl-C while a trial trains exits
// 130 after recording that trial as interrupted, prints the command that
// resumes, and that command completes the study.
func TestSIGINTRecordsTheTrialAndResumes(t *testing.T) {
	data := regressionDataDir(t)
	bin := hw1Binary(t)
	out := t.TempDir()
	cfg := filepath.Join(out, "long.json")
	// Trials of 2,000 epochs (about a second each): long enough to be
	// interrupted in the middle.
	if err := os.WriteFile(cfg, []byte(`{"space": {"epochs": {"low": 2000, "high": 2000}}, "cv_epochs": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := smokeArgs(out, "--config", cfg, "--trials", "3")
	dir := filepath.Join(out, "regression_smoke_results")
	p := start(t, bin, data, args...)
	deadline := time.Now().Add(40 * time.Second)
	for {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the run ended (or took 40 s) before a trial trained\n%s", p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
		if _, err := os.Stat(filepath.Join(dir, homework.FileJournal)); err != nil {
			continue
		}
		ts := trials(t, dir)
		if n := len(ts); n > 0 && ts[n-1].State == hpo.Running && len(ts[n-1].Intermediate) > 0 {
			break
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Fatalf("exit %d after SIGINT, want 130\n%s", code, p.stderr.String())
	}
	ts := trials(t, dir)
	interrupted := 0
	for _, tr := range ts {
		switch {
		case tr.State == hpo.Failed && strings.HasPrefix(tr.FailReason, "interrupted"):
			interrupted++
		case tr.State == hpo.Failed || !tr.State.Finished():
			t.Errorf("trial %d: %s %q: the interrupted trial was not recorded", tr.Number, tr.State, tr.FailReason)
		}
	}
	if interrupted != 1 {
		t.Errorf("%d trials recorded as interrupted, want 1", interrupted)
	}
	if _, err := os.Stat(filepath.Join(dir, homework.FileSummary)); err == nil {
		t.Error("the interrupted run wrote summary.json")
	}
	resume := ""
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "resume with: "); ok {
			resume = after
		}
	}
	if want := bin + " " + strings.Join(args, " "); resume != want {
		t.Fatalf("resume line %q, want %q\n%s", resume, want, p.stderr.String())
	}
	// The printed line, run by a shell, completes the study.
	sh := exec.Command("sh", "-c", resume)
	sh.Env = append(os.Environ(), "HW1_DATA_DIR="+data)
	if outb, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, outb)
	}
	sum := checkFolder(t, "after the resume", dir, true, time.Time{})
	// The interrupted trial takes no place in the target of 3, and the
	// resumed study draws it again (a seeded study gives the same trials
	// however often it is interrupted).
	if st := sum.StudyStats; st.Complete+st.Pruned != 3 || st.Failed != 1 {
		t.Errorf("after the resume: %d complete, %d pruned, %d failed; want 3 complete or pruned and the interrupted one", st.Complete, st.Pruned, st.Failed)
	}
	ts = trials(t, dir)
	for i, tr := range ts[:len(ts)-1] {
		if strings.HasPrefix(tr.FailReason, "interrupted") && !reflect.DeepEqual(tr.Params, ts[i+1].Params) {
			t.Errorf("trial %d, interrupted, drew %v; trial %d, its rerun, drew %v", i, tr.Params, i+1, ts[i+1].Params)
		}
	}
}

// TestKillNineAtRandomPoints kills runs of one study at random moments
// (loading, trials, cross-validation, figures, the commit), then runs it to
// the end: no finished trial is lost or changed, and the results folder is,
// after every kill and at the end, the folder of one run.
func TestKillNineAtRandomPoints(t *testing.T) {
	data := regressionDataDir(t)
	bin := hw1Binary(t)
	kills := 5
	if s := os.Getenv("HW1_FAULT_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("HW1_FAULT_KILLS=%q", s)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HW1_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("HW1_FAULT_SEED=%q", s)
		}
	}
	t.Logf("HW1_FAULT_SEED=%d HW1_FAULT_KILLS=%d", seed, kills)
	rng := rand.New(rand.NewPCG(seed, 0))

	out := t.TempDir()
	dir := filepath.Join(out, "regression_smoke_results")
	// Trials of a few tenths of a second, so that kills land inside them.
	cfg := filepath.Join(out, "trials.json")
	if err := os.WriteFile(cfg, []byte(`{"space": {"epochs": {"low": 100, "high": 300}}, "cv_epochs": 10}`), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := map[int]finishedRecord{}
	// How long a whole run takes here: kill points are drawn over it.
	span := 3 * time.Second
	trialsGoal := 4
	for i := 0; i < kills; i++ {
		// Each run has trials left to do, so kills land in trials too.
		trialsGoal += 2
		have := 0
		if _, err := os.Stat(filepath.Join(dir, homework.FileJournal)); err == nil {
			have = len(trials(t, dir))
		}
		p := start(t, bin, data, smokeArgs(out, "--config", cfg, "--trials", strconv.Itoa(trialsGoal))...)
		began := time.Now()
		if i%2 == 1 && have < trialsGoal-1 {
			// Inside the study: in the trial after a random trial's line
			// (the figures take most of a run).
			line := fmt.Sprintf("trial %d (", have+rng.IntN(trialsGoal-1-have))
			for !p.exited() && !strings.Contains(p.stderr.String(), line) && time.Since(began) < 30*time.Second {
				time.Sleep(2 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			p.cmd.Process.Kill()
		} else {
			// Anywhere in the run.
			select {
			case <-p.done:
			case <-time.After(time.Duration(rng.Float64() * float64(span))):
				p.cmd.Process.Kill()
			}
		}
		if p.wait(t) == 0 {
			span = time.Since(began) // it finished first: a tighter span
			t.Logf("run %d finished before its kill point", i)
		} else {
			t.Logf("run %d killed after %v, its last line: %s", i, time.Since(began).Round(time.Millisecond), lastLine(p.stderr.String()))
		}
		when := fmt.Sprintf("after kill %d", i)
		if _, err := os.Stat(filepath.Join(dir, homework.FileJournal)); err != nil {
			continue // killed before the study began
		}
		checkKept(t, when, seen, trials(t, dir))
		if _, err := os.Stat(filepath.Join(dir, ".commit")); err == nil {
			continue // killed in a commit: the next run finishes it
		}
		checkFolder(t, when, dir, false, time.Time{})
	}

	time.Sleep(100 * time.Millisecond) // the last run's files are older than the final one's start
	began := time.Now().Add(-50 * time.Millisecond)
	trialsGoal = len(trials(t, dir)) + 2
	p := start(t, bin, data, smokeArgs(out, "--config", cfg, "--trials", strconv.Itoa(trialsGoal))...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("final run: exit %d\n%s", code, p.stderr.String())
	}
	ts := trials(t, dir)
	checkKept(t, "after the final run", seen, ts)
	for _, tr := range ts {
		if !tr.State.Finished() {
			t.Errorf("trial %d still %s after the final run", tr.Number, tr.State)
		}
	}
	checkNoRepeats(t, ts)
	sum := checkFolder(t, "after the final run", dir, true, began)
	if sum.StudyStats.Finished != len(ts) {
		t.Errorf("summary.json counts %d finished trials, the journal has %d", sum.StudyStats.Finished, len(ts))
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// TestFullDiskKeepsWhatWasWritten runs a study on a small tmpfs, fills it,
// and reruns: the run fails with an error saying so, the results of the
// first run are intact (byte for byte), the journal keeps every trial, and
// once there is room again a rerun completes.
func TestFullDiskKeepsWhatWasWritten(t *testing.T) {
	data := regressionDataDir(t)
	bin := hw1Binary(t)
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", disk, err, out)
		}
	})
	remount := func(size int64) {
		t.Helper()
		opt := fmt.Sprintf("remount,size=%dk", (size+1023)/1024)
		if out, err := exec.Command("mount", "-o", opt, disk).CombinedOutput(); err != nil {
			t.Fatalf("mount -o %s: %v %s", opt, err, out)
		}
	}
	used := func() int64 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(disk, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Blocks-st.Bfree) * st.Bsize
	}
	dir := filepath.Join(disk, "regression_smoke_results")
	p := start(t, bin, data, smokeArgs(disk)...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, p.stderr.String())
	}
	before := map[string][]byte{}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !studyFile(d.Name()) {
			before[path], _ = os.ReadFile(path)
		}
		return err
	})
	seen := map[int]finishedRecord{}
	checkKept(t, "after the first run", seen, trials(t, dir))
	// Room for the journal's new trials and an eighth of a second set of
	// results: the disk fills while they are written.
	results := used()
	remount(results + results/8)

	p = start(t, bin, data, smokeArgs(disk, "--trials", "6")...)
	code := p.wait(t)
	stderr := p.stderr.String()
	if code != 1 || !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, "results folder "+dir) {
		t.Fatalf("run on a full disk: exit %d, want 1 and an error naming the folder and the full disk\n%s", code, stderr)
	}
	t.Logf("the error: %s", lastLine(stderr))
	for path, was := range before {
		if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, was) {
			t.Errorf("%s changed on the full disk (%v)", path, err)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("left behind on the full disk: %v", leftovers)
	}
	ts := trials(t, dir)
	checkKept(t, "after the full disk", seen, ts)
	if len(ts) != 6 {
		t.Errorf("%d trials in the journal, want 6 (the study ran before the disk filled)", len(ts))
	}

	remount(16 << 20)
	p = start(t, bin, data, smokeArgs(disk, "--trials", "6")...)
	if code := p.wait(t); code != 0 {
		t.Fatalf("rerun with room: exit %d\n%s", code, p.stderr.String())
	}
	checkFolder(t, "after the rerun with room", dir, true, time.Time{})
}
