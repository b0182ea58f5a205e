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
	// Runs is how many runs of RunStudy the seconds add up.
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

// addStudyTime adds one run of the study to study_timings.json and returns
// the record with it. An unreadable record is left as it is (an error):
// nothing already counted is overwritten.
func (r *results) addStudyTime(seconds float64, compiled nn.CompileStats) (studyTime, error) {
	var st studyTime
	err := r.locked(func() error {
		var err error
		if st, err = r.readStudyTime(); err != nil {
			return err
		}
		st.Seconds += seconds
		st.Runs++
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
