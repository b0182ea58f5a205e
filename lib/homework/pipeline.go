package homework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/nn"
	"github.com/dlworkbench/hw1/lib/plot"
)

// Options are the parts of a run that are not configuration: where progress
// goes.
type Options struct {
	// Log receives one line per trial, per fold and per step (os.Stderr when
	// nil; io.Discard silences it).
	Log io.Writer
	// Progress is the per-epoch display of the cross-validation's training
	// (a bar on a terminal, a live display in GoNB).
	Progress nn.ProgressMode
	// FoldCallbacks, when set, adds per-epoch callbacks to each fold of the
	// cross-validation (LiveLossCurves draws the curves as they train).
	FoldCallbacks func(fold int) []nn.Callback
	// Context, when set, interrupts the run once it is done (Ctrl-C): the
	// running trial is recorded failed ("interrupted"), training stops at the
	// next batch or epoch, nothing of the results folder is replaced, and the
	// step returns an error wrapping ErrInterrupted. Rerunning resumes.
	Context context.Context
}

// ErrInterrupted is wrapped by the error of a step stopped by
// Options.Context.
var ErrInterrupted = errors.New("interrupted")

// interrupted is the error of a step stopped by the run's context.
func (r *run) interrupted(step string) error {
	return fmt.Errorf("%s: %w (%w)", step, ErrInterrupted, r.ctx().Err())
}

// ctx is the run's context (never nil).
func (r *run) ctx() context.Context {
	if r.opts.Context == nil {
		return context.Background()
	}
	return r.opts.Context
}

// stopOnDone is a per-epoch callback that ends a fold's training once the
// run's context is done.
func (r *run) stopOnDone(_ *nn.Model, st nn.EpochStats) error {
	if err := r.ctx().Err(); err != nil {
		return fmt.Errorf("after epoch %d: %w: %w", st.Epoch, ErrInterrupted, err)
	}
	return nil
}

// foldCallbacks joins the run's own per-fold callbacks with the caller's.
func (r *run) foldCallbacks(own func(fold int) []nn.Callback) func(fold int) []nn.Callback {
	return func(fold int) []nn.Callback {
		cbs := []nn.Callback{r.stopOnDone}
		if own != nil {
			cbs = append(cbs, own(fold)...)
		}
		if r.opts.FoldCallbacks != nil {
			cbs = append(cbs, r.opts.FoldCallbacks(fold)...)
		}
		return cbs
	}
}

// Task is what both runs (RegressionRun, ClassificationRun) offer, for code
// that drives either one.
type Task interface {
	RunStudy() error
	RunCV() error
	WriteResults() (*Summary, error)
	// RunTrials is a worker's part of the study: its trials, and nothing
	// else (WorkerReport says what it did).
	RunTrials() error
	WorkerReport() (*WorkerReport, error)
	Close() error
}

// RunAll runs a task's study and cross-validation, then writes its results
// folder. It leaves the task open: its figures and models stay usable.
func RunAll(t Task) (*Summary, error) {
	if err := t.RunStudy(); err != nil {
		return nil, err
	}
	if err := t.RunCV(); err != nil {
		return nil, err
	}
	return t.WriteResults()
}

// RunWorker runs trials of a task's study until the target shared by its
// workers is reached, and nothing else: no cross-validation, no results
// (the process that runs RunAll on the study writes them, from every
// worker's trials). The results folder holds only study.json, the record
// this machine checks the study against.
func RunWorker(t Task) (*WorkerReport, error) {
	if err := t.RunTrials(); err != nil {
		return nil, err
	}
	return t.WorkerReport()
}

// WorkerReport is what a worker (RunTrials) leaves: the study as it stands
// and the trials this process ran.
type WorkerReport struct {
	Task    string `json:"task"`
	Study   string `json:"study"`
	Storage string `json:"storage"`
	// Ran lists the trials this process ran, in the order it ran them.
	Ran        []int     `json:"ran"`
	StudyStats hpo.Stats `json:"study_stats"`
}

