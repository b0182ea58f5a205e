package homework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dlworkbench/hw1/lib/backend"
	"github.com/dlworkbench/hw1/lib/cv"
	"github.com/dlworkbench/hw1/lib/figures"
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
	// cross-validation (notebook.LiveLossCurves draws the curves as they
	// train).
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
func (r *Run) interrupted(step string) error {
	return fmt.Errorf("%s: %w (%w)", step, ErrInterrupted, r.ctx().Err())
}

// ctx is the run's context (never nil).
func (r *Run) ctx() context.Context {
	if r.opts.Context == nil {
		return context.Background()
	}
	return r.opts.Context
}

// stopOnDone is a per-epoch callback that ends a fold's training once the
// run's context is done.
func (r *Run) stopOnDone(_ *nn.Model, st nn.EpochStats) error {
	if err := r.ctx().Err(); err != nil {
		return fmt.Errorf("after epoch %d: %w: %w", st.Epoch, ErrInterrupted, err)
	}
	return nil
}

// foldCallbacks joins the run's own per-fold callbacks with the caller's.
func (r *Run) foldCallbacks(own func(fold int) []nn.Callback) func(fold int) []nn.Callback {
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

// RunAll runs every step of the task: the study, the model of its best
// trial, the cross-validation, then the results folder. It leaves the run
// open: its figures and models stay usable.
func RunAll(r *Run) (*Summary, error) {
	if err := r.RunStudy(); err != nil {
		return nil, err
	}
	if _, err := r.BuildOptModel(); err != nil {
		return nil, err
	}
	if err := r.RunCV(); err != nil {
		return nil, err
	}
	return r.WriteResults()
}

// RunWorker runs trials of the task's study until the target shared by its
// workers is reached, and nothing else: no cross-validation, no results
// (the process that runs RunAll on the study writes them, from every
// worker's trials). The results folder holds only study.json, the record
// this machine checks the study against.
func RunWorker(r *Run) (*WorkerReport, error) {
	if err := r.RunTrials(); err != nil {
		return nil, err
	}
	return r.WorkerReport()
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
func (r *Run) WorkerReport() (*WorkerReport, error) {
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

// Run is one task of the homework, step by step as the seed's scripts
// (NN_REG_OPTUNA_KFOLD.py, Hype_study_CNN.py): New (or NewRegression,
// NewClassification), then RunStudy, BuildOptModel, RunCV and WriteResults;
// RunAll does all of them. Both tasks take the same steps: what differs (the
// data, how the study and the folds split them, the test scores, the
// figures) is the task's part, RegressionTask or ClassificationTask.
type Run struct {
	// Config is the run's configuration, validated.
	Config Config
	// Backend is where every graph of the run runs.
	Backend *backend.Choice
	// Study is the search, once RunStudy has run.
	Study *hpo.Study
	// Best is the model of the study's best trial, once BuildOptModel has
	// run (the seed's build_opt_model).
	Best Model
	// CV is the k-fold run of the best model, once RunCV has run.
	CV *cv.Result
	// Regression is the regression's part (nil for the classification).
	Regression *RegressionTask
	// Classification is the classification's part (nil for the regression).
	Classification *ClassificationTask
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

	task task
	log  io.Writer
	opts Options
	res  *results
	// figures and anims are what the last WriteResults saved.
	figures []*plot.Figure
	anims   []*plot.Animation
	// studyFigs caches StudyFigures until the study runs again; figs and
	// animations cache Figures until the cross-validation runs again.
	studyFigs  []*plot.Figure
	figs       []*plot.Figure
	animations []*plot.Animation
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
func (r *Run) Interrupt() error {
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
func (r *Run) init(task string, cfg Config, opts Options) error {
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
	r.Padding = cfg.Padding.Resolve(choice, task)
	r.Timings, r.Compilations = map[string]float64{}, map[string]nn.CompileStats{}
	return nil
}

// open checks the configuration against the data (checkData), then opens
// the results folder, creating it or repairing what an interrupted run left
// there: a refused run leaves no trace.
func (r *Run) open(cvPoints, studyTrain, studyVal int) error {
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
func (r *Run) checkData(cvPoints, studyTrain, studyVal int) error {
	if r.Config.Folds > cvPoints {
		return fieldErr("folds", "k=%d folds of %d training points, want k <= %d", r.Config.Folds, cvPoints, cvPoints)
	}
	batch := min(r.Config.Space.BatchSize.High, max(studyTrain, cvPoints))
	eval := min(500, max(studyVal, cvPoints))
	return r.Config.checkModelSize(max(batch, eval))
}

// Dir is the results folder.
func (r *Run) Dir() string { return r.res.dir }

// timed runs one step of this process (cv, results) and records what it
// took: its seconds and the graphs it compiled.
func (r *Run) timed(step string, f func() error) error {
	st, err := r.measure(step, f)
	r.Timings[step+"_seconds"], r.Compilations[step] = st.Seconds, st.Compilations
	return err
}

// measure runs the step f, which the summary sees as running (soFar).
func (r *Run) measure(step string, f func() error) (stepStats, error) {
	r.current.step, r.current.start, r.current.compiled = step, time.Now(), nn.Compilations()
	defer func() { r.current.step = "" }()
	return measure(f)
}

// soFar is what the running step has taken until now: the part of the
// results step before summary.json is written.
func (r *Run) soFar() (string, stepStats) {
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
func (r *Run) timedStudy(worker bool, f func() error) error {
	st, err := r.measure("study", f)
	r.mu.Lock()
	ran := len(r.ran)
	r.mu.Unlock()
	// A run counts as one when it trained (or was interrupted): a notebook
	// cell that reopens a finished study only adds its seconds.
	countRun := ran > 0 || errors.Is(err, ErrInterrupted)
	total := studyTime{Seconds: r.Timings["study_seconds"] + st.Seconds, Runs: r.StudyRuns,
		Compilations: addStats(r.Compilations["study"], st.Compilations)}
	if countRun {
		total.Runs++
	}
	if !worker && (err == nil || errors.Is(err, ErrInterrupted) || ran > 0) {
		if rec, rerr := r.res.addStudyTime(st.Seconds, st.Compilations, countRun); rerr != nil {
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
func (r *Run) timedCV(f func() error) error {
	err := r.timed("cv", f)
	if err == nil {
		fmt.Fprintf(r.log, "cross-validation: done in %.1f s, %s\n", r.Timings["cv_seconds"], r.Compilations["cv"])
	}
	return err
}

// cvConfig is the cross-validation's configuration of the best model, with
// the run's padding and its callbacks, progress and log.
func (r *Run) cvConfig(hp nn.Hyperparameters, own func(fold int) []nn.Callback) cv.Config {
	padding := r.Padding
	return cv.Config{
		Spec: r.Best.Spec, Hyperparameters: hp, Folds: r.Config.Folds, Seed: r.Config.Seed, Padding: &padding,
		Callbacks: r.foldCallbacks(own), Progress: r.opts.Progress, ProgressOut: r.log, Log: r.log,
	}
}

func (r *Run) studyDone() error {
	if r.Study == nil || r.Best.Spec.Kind == "" {
		return fmt.Errorf("the study has not run yet: call RunStudy first")
	}
	return nil
}

func (r *Run) cvDone() error {
	if r.CV == nil {
		return fmt.Errorf("the cross-validation has not run yet: call RunCV first")
	}
	return nil
}

// writeStudyFiles stages the study statistics (text and JSON), the best
// parameters and the trials CSV.
func (r *Run) writeStudyFiles(st *stage) error {
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

// StudyFigures draws the study's figures (figures.StudyFigures):
// optimization history, importances, contour of the most important
// parameters, slice, parallel coordinates and intermediate values. Without
// two complete trials the importance and contour cannot be drawn: it logs
// that and returns the others.
func (r *Run) StudyFigures() ([]*plot.Figure, error) {
	if r.Study == nil {
		return nil, fmt.Errorf("the study has not run yet: call RunStudy first")
	}
	if r.studyFigs != nil {
		return r.studyFigs, nil
	}
	figs, err := figures.StudyFigures(r.Study, figures.Objective(objectiveName(r.Config.Task)))
	if err != nil {
		if !errors.Is(err, figures.ErrNoImportances) {
			return nil, err
		}
		// Without importances (fewer than two complete trials) the
		// importance and contour figures cannot be drawn: keep the others.
		fmt.Fprintf(r.log, "study figures: %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	r.studyFigs = figs
	return figs, nil
}

// saveCheckpoints stages each fold's model as checkpoints/fold_NN.ckpt.
func (r *Run) saveCheckpoints(st *stage) ([]string, error) {
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
func (r *Run) saveFigures(st *stage, figs []*plot.Figure, anims []*plot.Animation) error {
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
func (r *Run) writeResults(figs []*plot.Figure, anims []*plot.Animation, metrics func(*Summary) error) (*Summary, error) {
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
