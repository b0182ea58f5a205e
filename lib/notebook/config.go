package notebook

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/dlworkbench/hw1/lib/homework"
)

// DefaultPreset is the preset of a notebook run without $HW1_PRESET.
const DefaultPreset = "quick"

// Preset is the budget of a run: $HW1_PRESET ("smoke", "quick" or "seed"),
// else DefaultPreset.
func Preset() string {
	if p := os.Getenv("HW1_PRESET"); p != "" {
		return p
	}
	return DefaultPreset
}

// Config is the task's configuration under Preset. Results go where hw1
// puts them, the repository's out/ folder (next to the notebooks' folder,
// $GONB_DIR), unless $HW1_OUT names another (the automatic checks use a
// throw-away one). $HW1_STORAGE, as hw1's --storage, keeps the study in a
// journal file or a PostgreSQL database that other machines share.
func Config(task string) (homework.Config, error) {
	cfg, err := homework.Preset(task, Preset())
	if err != nil {
		return cfg, err
	}
	cfg.Out = os.Getenv("HW1_OUT")
	if cfg.Out == "" {
		if dir := os.Getenv("GONB_DIR"); dir != "" {
			cfg.Out = filepath.Join(dir, "..", "out")
		}
	}
	cfg.Storage = os.Getenv("HW1_STORAGE")
	return cfg, nil
}

// Check ends the program with err when err is not nil: in a notebook the
// cell is then marked as failed (in JupyterLab and in the headless check
// alike).
func Check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Open starts the task's run under Config (homework.New): a later cell
// reopening the study finds its trials in the journal and trains nothing
// again.
func Open(task string, opts homework.Options) (*homework.Run, error) {
	cfg, err := Config(task)
	if err != nil {
		return nil, err
	}
	return homework.New(cfg, opts)
}

// Reopen is Open then RunStudy, for a cell after the study's: the study's
// trials are in its journal, so RunStudy trains nothing and the cell's run
// has its study, ready for BuildOptModel. Run before the study's cell, it
// runs the study.
func Reopen(task string, opts homework.Options) (*homework.Run, error) {
	r, err := Open(task, opts)
	if err != nil {
		return nil, err
	}
	if err := r.RunStudy(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// ShowSetup prints what the task's run will be under Config: the preset,
// its trials and folds, the results folder, and the backend with why it
// was chosen (homework.ChooseBackend), as the first cell of a notebook
// shows them.
func ShowSetup(task string) error {
	cfg, err := Config(task)
	if err != nil {
		return err
	}
	b, err := homework.ChooseBackend(cfg.Task, cfg.Backend)
	if err != nil {
		return err
	}
	fmt.Fprintf(Out, "preset %q: %d trials, %d folds; results in %s\n%s\n", cfg.Preset, cfg.Trials, cfg.Folds, cfg.ResultsDir(), b)
	return nil
}
