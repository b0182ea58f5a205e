package homework

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/dlworkbench/hw1/internal/atomicfile"
)

// Names of the files of a results folder, in one place. Figures are written
// under their lib/plot names with .svg and .png beside them.
const (
	FileStudyStats     = "study_stats.txt"
	FileStudyStatsJSON = "study_stats.json"
	FileBestParams     = "best_params.json"
	FileTrialsCSV      = "trials.csv"
	FileJournal        = "study.journal"
	// FileStudy records what the study was created with (task, seed, search
	// space); every resume is checked against it.
	FileStudy = "study.json"
	// FileStudyTimings adds up the seconds (and compiled graphs) of every
	// run of the study on the results folder (timings.go), so that the
	// summary written by a later process (a notebook's last cell) reports
	// them.
	FileStudyTimings    = "study_timings.json"
	FileSummary         = "summary.json"
	FileReport          = "report.md"
	FileConfig          = "config.json"
	checkpointDir       = "checkpoints"
	checkpointNameFmt   = "fold_%02d.ckpt"
	resultsDirSuffix    = "_results"
	figureFormatsString = "svg, png"

	// stagingPrefix names the folders a run writes its outputs into before
	// they replace those of the results folder; commitDir is a staging
	// folder whose outputs are being moved in; manifestName lists them.
	stagingPrefix = ".staging-"
	commitDir     = ".commit"
	manifestName  = ".manifest"
)

// ResultsDir is <out>/<study>_results.
func (c *Config) ResultsDir() string {
	return filepath.Join(c.Out, c.Study+resultsDirSuffix)
}

// runOutput tells whether a path of the results folder (slash-separated,
// relative to it) is an output of a run: what a successful run replaces, and
// removes when it did not write it again. The folder belongs to the tool:
// every image at its top (.svg, .png, .gif) and every checkpoints/*.ckpt
// counts as an output, so a user's own image kept there is removed by the
// next successful run. The study's own files (the journal, study.json,
// study_timings.json),
// hidden files and anything else (notes.txt, say) are not outputs.
func runOutput(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	if dir := path.Dir(name); dir != "." {
		return dir == checkpointDir && path.Ext(name) == ".ckpt"
	}
	switch name {
	case FileConfig, FileSummary, FileReport, FileStudyStats, FileStudyStatsJSON, FileBestParams, FileTrialsCSV:
		return true
	}
	switch path.Ext(name) {
	case ".svg", ".png", ".gif":
		return true
	}
	return false
}

// results is the results folder of one study. The study journal lives in it
// and is written in place (it is what resumes the study); a run's outputs
// (config, study statistics, figures, checkpoints, summary, report) are
// written into a staging folder inside it and replace the folder's outputs
// only when the run succeeds, so the folder always describes one run:
//
//  1. stage: every output is written (synced) into .staging-XXXX, which its
//     process holds an flock on while it lives;
//  2. commit, under an flock of the results folder: the stage's list of files
//     is written, the stage is renamed to .commit (from then on the commit is
//     bound to finish), the outputs of earlier runs that this one did not
//     write are removed, the new ones are renamed into place, .commit is
//     removed;
//  3. recovery, when a study opens its folder: a .commit left by a crash is
//     finished, stages of dead processes and orphan temporary files are
//     removed.
type results struct {
	dir string
}

// openResults creates the results folder if needed and repairs what an
// earlier run left behind.
func openResults(dir string) (*results, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("results folder: %w", err)
	}
	r := &results{dir: dir}
	if err := r.locked(r.recover); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *results) path(name string) string { return filepath.Join(r.dir, filepath.FromSlash(name)) }

// locked runs fn holding the results folder's flock: commits and recoveries
// of several processes on one study take turns.
func (r *results) locked(fn func() error) error {
	f, err := os.Open(r.dir)
	if err != nil {
		return fmt.Errorf("results folder: %w", err)
	}
	defer f.Close() // releases the lock
	if err := flock(f, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("results folder %s: lock: %w", r.dir, err)
	}
	return fn()
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// recover finishes a commit cut short, removes the stages of runs that are
// gone and the temporary files of writes that never finished. The journal's
// own temporary files belong to lib/hpo and are left alone.
func (r *results) recover() error {
	if _, err := os.Stat(r.path(commitDir)); err == nil {
		if err := r.rollForward(); err != nil {
			return err
		}
	}
	return r.eachEntry(func(sub string, e fs.DirEntry) error {
		name := e.Name()
		p := filepath.Join(r.path(sub), name)
		switch {
		case sub == "." && e.IsDir() && strings.HasPrefix(name, stagingPrefix):
			if stageAlive(p) {
				return nil
			}
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("results folder: removing the stage of a dead run: %w", err)
			}
		case !e.IsDir() && strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") &&
			!strings.HasPrefix(name, "."+FileJournal):
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("results folder: removing a temporary file: %w", err)
			}
		}
		return nil
	})
}

