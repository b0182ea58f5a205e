//go:build linux

package pgstorage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/hpotest"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// The interop tests run real Optuna 5.0 (the project's .venv, set up by scripts/setup.sh)
// through testdata/optuna_interop.py. They are skipped when the venv or Optuna is missing,
// unless $HW1_REQUIRE_OPTUNA is set.
const requireOptunaEnv = "HW1_REQUIRE_OPTUNA"

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  error
)

// python returns the venv's interpreter once it has imported Optuna 5.0.0.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		dir, _ := os.Getwd()
		for ; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
		}
		pythonPath = filepath.Join(dir, ".venv", "bin", "python")
		out, err := exec.Command(pythonPath, "-c", "import optuna, sqlalchemy, psycopg2; print(optuna.__version__)").CombinedOutput()
		switch {
		case err != nil:
			pythonErr = fmt.Errorf("%s cannot import optuna, sqlalchemy and psycopg2 (scripts/setup.sh installs them): %v: %s", pythonPath, err, bytes.TrimSpace(out))
		case strings.TrimSpace(string(out)) != OptunaVersion:
			pythonErr = fmt.Errorf("%s has Optuna %s, these tests are for %s", pythonPath, bytes.TrimSpace(out), OptunaVersion)
		}
	})
	if pythonErr != nil {
		if os.Getenv(requireOptunaEnv) == "" {
			t.Skipf("%v (set %s=1 to fail instead of skipping)", pythonErr, requireOptunaEnv)
		}
		t.Fatalf("%v, and %s is set", pythonErr, requireOptunaEnv)
	}
	return pythonPath
}

