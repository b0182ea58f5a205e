package notebook

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/dlworkbench/hw1/lib/data"
	"github.com/dlworkbench/hw1/lib/homework"
	"github.com/dlworkbench/hw1/lib/hpo"
)

// describe writes a searched range the way the seed's listings do.
func describe(low, high any, logScale bool) string {
	s := fmt.Sprintf("[%v, %v]", low, high)
	if logScale {
		s += " (log scale)"
	}
	return s
}

// SpaceTable is the task's search space under the configuration's preset:
// the seed's Listing 1 (regression) or 2 (classification).
func SpaceTable(cfg homework.Config) Table {
	s := cfg.Space
	t := Table{
		Title:  fmt.Sprintf("Search space of the %s preset (%d trials):", cfg.Preset, cfg.Trials),
		Header: []string{"hyperparameter", "searched over"},
	}
	add := func(name, desc string) { t.Rows = append(t.Rows, []string{name, desc}) }
	if cfg.Task == homework.TaskRegression {
		add("hidden layers", describe(s.NLayers.Low, s.NLayers.High, s.NLayers.Log))
		add("units per layer", describe(s.NUnits.Low, s.NUnits.High, s.NUnits.Log))
		add("dropout per layer", describe(s.Dropout.Low, s.Dropout.High, s.Dropout.Log))
	}
	add("epochs", describe(s.Epochs.Low, s.Epochs.High, s.Epochs.Log))
	add("batch size", describe(s.BatchSize.Low, s.BatchSize.High, s.BatchSize.Log))
	add("learning rate", describe(s.LearningRate.Low, s.LearningRate.High, s.LearningRate.Log))
	add("weight decay (L2)", describe(s.WeightDecay.Low, s.WeightDecay.High, s.WeightDecay.Log))
	if cfg.Task == homework.TaskClassification {
		add("dropout (each of 2 layers)", describe(s.Dropout.Low, s.Dropout.High, s.Dropout.Log))
	}
	add("momentum (SGD only)", describe(s.Momentum.Low, s.Momentum.High, s.Momentum.Log))
	add("optimizer", strings.Join(s.Optimizers, ", "))
	add("activation (fixed)", s.Activation)
	add("loss (fixed)", s.Loss)
	if cfg.Task == homework.TaskClassification {
		t.Note = fmt.Sprintf("The study trains on %d images and validates on %d.", cfg.StudyTrain, cfg.StudyVal)
	}
	return t
}

// StudyTables are the study numbers and the best trial's parameters
// (StatsTable, BestParamsTable): the seed's Tables I and II (regression),
// III and IV (classification).
func StudyTables(s *hpo.Study) ([]Table, error) {
	st, err := s.Stats()
	if err != nil {
		return nil, err
	}
	return []Table{StatsTable(st), BestParamsTable(st)}, nil
}

// StatsTable is how many trials a study has in each state and its best
// value.
func StatsTable(st hpo.Stats) Table {
	t := Table{Header: []string{"study numbers", ""}, Rows: [][]string{
		{"finished trials", fmt.Sprint(st.Finished)},
		{"pruned trials", fmt.Sprint(st.Pruned)},
		{"complete trials", fmt.Sprint(st.Complete)},
		{"failed trials", fmt.Sprint(st.Failed)},
		{"running trials", fmt.Sprint(st.Running)},
	}}
	if st.BestValue != nil {
		t.Rows = append(t.Rows, []string{"best value", fmt.Sprintf("%.4g (trial %d)", *st.BestValue, st.BestNumber)})
	}
	return t
}

// BestParamsTable is the best trial's parameters, by name.
func BestParamsTable(st hpo.Stats) Table {
	t := Table{Header: []string{"hyperparameters found", ""}}
	for _, n := range sortedKeys(st.BestParams) {
		t.Rows = append(t.Rows, []string{n, value(st.BestParams[n])})
	}
	return t
}