// WorkerReport says what the last RunTrials (or RunStudy) did.
func (r *run) WorkerReport() (*WorkerReport, error) {
	if r.Study == nil {
		return nil, fmt.Errorf("the study has not run yet: call RunTrials first")
	}
	stats, err := r.Study.Stats()
	if err != nil {
		return nil, fmt.Errorf("study %q: %w", r.Config.Study, err)
	}
	r.mu.Lock()
	ran := slices.Clone(r.ran)
	r.mu.Unlock()
	return &WorkerReport{Task: r.Config.Task, Study: r.Config.Study, Storage: r.Config.StudyStorage(), Ran: ran, StudyStats: stats}, nil
}

// run is what both tasks share: the configuration, the backend, the results
// folder, the study and the cross-validation.
type run struct {
	Config  Config
	Backend *backend.Choice
	// Study is the search, once RunStudy has run.
	Study *hpo.Study
	// Best is the model of the study's best trial (build_opt_model).
	Best Model
	// CV is the k-fold run of the best model, once RunCV has run.
	CV *cv.Result
	// Padding is the shape buckets of every model the study and the
	// cross-validation build (Config.Padding on this backend).
	Padding nn.Padding
	// Timings holds the seconds each step took, by "<step>_seconds":
	// study_seconds is the study's over every run of it on the results
	// folder (study_timings.json), this process's included; cv_seconds is
	// the last RunCV's and results_seconds the last WriteResults'.
	Timings map[string]float64
	// Compilations are the graphs each step compiled, by step ("study",
	// "cv", "results"), counted as Timings.
	Compilations map[string]nn.CompileStats
	// StudyRuns is how many runs of the study study_seconds adds up.
	StudyRuns int

	log  io.Writer
	opts Options
	res  *results
	// figures and anims are what the last WriteResults saved.
	figures []*plot.Figure
	anims   []*plot.Animation
	// studyFigs caches StudyFigures until the study runs again.
	studyFigs []*plot.Figure
	// current is the step running now, for the summary written during it.
	current struct {
		step     string
		start    time.Time
		compiled nn.CompileStats
	}

	// mu guards optimizing, the study while its trials run, which Interrupt
	// may reach from another goroutine, and ran, the trials this process ran
	// in the last RunStudy or RunTrials.
	mu         sync.Mutex
	optimizing *hpo.Study
	ran        []int
}

// Interrupt records the trial running now, if any, as failed ("interrupted")
// at once: for a process about to exit without waiting for it (a second
// Ctrl-C). Without it the trial stays RUNNING until the study reopens.
func (r *run) Interrupt() error {
	r.mu.Lock()
	s := r.optimizing
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Interrupt()
}

