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

// SpaceTable is the task's search space under the configuration's preset,
// as a markdown table: the seed's Listing 1 (regression) or 2
// (classification).
func SpaceTable(cfg homework.Config) string {
	s := cfg.Space
	type row struct{ name, desc string }
	var rows []row
	if cfg.Task == homework.TaskRegression {
		rows = append(rows,
			row{"hidden layers", describe(s.NLayers.Low, s.NLayers.High, s.NLayers.Log)},
			row{"units per layer", describe(s.NUnits.Low, s.NUnits.High, s.NUnits.Log)},
			row{"dropout per layer", describe(s.Dropout.Low, s.Dropout.High, s.Dropout.Log)})
	}
	rows = append(rows,
		row{"epochs", describe(s.Epochs.Low, s.Epochs.High, s.Epochs.Log)},
		row{"batch size", describe(s.BatchSize.Low, s.BatchSize.High, s.BatchSize.Log)},
		row{"learning rate", describe(s.LearningRate.Low, s.LearningRate.High, s.LearningRate.Log)},
		row{"weight decay (L2)", describe(s.WeightDecay.Low, s.WeightDecay.High, s.WeightDecay.Log)})
	if cfg.Task == homework.TaskClassification {
		rows = append(rows, row{"dropout (each of 2 layers)", describe(s.Dropout.Low, s.Dropout.High, s.Dropout.Log)})
	}
	rows = append(rows,
		row{"momentum (SGD only)", describe(s.Momentum.Low, s.Momentum.High, s.Momentum.Log)},
		row{"optimizer", strings.Join(s.Optimizers, ", ")},
		row{"activation (fixed)", s.Activation},
		row{"loss (fixed)", s.Loss})
	var md strings.Builder
	fmt.Fprintf(&md, "Search space of the **%s** preset (%d trials):\n\n| hyperparameter | searched over |\n|---|---|\n", cfg.Preset, cfg.Trials)
	for _, r := range rows {
		fmt.Fprintf(&md, "| %s | %s |\n", r.name, r.desc)
	}
	if cfg.Task == homework.TaskClassification {
		fmt.Fprintf(&md, "\nThe study trains on %d images and validates on %d.\n", cfg.StudyTrain, cfg.StudyVal)
	}
	return md.String()
}

// StudyTables are the study numbers and the best trial's parameters as
// markdown: the seed's Tables I and II (regression), III and IV
// (classification).
func StudyTables(s *hpo.Study) (string, error) {
	st, err := s.Stats()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| study numbers | |\n|---|---|\n")
	fmt.Fprintf(&b, "| finished trials | %d |\n| pruned trials | %d |\n| complete trials | %d |\n", st.Finished, st.Pruned, st.Complete)
	if st.BestValue != nil {
		fmt.Fprintf(&b, "| best value | %.4g (trial %d) |\n", *st.BestValue, st.BestNumber)
	}
	fmt.Fprintf(&b, "\n| hyperparameters found | |\n|---|---|\n")
	for _, n := range sortedKeys(st.BestParams) {
		fmt.Fprintf(&b, "| %s | %s |\n", n, value(st.BestParams[n]))
	}
	return b.String(), nil
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

// ModelTable is the model BuildOptModel built (the seed's build_opt_model)
// as markdown: the network and how it is trained.
func ModelTable(m homework.Model) string {
	var b strings.Builder
	b.WriteString("| optimized model | |\n|---|---|\n")
	s, hp := m.Spec, m.Hyperparameters
	fmt.Fprintf(&b, "| network | %s |\n", s.Kind)
	if len(s.Hidden) > 0 {
		fmt.Fprintf(&b, "| hidden units | %v |\n", s.Hidden)
	}
	if len(s.Dropout) > 0 {
		rates := make([]string, len(s.Dropout))
		for i, d := range s.Dropout {
			rates[i] = value(d)
		}
		fmt.Fprintf(&b, "| dropout | %s |\n", strings.Join(rates, ", "))
	}
	fmt.Fprintf(&b, "| epochs | %d |\n| batch size | %d |\n| learning rate | %s |\n| weight decay (L2) | %s |\n| optimizer | %s |\n",
		hp.Epochs, hp.BatchSize, value(hp.LearningRate), value(hp.WeightDecay), hp.Optimizer)
	if strings.EqualFold(hp.Optimizer, "SGD") {
		fmt.Fprintf(&b, "| momentum | %s |\n", value(hp.Momentum))
	}
	return b.String()
}

// score writes an optional number.
func score(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *p)
}

