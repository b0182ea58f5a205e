package homework

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
)

// Summary is summary.json: what a run found, on what, and how long it took.
type Summary struct {
	Task   string `json:"task"`
	Preset string `json:"preset"`
	Study  string `json:"study"`
	// Storage is where the study's trials are kept when not in the results
	// folder (a journal file, a database URL without its password).
	Storage string `json:"storage,omitempty"`
	Seed    int64  `json:"seed"`
	Backend string `json:"backend"`
	// BackendDetail is the line saying which backend and why.
	BackendDetail string            `json:"backend_detail"`
	Versions      map[string]string `json:"versions"`
	ResultsDir    string            `json:"results_dir"`
	StudyStats    hpo.Stats         `json:"study_stats"`
	BestModel     Model             `json:"best_model"`
	Folds         []FoldSummary     `json:"folds"`
	// BestFold is the index of the best model on the test set.
	BestFold int `json:"best_fold"`
	// Metrics holds the headline numbers: ensemble_test_mse or
	// vote_test_accuracy, and the best single model's.
	Metrics map[string]float64 `json:"metrics"`
	// Timings are the seconds of each step, true however many processes
	// ran them: study_seconds adds up every run of the study on this
	// results folder (a study run by one notebook cell and reported by
	// another, or resumed, counts all its runs; study_timings.json keeps
	// the sum between processes); cv_seconds is the cross-validation whose
	// models this summary describes; results_seconds is the figures,
	// checkpoints and files of this run until summary.json was written.
	Timings map[string]float64 `json:"timings_seconds"`
	// StudyRuns is how many runs of the study study_seconds adds up (a
	// rerun that finds the study complete counts, with its seconds of
	// reopening it).
	StudyRuns int `json:"study_runs"`
	// Compilations are the graphs compiled by each step, with the seconds
	// of the calls that compiled them (nn.CompileStats), by step as
	// Timings without "_seconds": "study" (every run of it, as
	// study_seconds), "cv", "results".
	Compilations map[string]nn.CompileStats `json:"compilations"`
	// Padding is the configuration's padding and the shape buckets it gave
	// every model of the study and the cross-validation on this backend.
	Padding PaddingRecord `json:"padding"`
	// Figures are the files of the figures, in the order they are drawn.
	Figures []string `json:"figures"`
	// ActivationInputs are the inputs x of the regression's activation
	// profiles, one figure each (plot.ActivationsName(x)); none for the
	// classification.
	ActivationInputs []float64 `json:"activation_inputs,omitempty"`
	Checkpoints      []string  `json:"checkpoints"`
	Finished         time.Time `json:"finished"`
}