// init validates cfg for task (an empty cfg.Task means task) and chooses
// the backend. The task then loads its data and calls open.
func (r *run) init(task string, cfg Config, opts Options) error {
	if cfg.Task == "" {
		cfg.Task = task
	}
	if cfg.Task != task {
		return fmt.Errorf("task: %q given to the %s task", cfg.Task, task)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	choice, err := ChooseBackend(task, cfg.Backend)
	if err != nil {
		return err
	}
	fmt.Fprintln(opts.Log, choice)
	r.Config, r.Backend, r.log, r.opts = cfg, choice, opts.Log, opts
	r.Padding = cfg.Padding.Resolve(choice)
	r.Timings, r.Compilations = map[string]float64{}, map[string]nn.CompileStats{}
	return nil
}

// open checks the configuration against the data (checkData), then opens
// the results folder, creating it or repairing what an interrupted run left
// there: a refused run leaves no trace.
func (r *run) open(cvPoints, studyTrain, studyVal int) error {
	if err := r.checkData(cvPoints, studyTrain, studyVal); err != nil {
		return err
	}
	if r.Config.storageKind() == inJournal {
		if err := checkJournalPath(r.Config.Storage); err != nil {
			return err
		}
	}
	res, err := openResults(r.Config.ResultsDir())
	if err != nil {
		return err
	}
	r.res = res
	return nil
}

// checkData refuses, before the first trial, what the data make impossible:
// more folds than points to split, or a largest model whose batches cannot
// fit in memory. cvPoints is the size of the cross-validation's training
// set; studyTrain and studyVal are the study's.
func (r *run) checkData(cvPoints, studyTrain, studyVal int) error {
	if r.Config.Folds > cvPoints {
		return fieldErr("folds", "k=%d folds of %d training points, want k <= %d", r.Config.Folds, cvPoints, cvPoints)
	}
	batch := min(r.Config.Space.BatchSize.High, max(studyTrain, cvPoints))
	eval := min(500, max(studyVal, cvPoints))
	return r.Config.checkModelSize(max(batch, eval))
}

// Dir is the results folder.
func (r *run) Dir() string { return r.res.dir }

// timed runs one step of this process (cv, results) and records what it
// took: its seconds and the graphs it compiled.
func (r *run) timed(step string, f func() error) error {
	st, err := r.measure(step, f)
	r.Timings[step+"_seconds"], r.Compilations[step] = st.Seconds, st.Compilations
	return err
}

// measure runs the step f, which the summary sees as running (soFar).
func (r *run) measure(step string, f func() error) (stepStats, error) {
	r.current.step, r.current.start, r.current.compiled = step, time.Now(), nn.Compilations()
	defer func() { r.current.step = "" }()
	return measure(f)
}

// soFar is what the running step has taken until now: the part of the
// results step before summary.json is written.
func (r *run) soFar() (string, stepStats) {
	if r.current.step == "" {
		return "", stepStats{}
	}
	return r.current.step, stepStats{Seconds: time.Since(r.current.start).Seconds(), Compilations: nn.Compilations().Sub(r.current.compiled)}
}

// timedStudy runs the study step (f) and adds its time to the study's
// record in the results folder (study_timings.json), which a later process
// reports: a run that finished or was interrupted, or that ran trials, is
// added; one refused before its first trial is not (it leaves no trace). A
// worker's time is only this process's (it writes only study.json).
func (r *run) timedStudy(worker bool, f func() error) error {
	st, err := r.measure("study", f)
	r.mu.Lock()
	ran := len(r.ran)
	r.mu.Unlock()
	total := studyTime{Seconds: r.Timings["study_seconds"] + st.Seconds, Runs: r.StudyRuns + 1,
		Compilations: addStats(r.Compilations["study"], st.Compilations)}
	if !worker && (err == nil || errors.Is(err, ErrInterrupted) || ran > 0) {
		if rec, rerr := r.res.addStudyTime(st.Seconds, st.Compilations); rerr != nil {
			fmt.Fprintf(r.log, "study %q: its time is not recorded: %v\n", r.Config.Study, rerr)
		} else {
			total = rec
		}
	}
	r.Timings["study_seconds"], r.Compilations["study"], r.StudyRuns = total.Seconds, total.Compilations, total.Runs
	if err != nil {
		return err
	}
	line := fmt.Sprintf("study %q: done in %.1f s", r.Config.Study, st.Seconds)
	if total.Runs > 1 {
		line += fmt.Sprintf(" (%.1f s over %d runs)", total.Seconds, total.Runs)
	}
	fmt.Fprintf(r.log, "%s, %s\n", line, st.Compilations)
	return nil
}

// addStats adds two counts of compilations.
func addStats(a, b nn.CompileStats) nn.CompileStats {
	return nn.CompileStats{Graphs: a.Graphs + b.Graphs, Seconds: a.Seconds + b.Seconds}
}

// timedCV runs the cross-validation step and says what it took.
func (r *run) timedCV(f func() error) error {
	err := r.timed("cv", f)
	if err == nil {
		fmt.Fprintf(r.log, "cross-validation: done in %.1f s, %s\n", r.Timings["cv_seconds"], r.Compilations["cv"])
	}
	return err
}

// cvConfig is the cross-validation's configuration of the best model, with
// the run's padding and its callbacks, progress and log.
func (r *run) cvConfig(hp nn.Hyperparameters, own func(fold int) []nn.Callback) cv.Config {
	padding := r.Padding
	return cv.Config{
		Spec: r.Best.Spec, Hyperparameters: hp, Folds: r.Config.Folds, Seed: r.Config.Seed, Padding: &padding,
		Callbacks: r.foldCallbacks(own), Progress: r.opts.Progress, ProgressOut: r.log, Log: r.log,
	}
}

func (r *run) studyDone() error {
	if r.Study == nil || r.Best.Spec.Kind == "" {
		return fmt.Errorf("the study has not run yet: call RunStudy first")
	}
	return nil
}

func (r *run) cvDone() error {
	if r.CV == nil {
		return fmt.Errorf("the cross-validation has not run yet: call RunCV first")
	}
	return nil
}

// writeStudyFiles stages the study statistics (text and JSON), the best
// parameters and the trials CSV.
func (r *run) writeStudyFiles(st *stage) error {
	stats, err := r.Study.Stats()
	if err != nil {
		return err
	}
	var text, js, csv strings.Builder
	if err := stats.WriteText(&text); err != nil {
		return err
	}
	if err := stats.WriteJSON(&js); err != nil {
		return err
	}
	trials, err := r.Study.Trials()
	if err != nil {
		return err
	}
	if err := hpo.WriteTrialsCSV(&csv, trials); err != nil {
		return err
	}
	for name, body := range map[string]string{FileStudyStats: text.String(), FileStudyStatsJSON: js.String(), FileTrialsCSV: csv.String()} {
		if err := st.write(name, []byte(body)); err != nil {
			return err
		}
	}
	best, err := r.Study.BestParams()
	if err != nil {
		return err
	}
	return st.writeJSON(FileBestParams, map[string]any{"params": best, "model": r.Best})
}

// StudyFigures draws the study's figures: optimization history, importances,
// contour of the most important parameters, slice, parallel coordinates and
// intermediate values.
func (r *run) StudyFigures() ([]*plot.Figure, error) {
	if err := r.studyDone(); err != nil {
		return nil, err
	}
	if r.studyFigs != nil {
		return r.studyFigs, nil
	}
	trials, err := r.Study.Trials()
	if err != nil {
		return nil, err
	}
	// fANOVA over the parameters every complete trial has, as Optuna.
	imp := map[string]float64{}
	if pis, err := r.Study.ParamImportances(hpo.ImportanceOptions{}); err != nil {
		fmt.Fprintf(r.log, "param importances: %v\n", err)
	} else {
		for _, pi := range pis {
			imp[pi.Name] = pi.Importance
		}
	}
	dir := "minimize"
	if r.Study.Direction() == hpo.Maximize {
		dir = "maximize"
	}
	s := plot.Study{Name: r.Config.Study, Direction: dir, Objective: objectiveName(r.Config.Task), Params: plotParams(trials)}
	for i := range trials {
		e := &trials[i]
		pt := plot.Trial{Number: e.Number, State: string(e.State), Value: e.Value,
			Params: e.NumericParams(), CategoricalParams: e.LabelParams(), Intermediate: map[int]float64{}}
		for step, v := range e.Intermediate {
			pt.Intermediate[step] = v
		}
		s.Trials = append(s.Trials, pt)
	}
	figs, err := plot.StudyFigures(plot.StudyResults{Study: s, Importances: imp})
	if err != nil {
		if len(imp) > 0 {
			return nil, err
		}
		// Without importances (fewer than two complete trials) the
		// importance and contour figures cannot be drawn: keep the others.
		fmt.Fprintf(r.log, "study figures: %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	r.studyFigs = figs
	return figs, nil
}

// plotParams describes every parameter the trials used, for the axes.
func plotParams(trials []hpo.FrozenTrial) []plot.Param {
	seen := map[string]hpo.Distribution{}
	for _, t := range trials {
		for n, d := range t.Distributions {
			seen[n] = d
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]plot.Param, 0, len(names))
	for _, n := range names {
		d := seen[n]
		p := plot.Param{Name: n, Low: d.Low, High: d.High, Log: d.Log}
		if d.Kind == hpo.CategoricalKind {
			p.Choices = d.Choices
		}
		out = append(out, p)
	}
	return out
}

// histories turns the folds' histories into the figures' plain form.
func histories(res *cv.Result) []plot.History {
	out := make([]plot.History, len(res.Folds))
	for i, f := range res.Folds {
		h := plot.History{}
		for _, e := range f.History.Epochs {
			h.Epochs = append(h.Epochs, e.Epoch)
			h.TrainLoss = append(h.TrainLoss, e.TrainLoss)
			h.ValLoss = append(h.ValLoss, e.ValLoss)
			h.TrainAcc = append(h.TrainAcc, e.TrainAccuracy)
			h.ValAcc = append(h.ValAcc, e.ValAccuracy)
		}
		out[i] = h
	}
	return out
}

// saveCheckpoints stages each fold's model as checkpoints/fold_NN.ckpt.
func (r *run) saveCheckpoints(st *stage) ([]string, error) {
	var names []string
	for _, f := range r.CV.Folds {
		name := fmt.Sprintf("%s/"+checkpointNameFmt, checkpointDir, f.Index)
		if err := f.Model.Save(st.path(name)); err != nil {
			return nil, st.failed(name, err)
		}
		names = append(names, name)
	}
	return names, nil
}

// saveFigures stages every figure as SVG and PNG, every animation as GIF.
func (r *run) saveFigures(st *stage, figs []*plot.Figure, anims []*plot.Animation) error {
	for _, f := range figs {
		if err := f.Save(st.dir); err != nil {
			return st.failed(f.Name+".svg/.png", err)
		}
	}
	for _, a := range anims {
		if err := a.Save(st.dir); err != nil {
			return st.failed(a.Name+".gif", err)
		}
	}
	r.figures, r.anims = figs, anims // what summary.json and report.md list
	return nil
}

// writeResults writes every output of the run (config.json, the study's
// files, the figures and animations, the checkpoints, summary.json with the
// task's metrics, report.md) into a stage, then commits it: the results
// folder's outputs are replaced as one unit, or not at all when a step fails
// or the run is interrupted.
func (r *run) writeResults(figs []*plot.Figure, anims []*plot.Animation, metrics func(*Summary) error) (*Summary, error) {
	if err := r.ctx().Err(); err != nil {
		return nil, r.interrupted("results")
	}
	st, err := r.res.stage()
	if err != nil {
		return nil, err
	}
	defer st.discard()
	if err := st.writeJSON(FileConfig, r.Config.record()); err != nil {
		return nil, err
	}
	if err := r.writeStudyFiles(st); err != nil {
		return nil, err
	}
	if err := r.saveFigures(st, figs, anims); err != nil {
		return nil, err
	}
	ckpts, err := r.saveCheckpoints(st)
	if err != nil {
		return nil, err
	}
	sum, err := r.summary(ckpts)
	if err != nil {
		return nil, err
	}
	if err := metrics(sum); err != nil {
		return nil, err
	}
	if err := r.writeSummary(st, sum); err != nil {
		return nil, err
	}
	if err := r.ctx().Err(); err != nil {
		return nil, r.interrupted("results")
	}
	if err := st.commit(); err != nil {
		return nil, err
	}
	return sum, nil
}
