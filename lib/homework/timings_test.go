package homework

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlworkbench/hw1/internal/datatest"
	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/nn"
)

// TestStudySecondsOfEarlierRunsReported runs the regression as the notebook
// does, each step in a run object of its own over one results folder (GoNB
// runs each cell as a program): the study in the first, the study reopened
// in the second, the study reopened, the cross-validation and the results in
// the third. summary.json then reports the seconds and compilations of all
// three, not the third's alone, and one run (the one that trained); a resume
// with more trials adds its own. The models of the study and of the cross-validation get the
// configured padding, and summary.json records it.
func TestStudySecondsOfEarlierRunsReported(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	buckets := nn.Padding{BatchBits: 2, WidthBits: 1}
	cfg.Padding = Padding{Mode: PaddingBuckets, Buckets: buckets}

	studyOnly := func() (float64, nn.CompileStats) {
		t.Helper()
		r, err := NewRegression(cfg, Options{Log: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.RunStudy(); err != nil {
			t.Fatal(err)
		}
		if r.Padding != buckets {
			t.Errorf("the run's padding is %+v, want %+v", r.Padding, buckets)
		}
		return r.Timings["study_seconds"], r.Compilations["study"]
	}
	first, firstCompiled := studyOnly()
	if first <= 0 || firstCompiled.Graphs <= 0 {
		t.Fatalf("first run of the study: %v s, %+v", first, firstCompiled)
	}
	second, _ := studyOnly()
	if second <= first {
		t.Errorf("the second run's study_seconds %v is not the first's %v plus its own", second, first)
	}

	var log bytes.Buffer
	r, err := NewRegression(cfg, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.RunStudy(); err != nil {
		t.Fatal(err)
	}
	if err := r.RunCV(); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.CV.Folds {
		if f.Model.Padding != buckets {
			t.Errorf("fold %d: padding %+v, want %+v", f.Index, f.Model.Padding, buckets)
		}
	}
	sum, err := r.WriteResults()
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, r.Dir())
	// Only the first run trained: the two that reopened the finished study
	// add their seconds, not runs.
	if s.StudyRuns != 1 {
		t.Errorf("study_runs %d, want 1", s.StudyRuns)
	}
	if got := s.Timings["study_seconds"]; got < second || got != r.Timings["study_seconds"] {
		t.Errorf("study_seconds %v: want the three runs' (>= %v after two, %v in the run)", got, second, r.Timings["study_seconds"])
	}
	if c := s.Compilations["study"]; c.Graphs < firstCompiled.Graphs {
		t.Errorf("the study's compilations %+v leave out the first run's %+v", c, firstCompiled)
	}
	if c, ok := s.Compilations["cv"]; !ok || c.Graphs <= 0 || s.Timings["cv_seconds"] <= 0 {
		t.Errorf("cross-validation: %v s, compilations %+v", s.Timings["cv_seconds"], c)
	}
	if _, ok := s.Compilations["results"]; !ok || s.Timings["results_seconds"] <= 0 {
		t.Errorf("results: %v s, compilations %+v", s.Timings["results_seconds"], s.Compilations)
	}
	if want := (PaddingRecord{Setting: PaddingBuckets, Padding: buckets}); s.Padding != want {
		t.Errorf("summary padding %+v, want %+v", s.Padding, want)
	}
	if sum.StudyRuns != 1 {
		t.Errorf("the returned summary has study_runs %d", sum.StudyRuns)
	}
	for _, want := range []string{`study "regression_smoke": done in `, "cross-validation: done in ", " graphs in "} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}

	// A resume with more trials adds its time to the record, which the
	// commit of the results left in place.
	before := s.Timings["study_seconds"]
	cfg.Trials += 2
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	s = readSummary(t, r.Dir())
	if s.StudyRuns != 2 || s.Timings["study_seconds"] <= before {
		t.Errorf("after a resume: study_runs %d, study_seconds %v (was %v)", s.StudyRuns, s.Timings["study_seconds"], before)
	}
	raw, err := os.ReadFile(filepath.Join(r.Dir(), FileStudyTimings))
	if err != nil {
		t.Fatal(err)
	}
	var rec studyTime
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Runs != 2 || rec.Seconds != s.Timings["study_seconds"] {
		t.Errorf("%s records %+v; summary.json says %d runs, %v s", FileStudyTimings, rec, s.StudyRuns, s.Timings["study_seconds"])
	}
}

// TestUnreadableStudyTimeIsKept: a study_timings.json that cannot be read is
// left as it is (nothing counted is overwritten); the run says so and
// reports its own seconds.
// TestNewStudySetsAsideOldTimes: a study started afresh on a folder whose
// journal and study.json were removed does not count the earlier study's
// seconds; the earlier record is kept aside, not lost. And a study run again
// after its cross-validation makes WriteResults refuse until the CV is run
// again, instead of committing the old CV beside the new study.
func TestNewStudySetsAsideOldTimes(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	r, err := NewRegression(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.RunStudy(); err != nil {
		t.Fatal(err)
	}
	if err := r.RunCV(); err != nil {
		t.Fatal(err)
	}
	if err := r.RunStudy(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteResults(); err == nil || !strings.Contains(err.Error(), "RunCV") {
		t.Errorf("WriteResults after a new RunStudy without RunCV: %v, want the CV asked for", err)
	}
	first := r.Timings["study_seconds"]
	for _, f := range []string{FileJournal, FileStudy} {
		if err := os.Remove(filepath.Join(r.Dir(), f)); err != nil {
			t.Fatal(err)
		}
	}
	r2, err := NewRegression(cfg, Options{Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := r2.RunStudy(); err != nil {
		t.Fatal(err)
	}
	// Not set aside, the record would say two runs, the old one's seconds
	// included.
	if r2.StudyRuns != 1 {
		t.Errorf("the new study: %d runs, %v s (the old one had %v s)", r2.StudyRuns, r2.Timings["study_seconds"], first)
	}
	old, _ := filepath.Glob(filepath.Join(r.Dir(), FileStudyTimings+".old-*"))
	if len(old) != 1 {
		t.Errorf("the earlier study's %s set aside as %v, want one file", FileStudyTimings, old)
	}
}

func TestUnreadableStudyTimeIsKept(t *testing.T) {
	datatest.NeedRegression(t)
	cfg := smoke(t, TaskRegression, "go")
	dir := cfg.ResultsDir()
	// A study, then its record damaged, then a resume with one more trial
	// (a new study would set an earlier record aside instead).
	if _, err := Regression(cfg, Options{Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	bad := []byte(`{"seconds": 12, "runs": "many"}`)
	path := filepath.Join(dir, FileStudyTimings)
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Trials++
	var log bytes.Buffer
	sum, err := Regression(cfg, Options{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, bad) {
		t.Errorf("%s was rewritten: %s", FileStudyTimings, raw)
	}
	if !strings.Contains(log.String(), "its time is not recorded") {
		t.Errorf("the log does not say the time was not recorded:\n%s", log.String())
	}
	if sum.StudyRuns != 1 || !(sum.Timings["study_seconds"] > 0) {
		t.Errorf("study_runs %d, study_seconds %v", sum.StudyRuns, sum.Timings["study_seconds"])
	}
}

func TestPaddingSetting(t *testing.T) {
	for _, tc := range []struct {
		json string
		want Padding
		back string
	}{
		{`"auto"`, Padding{Mode: PaddingAuto}, `"auto"`},
		{`"none"`, Padding{Mode: PaddingNone}, `"none"`},
		{`null`, Padding{}, `"auto"`},
		{`{"batch_bits": 3, "width_bits": 0}`, Padding{Mode: PaddingBuckets, Buckets: nn.Padding{BatchBits: 3}}, `{"batch_bits":3,"width_bits":0}`},
	} {
		var p Padding
		if err := json.Unmarshal([]byte(tc.json), &p); err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if p != tc.want {
			t.Errorf("%s: read %+v, want %+v", tc.json, p, tc.want)
		}
		if back, _ := json.Marshal(p); string(back) != tc.back {
			t.Errorf("%s: written back as %s, want %s", tc.json, back, tc.back)
		}
	}
	var zero Padding
	if back, _ := json.Marshal(zero); string(back) != `"auto"` {
		t.Errorf("the zero setting is written %s, want \"auto\"", back)
	}

	// Bad values in a config file: the error names the field and what it
	// accepts.
	path := filepath.Join(t.TempDir(), "c.json")
	for _, body := range []string{`{"padding": "fast"}`, `{"padding": 3}`, `{"padding": {"batch_bit": 3}}`, `{"padding": []}`} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, _ := Preset(TaskRegression, "smoke")
		err := LoadOverrides(&cfg, path)
		if err == nil || !strings.Contains(err.Error(), "padding") || !strings.Contains(err.Error(), `"none"`) {
			t.Errorf("%s: %v", body, err)
		}
	}
	for _, p := range []Padding{
		{Mode: PaddingBuckets, Buckets: nn.Padding{BatchBits: 31}},
		{Mode: PaddingBuckets, Buckets: nn.Padding{WidthBits: -1}},
		{Mode: "fast"},
	} {
		cfg, _ := Preset(TaskRegression, "smoke")
		cfg.Padding = p
		if err := cfg.Validate(); fieldOf(err) != "padding" {
			t.Errorf("%+v: %v, want an error naming padding", p, err)
		}
	}

	goChoice := backend.Go()
	if got := (Padding{}).Resolve(goChoice, TaskRegression); got != nn.DefaultPadding(goChoice.Backend, nn.KindMLP) {
		t.Errorf("auto on go: %+v, want nn.DefaultPadding's %+v", got, nn.DefaultPadding(goChoice.Backend, nn.KindMLP))
	}
	if got := (Padding{Mode: PaddingNone}).Resolve(goChoice, TaskRegression); got != nn.NoPadding {
		t.Errorf("none: %+v", got)
	}
}

func TestChooseBackend(t *testing.T) {
	t.Setenv(backend.EnvVar, "")
	t.Setenv(backend.GoOptionsEnvVar, "")
	c, err := ChooseBackend(TaskRegression, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "go" || c.Reason != regressionGoReason {
		t.Errorf("regression by default: %s", c)
	}
	if !strings.Contains(c.String(), "pure Go") || !strings.Contains(c.String(), "the default for the regression task") {
		t.Errorf("the backend line %q does not say why", c)
	}
	def, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ChooseBackend(TaskClassification, ""); err != nil || c.Name != def.Name || c.Reason != def.Reason {
		t.Errorf("classification by default: %v %v, want lib/backend's %v", c, err, def)
	}
	if c, err := ChooseBackend(TaskRegression, "go"); err != nil || !strings.Contains(c.Reason, "--backend") {
		t.Errorf("an explicit backend: %v %v", c, err)
	}
	t.Setenv(backend.GoOptionsEnvVar, backend.DefaultGoOptions)
	if c, err := ChooseBackend(TaskRegression, ""); err != nil || !strings.HasPrefix(c.Reason, regressionGoReason) || !strings.Contains(c.Reason, "$"+backend.GoOptionsEnvVar) {
		t.Errorf("with $%s: %v %v", backend.GoOptionsEnvVar, c, err)
	}
	t.Setenv(backend.GoOptionsEnvVar, "")
	t.Setenv(backend.EnvVar, "go")
	if c, err := ChooseBackend(TaskRegression, ""); err != nil || !strings.Contains(c.Reason, "$"+backend.EnvVar) {
		t.Errorf("$%s: %v %v", backend.EnvVar, c, err)
	}
}
