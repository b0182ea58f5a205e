package hpo

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dlworkbench/hw1/internal/atomicfile"
)

// Stats are the study numbers the seed's report prints (its TABLE I and III).
type Stats struct {
	Study      string         `json:"study"`
	Direction  Direction      `json:"direction"`
	Finished   int            `json:"n_finished"`
	Pruned     int            `json:"n_pruned"`
	Complete   int            `json:"n_complete"`
	Failed     int            `json:"n_failed"`
	Running    int            `json:"n_running"`
	BestNumber int            `json:"best_trial"` // -1 without a complete trial
	BestValue  *float64       `json:"best_value"` // nil without a complete trial
	BestParams map[string]any `json:"best_params"`
}

// Stats counts trials by state and finds the best one.
func (s *Study) Stats() (Stats, error) {
	trials, err := s.Trials()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Study: s.name, Direction: s.direction, BestNumber: -1, BestParams: map[string]any{}}
	for _, t := range trials {
		switch t.State {
		case Complete:
			st.Complete++
		case Pruned:
			st.Pruned++
		case Failed:
			st.Failed++
		case Running:
			st.Running++
		}
	}
	st.Finished = st.Complete + st.Pruned + st.Failed
	if best, err := s.BestTrial(); err == nil {
		v := best.Value
		st.BestNumber, st.BestValue, st.BestParams = best.Number, &v, best.ExternalParams()
	}
	return st, nil
}

// WriteText writes the statistics as the seed's "Study numbers" block plus the best parameters,
// sorted by name.
func (st Stats) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Study numbers\n")
	fmt.Fprintf(&b, "Number of finished trials: %d\n", st.Finished)
	fmt.Fprintf(&b, "Number of pruned trials: %d\n", st.Pruned)
	fmt.Fprintf(&b, "Number of complete trials: %d\n", st.Complete)
	if st.Failed > 0 {
		fmt.Fprintf(&b, "Number of failed trials: %d\n", st.Failed)
	}
	if st.BestValue == nil {
		fmt.Fprintf(&b, "Best value: none (no complete trial)\n")
	} else {
		fmt.Fprintf(&b, "Best value: %.4g (trial %d)\n", *st.BestValue, st.BestNumber)
		fmt.Fprintf(&b, "\nHyperparameters found:\n")
		names := make([]string, 0, len(st.BestParams))
		for n := range st.BestParams {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s: %v\n", n, st.BestParams[n])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the statistics as indented JSON.
func (st Stats) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

// paramNames returns every parameter name of the trials, sorted.
func paramNames(trials []FrozenTrial) []string {
	seen := map[string]bool{}
	for _, t := range trials {
		for n := range t.Params {
			seen[n] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteTrialsCSV writes one row per trial with the columns of Optuna's trials_dataframe():
// number, value, datetime_start, datetime_complete, duration, params_<name>..., state. Missing
// values (a parameter a trial did not ask for, the value of a failed trial) are empty cells.
func WriteTrialsCSV(w io.Writer, trials []FrozenTrial) error {
	names := paramNames(trials)
	cw := csv.NewWriter(w)
	header := []string{"number", "value", "datetime_start", "datetime_complete", "duration"}
	for _, n := range names {
		header = append(header, "params_"+n)
	}
	header = append(header, "state")
	if err := cw.Write(header); err != nil {
		return err
	}
	const layout = "2006-01-02 15:04:05.000000"
	for _, t := range trials {
		row := []string{strconv.Itoa(t.Number), formatFloat(t.Value), "", "", ""}
		if !t.DatetimeStart.IsZero() {
			row[2] = t.DatetimeStart.Format(layout)
		}
		if !t.DatetimeComplete.IsZero() {
			row[3] = t.DatetimeComplete.Format(layout)
			row[4] = t.Duration().String()
		}
		for _, n := range names {
			cell := ""
			if v, ok := t.Param(n); ok {
				cell = fmt.Sprint(v)
			}
			row = append(row, cell)
		}
		row = append(row, string(t.State))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteReports writes <dir>/<prefix>stats.txt, stats.json and trials.csv for the study.
func (s *Study) WriteReports(dir, prefix string) error {
	st, err := s.Stats()
	if err != nil {
		return err
	}
	trials, err := s.Trials()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, prefix+"stats.txt"), st.WriteText); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, prefix+"stats.json"), st.WriteJSON); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, prefix+"trials.csv"), func(w io.Writer) error {
		return WriteTrialsCSV(w, trials)
	})
}