// value writes a parameter: floats to 4 significant digits.
func value(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%.4g", f)
	}
	return fmt.Sprint(v)
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ModelTable is the model BuildOptModel built (the seed's build_opt_model):
// the network and how it is trained.
func ModelTable(m homework.Model) Table {
	t := Table{Header: []string{"optimized model", ""}}
	add := func(name, v string) { t.Rows = append(t.Rows, []string{name, v}) }
	s, hp := m.Spec, m.Hyperparameters
	add("network", s.Kind)
	if len(s.Hidden) > 0 {
		add("hidden units", fmt.Sprint(s.Hidden))
	}
	if len(s.Dropout) > 0 {
		rates := make([]string, len(s.Dropout))
		for i, d := range s.Dropout {
			rates[i] = value(d)
		}
		add("dropout", strings.Join(rates, ", "))
	}
	add("epochs", fmt.Sprint(hp.Epochs))
	add("batch size", fmt.Sprint(hp.BatchSize))
	add("learning rate", value(hp.LearningRate))
	add("weight decay (L2)", value(hp.WeightDecay))
	add("optimizer", hp.Optimizer)
	if strings.EqualFold(hp.Optimizer, "SGD") {
		add("momentum", value(hp.Momentum))
	}
	return t
}

// score writes an optional number.
func score(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *p)
}

// FoldsTable is each model of the cross-validation, the best one on the
// test set marked; the accuracies only where the folds have them (the
// classification).
func FoldsTable(sum *homework.Summary) Table {
	accuracy := slices.ContainsFunc(sum.Folds, func(f homework.FoldSummary) bool {
		return f.ValAccuracy != nil || f.TestAccuracy != nil
	})
	// columns are the header and a fold's row; the accuracies only with them.
	columns := func(fold, epochs, valLoss, valAcc, testLoss, testAcc, seconds string) []string {
		if accuracy {
			return []string{fold, epochs, valLoss, valAcc, testLoss, testAcc, seconds}
		}
		return []string{fold, epochs, valLoss, testLoss, seconds}
	}
	t := Table{Header: columns("fold", "epochs", "val loss", "val acc", "test loss", "test acc", "seconds")}
	for _, f := range sum.Folds {
		fold := fmt.Sprint(f.Fold)
		if f.Fold == sum.BestFold {
			fold += " (best)"
		}
		t.Rows = append(t.Rows, columns(fold, fmt.Sprint(f.Epochs), fmt.Sprintf("%.4f", f.ValLoss), score(f.ValAccuracy),
			fmt.Sprintf("%.4f", f.TestLoss), score(f.TestAccuracy), fmt.Sprintf("%.1f", f.Seconds)))
	}
	return t
}

// MetricsTable is the summary's headline numbers on the test set.
func MetricsTable(sum *homework.Summary) Table {
	t := Table{Header: []string{"metric", "value"}}
	for _, n := range sortedKeys(sum.Metrics) {
		t.Rows = append(t.Rows, []string{strings.ReplaceAll(n, "_", " "), fmt.Sprintf("%.4f", sum.Metrics[n])})
	}
	return t
}

// RunTable is what a run took and where it is: its seconds, the graphs
// each step compiled, the study's storage when it is not in the results
// folder, and the results folder.
func RunTable(sum *homework.Summary) Table {
	t := Table{Header: []string{"run", ""}}
	total := 0.0
	for _, v := range sum.Timings {
		total += v
	}
	t.Rows = append(t.Rows, []string{"seconds", fmt.Sprintf("%.1f", total)})
	var compiled []string
	for _, step := range []string{"study", "cv", "results"} {
		if c, ok := sum.Compilations[step]; ok {
			compiled = append(compiled, fmt.Sprintf("%s %d graphs in %.1f s", step, c.Graphs, c.Seconds))
		}
	}
	if len(compiled) > 0 {
		t.Rows = append(t.Rows, []string{"compiled", strings.Join(compiled, ", ")})
	}
	if sum.Storage != "" {
		t.Rows = append(t.Rows, []string{"storage", sum.Storage})
	}
	t.Rows = append(t.Rows, []string{"results", sum.ResultsDir})
	return t
}

