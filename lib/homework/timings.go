package homework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/dlworkbench/hw1/internal/atomicfile"
	"github.com/dlworkbench/hw1/lib/nn"
)

// studyTime is study_timings.json (FileStudyTimings): the time the study
// took in this results folder, over every process that ran it. Each run of
// RunStudy that finishes (or is interrupted) adds its seconds and the graphs
// it compiled, so a study run in one process and reported by another (a
// notebook's cells are separate programs) or resumed by a later run reports
// the time of all of them. A worker (RunTrials) adds nothing: its trials are
// waited for by the run that writes the results, whose time covers them, and
// a worker writes only study.json.
//
// Like the journal and study.json it is the study's, not a run's output: it
// is written in place (a temporary file renamed over it), under the results
// folder's flock, so concurrent runs on the folder add up and a crash leaves
// either the old record or the new one.
type studyTime struct {
	// Seconds is the wall time of the runs of the study, added up.
	Seconds float64 `json:"seconds"`
	// Runs is how many runs of RunStudy ran trials (or were interrupted):
	// a run that only replays a finished study adds its seconds, not a run.
	Runs int `json:"runs"`
	// Compilations are the graphs those runs compiled.
	Compilations nn.CompileStats `json:"compilations"`
	// Updated is when the last run was added.
	Updated time.Time `json:"updated"`
}

// readStudyTime reads the folder's study_timings.json; a folder without one
// (a new study, or one from before the record) gives the zero record.
func (r *results) readStudyTime() (studyTime, error) {
	var st studyTime
	path := r.path(FileStudyTimings)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return studyTime{}, fmt.Errorf("%s: %w (it adds up the seconds of the study's runs; remove it to start counting again)", path, err)
	}
	return st, nil
}

// addStudyTime adds one run of the study to study_timings.json (its seconds
// and graphs; the run itself when countRun) and returns the record with it.
// An unreadable record is left as it is (an error): nothing already counted
// is overwritten.
func (r *results) addStudyTime(seconds float64, compiled nn.CompileStats, countRun bool) (studyTime, error) {
	var st studyTime
	err := r.locked(func() error {
		var err error
		if st, err = r.readStudyTime(); err != nil {
			return err
		}
		st.Seconds += seconds
		if countRun {
			st.Runs++
		}
		st.Compilations.Graphs += compiled.Graphs
		st.Compilations.Seconds += compiled.Seconds
		st.Updated = time.Now().UTC()
		data, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(r.path(FileStudyTimings), append(data, '\n')); err != nil {
			return fmt.Errorf("results folder %s: writing %s: %w", r.dir, FileStudyTimings, err)
		}
		return nil
	})
	return st, err
}

// setAsideStudyTime renames study_timings.json to
// study_timings.json.old-<UTC time> when there is one; the caller holds the
// folder's lock (a new study starts counting from zero, and the old record
// is not lost).
func (r *results) setAsideStudyTime() error {
	path := r.path(FileStudyTimings)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old := path + ".old-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := os.Rename(path, old); err != nil {
		return fmt.Errorf("results folder %s: a new study, but %s of an earlier one cannot be set aside: %w", r.dir, FileStudyTimings, err)
	}
	return nil
}

// stepStats is what one step of this process took: its seconds and the
// graphs it compiled (nn.Compilations is process-wide: a run does one step
// at a time).
type stepStats struct {
	Seconds      float64
	Compilations nn.CompileStats
}

// measure runs f and returns what it took.
func measure(f func() error) (stepStats, error) {
	start, compiled := time.Now(), nn.Compilations()
	err := f()
	return stepStats{Seconds: time.Since(start).Seconds(), Compilations: nn.Compilations().Sub(compiled)}, err
}