// FoldSummary is one model of the cross-validation. Accuracies are absent
// for the regression.
type FoldSummary struct {
	Fold         int      `json:"fold"`
	Epochs       int      `json:"epochs"`
	ValLoss      float64  `json:"val_loss"`
	ValAccuracy  *float64 `json:"val_accuracy,omitempty"`
	TestLoss     float64  `json:"test_loss"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	Seconds      float64  `json:"seconds"`
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// summary gathers what both tasks report.
func (r *Run) summary(checkpoints []string) (*Summary, error) {
	stats, err := r.Study.Stats()
	if err != nil {
		return nil, err
	}
	s := &Summary{
		Task: r.Config.Task, Preset: r.Config.Preset, Study: r.Config.Study, Storage: r.Config.redactedStorage(), Seed: r.Config.Seed,
		Backend: r.Backend.Name, BackendDetail: r.Backend.String(), Versions: backend.Versions(),
		ResultsDir: r.res.dir, StudyStats: stats, BestModel: r.Best, BestFold: r.CV.Best(),
		Metrics: map[string]float64{}, Timings: maps.Clone(r.Timings), StudyRuns: r.StudyRuns,
		Compilations: maps.Clone(r.Compilations), Padding: r.Config.Padding.record(r.Backend, r.Config.Task),
		Checkpoints: checkpoints, Finished: time.Now().UTC(),
	}
	if step, st := r.soFar(); step != "" {
		s.Timings[step+"_seconds"], s.Compilations[step] = st.Seconds, st.Compilations
	}
	for _, f := range r.CV.Folds {
		fs := FoldSummary{Fold: f.Index, Epochs: len(f.History.Epochs), ValLoss: f.Validation.Loss,
			ValAccuracy: finite(f.Validation.Accuracy), Seconds: f.Seconds}
		if f.Test != nil {
			fs.TestLoss, fs.TestAccuracy = f.Test.Loss, finite(f.Test.Accuracy)
		}
		s.Folds = append(s.Folds, fs)
	}
	for _, f := range r.figures {
		s.Figures = append(s.Figures, f.Name+".svg", f.Name+".png")
	}
	for _, a := range r.anims {
		s.Figures = append(s.Figures, a.Name+".gif")
	}
	return s, nil
}

// writeSummary stages summary.json and report.md.
func (r *Run) writeSummary(st *stage, s *Summary) error {
	if err := st.writeJSON(FileSummary, s); err != nil {
		return err
	}
	return st.write(FileReport, []byte(report(s, r.figureTitles())))
}

func (r *Run) figureTitles() map[string]string {
	t := map[string]string{}
	for _, f := range r.figures {
		t[f.Name] = f.Title
	}
	return t
}

// report is report.md: the numbers, then every figure.
func report(s *Summary, titles map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: study %q\n\n", strings.ToUpper(s.Task[:1])+s.Task[1:], s.Study)
	fmt.Fprintf(&b, "Preset `%s`, seed %d, %s; padding %s (batch_bits %d, width_bits %d). Finished %s.\n\n",
		s.Preset, s.Seed, s.BackendDetail, s.Padding.Setting, s.Padding.BatchBits, s.Padding.WidthBits, s.Finished.Format(time.RFC3339))

	fmt.Fprintf(&b, "## Study\n\n| | |\n|---|---|\n")
	st := s.StudyStats
	fmt.Fprintf(&b, "| finished trials | %d |\n| pruned trials | %d |\n| complete trials | %d |\n", st.Finished, st.Pruned, st.Complete)
	if st.Failed > 0 {
		fmt.Fprintf(&b, "| failed trials | %d |\n", st.Failed)
	}
	if st.BestValue != nil {
		fmt.Fprintf(&b, "| best value | %.4g (trial %d) |\n", *st.BestValue, st.BestNumber)
	}
	fmt.Fprintf(&b, "\n### Hyperparameters found\n\n| parameter | value |\n|---|---|\n")
	for _, n := range slices.Sorted(maps.Keys(st.BestParams)) {
		fmt.Fprintf(&b, "| %s | %v |\n", n, st.BestParams[n])
	}

	fmt.Fprintf(&b, "\n## Cross-validation (k = %d)\n\n| fold | epochs | val loss | test loss |", len(s.Folds))
	classification := s.Task == TaskClassification
	if classification {
		fmt.Fprintf(&b, " val accuracy | test accuracy |")
	}
	fmt.Fprintf(&b, " seconds |\n|---|---|---|---|")
	if classification {
		fmt.Fprintf(&b, "---|---|")
	}
	fmt.Fprintf(&b, "---|\n")
	for _, f := range s.Folds {
		mark := ""
		if f.Fold == s.BestFold {
			mark = " (best)"
		}
		fmt.Fprintf(&b, "| %d%s | %d | %.4f | %.4f |", f.Fold, mark, f.Epochs, f.ValLoss, f.TestLoss)
		if classification {
			fmt.Fprintf(&b, " %s | %s |", pct(f.ValAccuracy), pct(f.TestAccuracy))
		}
		fmt.Fprintf(&b, " %.1f |\n", f.Seconds)
	}
	fmt.Fprintf(&b, "\n## Test set\n\n| metric | value |\n|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(s.Metrics)) {
		fmt.Fprintf(&b, "| %s | %.4f |\n", k, s.Metrics[k])
	}
	fmt.Fprintf(&b, "\n## Timings\n\n")
	if s.StudyRuns > 1 {
		fmt.Fprintf(&b, "The study's seconds add up its %d runs.\n\n", s.StudyRuns)
	}
	fmt.Fprintf(&b, "| step | seconds | graphs compiled | compiling, s |\n|---|---|---|---|\n")
	for _, k := range stepOrder(s.Timings) {
		step := strings.TrimSuffix(k, "_seconds")
		c := s.Compilations[step]
		fmt.Fprintf(&b, "| %s | %.1f | %d | %.1f |\n", step, s.Timings[k], c.Graphs, c.Seconds)
	}
	fmt.Fprintf(&b, "\n## Figures\n\n")
	for _, f := range s.Figures {
		switch {
		case strings.HasSuffix(f, ".png"):
			name := strings.TrimSuffix(f, ".png")
			title := titles[name]
			if title == "" {
				title = name
			}
			fmt.Fprintf(&b, "### %s\n\n![%s](%s)\n\n", title, name, f)
		case strings.HasSuffix(f, ".gif"):
			fmt.Fprintf(&b, "### %s\n\n![%s](%s)\n\n", f, f, f)
		}
	}
	return b.String()
}

// stepOrder lists the timings in the order the steps run (study, cv,
// results), any other after them by name.
func stepOrder(timings map[string]float64) []string {
	rank := map[string]int{"study_seconds": 1, "cv_seconds": 2, "results_seconds": 3}
	keys := slices.Sorted(maps.Keys(timings))
	slices.SortStableFunc(keys, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = len(rank) + 1
		}
		if rb == 0 {
			rb = len(rank) + 1
		}
		return ra - rb
	})
	return keys
}

func pct(x *float64) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *x)
}

// Close releases the study's storage (its journal, or its connections). A run is not usable afterwards.
func (r *Run) Close() error {
	if r.Study == nil {
		return nil
	}
	return r.Study.Storage().Close()
}

// ReadSummary reads summary.json of the configuration's results folder,
// which WriteResults wrote (in another process, or another notebook cell).
func ReadSummary(cfg Config) (*Summary, error) {
	raw, err := os.ReadFile(filepath.Join(cfg.ResultsDir(), FileSummary))
	if err != nil {
		return nil, err
	}
	var sum Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		return nil, fmt.Errorf("%s: %w", FileSummary, err)
	}
	return &sum, nil
}