// SummaryTables are a whole run's numbers, hw1's closing lines: the study
// (StatsTable, under a line naming the task, study, preset and backend),
// the folds, the metrics and the run (RunTable).
func SummaryTables(sum *homework.Summary) []Table {
	stats := StatsTable(sum.StudyStats)
	stats.Title = fmt.Sprintf("%s study %q (preset %s, backend %s)", sum.Task, sum.Study, sum.Preset, sum.Backend)
	return []Table{stats, FoldsTable(sum), MetricsTable(sum), RunTable(sum)}
}

// WorkerTables are what a worker (homework.RunWorker) leaves: the study as
// it stands in the shared storage, the trials this process ran and the
// storage.
func WorkerTables(rep *homework.WorkerReport) []Table {
	stats := StatsTable(rep.StudyStats)
	stats.Title = fmt.Sprintf("%s study %q (worker)", rep.Task, rep.Study)
	ran := make([]string, len(rep.Ran))
	for i, n := range rep.Ran {
		ran[i] = fmt.Sprint(n)
	}
	return []Table{stats, {Header: []string{"worker", ""}, Rows: [][]string{
		{"ran here", fmt.Sprintf("%d: %s", len(rep.Ran), strings.Join(ran, " "))},
		{"storage", rep.Storage},
	}}}
}

// span is the smallest and largest of vs.
func span(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(vs), slices.Max(vs)
}

// RegressionDataTable says how many points each CSV file holds and the
// ranges of x and f(x).
func RegressionDataTable(train, test *data.CSVDataset) Table {
	t := Table{Header: []string{"set", "points", "x", "f(x)"}}
	for _, set := range []struct {
		name string
		d    *data.CSVDataset
	}{{"train", train}, {"test", test}} {
		xlo, xhi := span(set.d.Inputs)
		ylo, yhi := span(set.d.Labels)
		t.Rows = append(t.Rows, []string{set.name, fmt.Sprint(set.d.Len()),
			fmt.Sprintf("[%.2f, %.2f]", xlo, xhi), fmt.Sprintf("[%.2f, %.2f]", ylo, yhi)})
	}
	return t
}

// ClassesTable is how many training and test images each class has.
func ClassesTable(train, test *data.Images) Table {
	trainCounts, testCounts := train.ClassCounts(), test.ClassCounts()
	t := Table{
		Title:  fmt.Sprintf("%d training and %d test images of %dx%d pixels.", train.Len(), test.Len(), train.Rows, train.Cols),
		Header: []string{"label", "class", "train", "test"},
	}
	for c, name := range data.ClassNames {
		t.Rows = append(t.Rows, []string{fmt.Sprint(c), name, fmt.Sprint(trainCounts[c]), fmt.Sprint(testCounts[c])})
	}
	return t
}

// TrialsTable is the study's trials, one row each in number order (the
// last n when n > 0): state, value, the parameters it drew.
func TrialsTable(s *hpo.Study, n int) (Table, error) {
	trials, err := s.Trials()
	if err != nil {
		return Table{}, err
	}
	if n > 0 && len(trials) > n {
		trials = trials[len(trials)-n:]
	}
	t := Table{Header: []string{"trial", "state", "value", "parameters"}}
	for _, tr := range trials {
		params := tr.ExternalParams()
		parts := make([]string, 0, len(params))
		for _, name := range sortedKeys(params) {
			parts = append(parts, name+"="+value(params[name]))
		}
		v := "-"
		if !math.IsNaN(tr.Value) {
			v = fmt.Sprintf("%.4g", tr.Value)
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(tr.Number), strings.ToLower(string(tr.State)), v, strings.Join(parts, ", ")})
	}
	return t, nil
}