// eachEntry calls f with every entry of the results folder (sub ".") and
// of its checkpoints folder (sub checkpointDir), a missing folder skipped,
// until f returns an error.
func (r *results) eachEntry(f func(sub string, e fs.DirEntry) error) error {
	for _, sub := range []string{".", checkpointDir} {
		entries, err := os.ReadDir(r.path(sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("results folder: %w", err)
		}
		for _, e := range entries {
			if err := f(sub, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// stageAlive tells whether a process still holds the stage's flock.
func stageAlive(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	return false
}

// stage is the staging folder of one run's outputs.
type stage struct {
	res *results
	dir string
	// lock holds the stage's flock: recovery leaves a live stage alone.
	lock *os.File
}

// stage creates a staging folder for a run's outputs.
func (r *results) stage() (*stage, error) {
	var s *stage
	err := r.locked(func() error {
		dir, err := os.MkdirTemp(r.dir, stagingPrefix+"*")
		if err != nil {
			return fmt.Errorf("results folder: %w", err)
		}
		f, err := os.Open(dir)
		if err == nil {
			err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
			if err != nil {
				f.Close()
			}
		}
		if err == nil {
			err = os.Mkdir(filepath.Join(dir, checkpointDir), 0o755)
			if err != nil {
				f.Close()
			}
		}
		if err != nil {
			os.RemoveAll(dir)
			return fmt.Errorf("results folder: staging: %w", err)
		}
		s = &stage{res: r, dir: dir, lock: f}
		return nil
	})
	return s, err
}

func (s *stage) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

// write writes data to name (relative to the results folder) in the stage.
func (s *stage) write(name string, data []byte) error {
	if err := atomicfile.WriteBytes(s.path(name), data); err != nil {
		return s.failed(name, err)
	}
	return nil
}

// failed is the error of an output that could not be staged: it names the
// output and the results folder, and the system's reason (no space left on
// device), not the stage's temporary paths.
func (s *stage) failed(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("results folder %s: writing %s: %w (the folder was left as it was)", s.res.dir, name, err)
}

func (s *stage) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return s.write(name, append(data, '\n'))
}

// discard removes the stage: the results folder keeps the outputs it had.
func (s *stage) discard() {
	if s == nil || s.lock == nil {
		return
	}
	os.RemoveAll(s.dir)
	s.lock.Close()
	s.lock = nil
}

// commit replaces the outputs of the results folder by the stage's, as one
// unit (see results).
func (s *stage) commit() error {
	defer s.discard()
	if err := s.seal(); err != nil {
		return err
	}
	r := s.res
	return r.locked(func() error {
		if _, err := os.Stat(r.path(commitDir)); err == nil {
			if err := r.rollForward(); err != nil {
				return err
			}
		}
		if err := os.Rename(s.dir, r.path(commitDir)); err != nil {
			return fmt.Errorf("results folder: commit: %w", err)
		}
		if err := syncDir(r.dir); err != nil {
			return fmt.Errorf("results folder: commit: %w", err)
		}
		return r.rollForward()
	})
}

// seal writes the stage's manifest (the list of its files) and makes the
// stage durable: from then on it can become .commit.
func (s *stage) seal() error {
	var names []string
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err // hidden: the manifest, a temporary file
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !runOutput(name) {
			// Checked here, before the commit's point of no return: rollForward
			// refuses such a name, and a .commit it refuses would block the folder.
			return fmt.Errorf("%s is not a run's output (runOutput): it cannot be committed", name)
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("results folder: staging: %w", err)
	}
	slices.Sort(names)
	manifest, err := json.Marshal(names)
	if err == nil {
		err = atomicfile.WriteBytes(s.path(manifestName), manifest)
	}
	for _, d := range []string{s.path(checkpointDir), s.dir} {
		if err == nil {
			err = syncDir(d)
		}
	}
	if err != nil {
		return fmt.Errorf("results folder: staging: %w", err)
	}
	return nil
}

// rollForward finishes the commit in .commit: it removes the outputs that the
// committed run did not write, moves the new ones into place and removes
// .commit. It can be cut anywhere and run again.
func (r *results) rollForward() error {
	c := r.path(commitDir)
	raw, err := os.ReadFile(filepath.Join(c, manifestName))
	var names []string
	if err == nil {
		err = json.Unmarshal(raw, &names)
	}
	if err != nil {
		// The manifest is written before the stage becomes .commit, so this
		// .commit was never a complete commit: nothing was touched yet.
		if rmErr := os.RemoveAll(c); rmErr != nil {
			return fmt.Errorf("results folder: removing an unfinished commit: %w", rmErr)
		}
		return nil
	}
	keep := map[string]bool{}
	for _, n := range names {
		if !runOutput(n) {
			return fmt.Errorf("results folder: commit lists %q, which is not an output of a run", n)
		}
		keep[n] = true
	}
	err = r.eachEntry(func(sub string, e fs.DirEntry) error {
		name := path.Join(sub, e.Name())
		if e.IsDir() || !runOutput(name) || keep[name] {
			return nil
		}
		if err := os.Remove(r.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("results folder: removing %s of an earlier run: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.path(checkpointDir), 0o755); err != nil {
		return fmt.Errorf("results folder: %w", err)
	}
	for _, n := range names {
		src := filepath.Join(c, filepath.FromSlash(n))
		err := os.Rename(src, r.path(n))
		if errors.Is(err, fs.ErrNotExist) {
			if _, statErr := os.Stat(r.path(n)); statErr == nil {
				continue // moved before a crash
			}
		}
		if err != nil {
			return fmt.Errorf("results folder: commit %s: %w", n, err)
		}
	}
	for _, d := range []string{r.path(checkpointDir), r.dir} {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("results folder: commit: %w", err)
		}
	}
	if err := os.RemoveAll(c); err != nil {
		return fmt.Errorf("results folder: commit: %w", err)
	}
	return syncDir(r.dir)
}

// syncDir makes the renames and removals in a folder durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