// FoldsTable is each model of the cross-validation as a markdown row.
func FoldsTable(sum *homework.Summary) string {
	var b strings.Builder
	b.WriteString("| fold | epochs | val loss | val acc | test loss | test acc | seconds |\n|---|---|---|---|---|---|---|\n")
	for _, f := range sum.Folds {
		best := ""
		if f.Fold == sum.BestFold {
			best = " (best)"
		}
		fmt.Fprintf(&b, "| %d%s | %d | %.4f | %s | %.4f | %s | %.1f |\n", f.Fold, best, f.Epochs, f.ValLoss, score(f.ValAccuracy), f.TestLoss, score(f.TestAccuracy), f.Seconds)
	}
	return b.String()
}

// MetricsTable is the summary's headline numbers as markdown.
func MetricsTable(sum *homework.Summary) string {
	var b strings.Builder
	b.WriteString("| metric | value |\n|---|---|\n")
	for _, n := range sortedKeys(sum.Metrics) {
		fmt.Fprintf(&b, "| %s | %.4f |\n", strings.ReplaceAll(n, "_", " "), sum.Metrics[n])
	}
	return b.String()
}

// span is the smallest and largest of vs.
func span(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(vs), slices.Max(vs)
}

// RegressionDataTable says how many points each CSV file holds and the
// ranges of x and f(x), as markdown.
func RegressionDataTable(train, test *data.CSVDataset) string {
	var b strings.Builder
	b.WriteString("| set | points | x | f(x) |\n|---|---|---|---|\n")
	for _, set := range []struct {
		name string
		d    *data.CSVDataset
	}{{"train", train}, {"test", test}} {
		xlo, xhi := span(set.d.Inputs)
		ylo, yhi := span(set.d.Labels)
		fmt.Fprintf(&b, "| %s | %d | [%.2f, %.2f] | [%.2f, %.2f] |\n", set.name, set.d.Len(), xlo, xhi, ylo, yhi)
	}
	return b.String()
}

// ClassesTable is how many training and test images each class has, as
// markdown.
func ClassesTable(train, test *data.Images) string {
	trainCounts, testCounts := train.ClassCounts(), test.ClassCounts()
	var b strings.Builder
	fmt.Fprintf(&b, "%d training and %d test images of %dx%d pixels.\n\n", train.Len(), test.Len(), train.Rows, train.Cols)
	b.WriteString("| label | class | train | test |\n|---|---|---|---|\n")
	for c, name := range data.ClassNames {
		fmt.Fprintf(&b, "| %d | %s | %d | %d |\n", c, name, trainCounts[c], testCounts[c])
	}
	return b.String()
}

// TrialsTable is the study's trials as markdown, one row each in number
// order (the last n when n > 0): state, value, the parameters it drew.
func TrialsTable(s *hpo.Study, n int) (string, error) {
	trials, err := s.Trials()
	if err != nil {
		return "", err
	}
	if n > 0 && len(trials) > n {
		trials = trials[len(trials)-n:]
	}
	var b strings.Builder
	b.WriteString("| trial | state | value | parameters |\n|---|---|---|---|\n")
	for _, t := range trials {
		params := t.ExternalParams()
		parts := make([]string, 0, len(params))
		for _, name := range sortedKeys(params) {
			parts = append(parts, name+"="+value(params[name]))
		}
		v := "-"
		if !math.IsNaN(t.Value) {
			v = fmt.Sprintf("%.4g", t.Value)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", t.Number, strings.ToLower(string(t.State)), v, strings.Join(parts, ", "))
	}
	return b.String(), nil
}