// optuna runs a command of optuna_interop.py and returns its standard output.
func optuna(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python(t), append([]string{filepath.Join("testdata", "optuna_interop.py")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("optuna_interop.py %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// pyDump is what optuna_interop.py dump prints.
type pyDump struct {
	Direction string    `json:"direction"`
	Trials    []pyTrial `json:"trials"`
}

type pyTrial struct {
	Number        int               `json:"number"`
	State         string            `json:"state"`
	Params        map[string]any    `json:"params"`
	Distributions map[string]string `json:"distributions"`
	Value         any               `json:"value"`
	Intermediate  map[string]any    `json:"intermediate"`
	SystemAttrs   map[string]any    `json:"system_attrs"`
	Start         *string           `json:"start"`
	Complete      *string           `json:"complete"`
}

func decodeDump(t *testing.T, out []byte) pyDump {
	t.Helper()
	var d pyDump
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("Optuna's dump: %v\n%s", err, out)
	}
	return d
}

func pyTime(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	tt, _ := time.Parse(time.RFC3339Nano, *s)
	return tt
}

// compareWithOptuna checks that Optuna sees the trials as this storage does: numbers, states,
// parameters as the objective saw them, distributions, values, intermediate values, times, and
// the numeric system attributes.
func compareWithOptuna(t *testing.T, goTrials []hpo.FrozenTrial, py pyDump) {
	t.Helper()
	if len(goTrials) != len(py.Trials) {
		t.Fatalf("Go sees %d trials, Optuna %d", len(goTrials), len(py.Trials))
	}
	for i, g := range goTrials {
		p := py.Trials[i]
		where := fmt.Sprintf("trial %d", g.Number)
		if g.Number != p.Number || string(g.State) != p.State {
			t.Fatalf("%s: Go %d %s, Optuna %d %s", where, g.Number, g.State, p.Number, p.State)
		}
		if len(g.Params) != len(p.Params) {
			t.Errorf("%s: Go params %v, Optuna %v", where, g.ExternalParams(), p.Params)
		}
		for name, pv := range p.Params {
			gv, ok := g.Param(name)
			if !ok || fmt.Sprint(gv) != fmt.Sprint(pv) {
				t.Errorf("%s %s: Go %v (%T), Optuna %v (%T)", where, name, gv, gv, pv, pv)
			}
			pd, err := journal.ParseOptunaDistribution(p.Distributions[name])
			if err != nil || !pd.Equal(g.Distributions[name]) {
				t.Errorf("%s %s: Go distribution %v, Optuna %s (%v)", where, name, g.Distributions[name], p.Distributions[name], err)
			}
		}
		if !sameFloat(g.Value, hpotest.DumpFloat(p.Value)) {
			t.Errorf("%s value: Go %v, Optuna %v", where, g.Value, p.Value)
		}
		if len(g.Intermediate) != len(p.Intermediate) {
			t.Errorf("%s intermediate: Go %v, Optuna %v", where, g.Intermediate, p.Intermediate)
		}
		for step, pv := range p.Intermediate {
			k, _ := strconv.Atoi(step)
			if gv, ok := g.Intermediate[k]; !ok || !sameFloat(gv, hpotest.DumpFloat(pv)) {
				t.Errorf("%s step %d: Go %v, Optuna %v", where, k, gv, pv)
			}
		}
		for key, gv := range g.SystemAttrs {
			if pv, ok := p.SystemAttrs[key].(float64); !ok || pv != gv {
				t.Errorf("%s system attribute %s: Go %v, Optuna %v", where, key, gv, p.SystemAttrs[key])
			}
		}
		if g.State == hpo.Failed && g.FailReason != "" && p.SystemAttrs["fail_reason"] != g.FailReason {
			t.Errorf("%s fail_reason: Go %q, Optuna %v", where, g.FailReason, p.SystemAttrs["fail_reason"])
		}
		for name, pair := range map[string][2]time.Time{"start": {g.DatetimeStart, pyTime(p.Start)}, "complete": {g.DatetimeComplete, pyTime(p.Complete)}} {
			if pair[0].IsZero() != pair[1].IsZero() || pair[0].Sub(pair[1]).Abs() > time.Millisecond {
				t.Errorf("%s %s: Go %v, Optuna %v", where, name, pair[0], pair[1])
			}
		}
	}
}

// A study written through this storage (a seeded TPE study with an enqueued trial, pruned and
// failed trials, Inf and NaN reports) is loaded by optuna.load_study with the same trials.
func TestOptunaLoadsAGoStudy(t *testing.T) {
	python(t)
	url := pgtest.Database(t)
	s := openTest(t, url, "go-study")
	goTrials := runReferenceStudy(t, s)
	extra, _ := s.CreateTrial(0)
	s.Report(extra.Number, 0, math.Inf(1))
	s.Report(extra.Number, 1, math.NaN())
	s.FinishTrial(extra.Number, hpo.Complete, math.Inf(-1), "")
	goTrials = mustTrials(t, s)
	py := decodeDump(t, optuna(t, "dump", url, "go-study"))
	if py.Direction != "MINIMIZE" {
		t.Errorf("Optuna sees direction %s", py.Direction)
	}
	compareWithOptuna(t, goTrials, py)
	t.Logf("Optuna loaded %d trials written by Go, identical", len(py.Trials))
}

// A study begun by Optuna (seeded TPE, 8 trials, one enqueued) is read here as Optuna wrote it,
// continued through hpo.NewStudy (which runs the enqueued trial first), then continued again by
// Optuna, which reloads every trial and accepts the distributions written here.
func TestGoContinuesAnOptunaStudy(t *testing.T) {
	python(t)
	url := pgtest.Database(t)
	begun := decodeDump(t, optuna(t, "begin", url, "py-study", "8", "3"))
	s := openTest(t, url, "py-study")
	compareWithOptuna(t, mustTrials(t, s), begun)

	study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(5))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		t.Fatal(err)
	}
	if err := study.Optimize(context.Background(), studyObjective, hpo.NTrials(6)); err != nil {
		t.Fatal(err)
	}
	ts := mustTrials(t, s)
	if len(ts) != 14 {
		t.Fatalf("%d trials after Go's 6 (the first of them Optuna's enqueued trial 8), want 14", len(ts))
	}
	checkNumbers(t, ts)
	if x, _ := ts[8].Param("x"); x != 1.0 || ts[8].State == hpo.Waiting {
		t.Errorf("Optuna's enqueued trial 8: x = %v, %s; want 1 and run", x, ts[8].State)
	}
	// Go wrote back Optuna's typed choices for "bs" ([16, 32, 64]), not its labels as strings,
	// so Optuna keeps seeing one distribution of the parameter.
	rows, err := s.pool.Query(t.Context(), `SELECT DISTINCT p.distribution_json FROM trial_params p JOIN trials t USING (trial_id)
		WHERE t.study_id = $1 AND p.param_name = 'bs'`, s.studyID)
	if err != nil {
		t.Fatal(err)
	}
	var spellings []string
	for rows.Next() {
		var dj string
		rows.Scan(&dj)
		spellings = append(spellings, dj)
	}
	rows.Close()
	if len(spellings) != 1 || !strings.Contains(spellings[0], "[16, 32, 64]") {
		t.Errorf("distribution_json of bs: %q, want Optuna's one spelling with [16, 32, 64]", spellings)
	}
	again := decodeDump(t, optuna(t, "continue", url, "py-study", "2", "4"))
	ts = mustTrials(t, s)
	if len(ts) != 16 {
		t.Fatalf("%d trials after Optuna's 2 more, want 16", len(ts))
	}
	checkNumbers(t, ts)
	compareWithOptuna(t, ts, again)
}

// One Optuna worker and two Go workers (each with its own storage, as on three machines) share
// one study: trial numbers unique and consecutive, each worker ran trials, the Go workers stop
// at the target.
func TestOptunaAndGoWorkersShareAStudy(t *testing.T) {
	url := pgtest.Database(t)
	const target = 24
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python(t), filepath.Join("testdata", "optuna_interop.py"), "work", url, "shared", strconv.Itoa(target))
	cmd.Stderr = testLog{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Wait()
		t.Fatalf("the Optuna worker said %q", lines.Text())
	}
	var wg sync.WaitGroup
	stores := []*Storage{openTest(t, url, "shared"), openTest(t, url, "shared")}
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			study, err := hpo.NewStudy(hpo.WithStorage(s), hpo.WithMaxTrials(target), hpo.WithSampler(hpo.NewRandomSampler(uint64(i))))
			if err == nil {
				err = study.Optimize(context.Background(), sleepyObjective(30*time.Millisecond))
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	var pyRan []int
	if lines.Scan() {
		json.Unmarshal(lines.Bytes(), &pyRan)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the Optuna worker: %v", err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := mustTrials(t, stores[0])
	checkNumbers(t, ts)
	if len(ts) < target || len(ts) > target+1 {
		t.Errorf("%d trials, want %d (Optuna's worker may start one more: its MaxTrials check runs after a trial)", len(ts), target)
	}
	tokens := tokensOf(t, stores[0])
	byWorker := map[string]int{}
	for _, tr := range ts {
		if tr.State != hpo.Complete {
			t.Errorf("trial %d is %s", tr.Number, tr.State)
		}
		who := "optuna"
		if tok, ok := tokens[tr.Number]; ok {
			who = "go " + strings.Split(tok, ":")[2]
		}
		byWorker[who]++
	}
	if len(byWorker) != 3 || byWorker["optuna"] != len(pyRan) {
		t.Errorf("trials by worker %v (the Optuna worker says it ran %v), want three workers", byWorker, pyRan)
	}
	t.Logf("%d trials by worker: %v", len(ts), byWorker)
}

var updateSchema = flag.Bool("update-schema", false, "rewrite testdata/optuna-5.0.0-schema.sql from a database that Optuna creates")

const schemaGolden = "testdata/optuna-5.0.0-schema.sql"

// schemaDump returns pg_dump's schema of a database, without comments, settings and blank-line
// runs, so that two dumps compare as text.
func schemaDump(t *testing.T, url string) string {
	t.Helper()
	srv := pgtest.Require(t)
	out, err := exec.Command(filepath.Join(srv.Bin, "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "--dbname", url).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	var b strings.Builder
	blank := true
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "--"), strings.HasPrefix(line, "SET "), strings.HasPrefix(line, "SELECT pg_catalog.set_config"),
			strings.HasPrefix(line, `\restrict`), strings.HasPrefix(line, `\unrestrict`):
			continue
		case strings.TrimSpace(line) == "":
			if !blank {
				b.WriteString("\n")
			}
			blank = true
		default:
			b.WriteString(line + "\n")
			blank = false
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// The schema created here is, in pg_dump's eyes, the one Optuna 5.0.0 creates.
func TestSchemaMatchesOptuna(t *testing.T) {
	url := pgtest.Database(t)
	openTest(t, url, "s")
	want, err := os.ReadFile(schemaGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaDump(t, url); got != string(want) {
		t.Fatalf("schema differs from Optuna's (%s):\n%s", schemaGolden, lineDiff(string(want), got))
	}
}

// Optuna 5.0.0 creates the schema of the golden file (checks the golden file itself; with
// -update-schema, rewrites it).
func TestOptunaCreatesTheGoldenSchema(t *testing.T) {
	python(t)
	url := pgtest.Database(t)
	optuna(t, "schema", url)
	got := schemaDump(t, url)
	if *updateSchema {
		if err := os.WriteFile(schemaGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := os.ReadFile(schemaGolden)
	if got != string(want) {
		t.Fatalf("Optuna's schema differs from %s (run with -update-schema if Optuna changed):\n%s", schemaGolden, lineDiff(string(want), got))
	}
}

// Optuna opens a database whose schema this storage created without creating or migrating
// anything, at its head revision.
func TestOptunaOpensTheGoSchema(t *testing.T) {
	python(t)
	url := pgtest.Database(t)
	openTest(t, url, "s")
	before := schemaDump(t, url)
	var v struct{ Current, Head string }
	if err := json.Unmarshal(optuna(t, "schema", url), &v); err != nil {
		t.Fatal(err)
	}
	if v.Current != AlembicRevision || v.Head != AlembicRevision {
		t.Errorf("Optuna: current revision %s, head %s; want %s", v.Current, v.Head, AlembicRevision)
	}
	if after := schemaDump(t, url); after != before {
		t.Errorf("Optuna changed the schema:\n%s", lineDiff(before, after))
	}
}

// lineDiff lists the lines of one text missing from the other.
func lineDiff(want, got string) string {
	count := func(s string) map[string]int {
		m := map[string]int{}
		for _, l := range strings.Split(s, "\n") {
			m[l]++
		}
		return m
	}
	w, g := count(want), count(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if g[l] < w[l] {
			fmt.Fprintf(&b, "- %s\n", l)
			g[l]++
		}
	}
	w2 := count(want)
	for _, l := range strings.Split(got, "\n") {
		if w2[l] == 0 {
			fmt.Fprintf(&b, "+ %s\n", l)
		} else {
			w2[l]--
		}
	}
	return b.String()
}
