package homework

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlworkbench/hw1/internal/atomicfile"
)

// Names of the files of a results folder, in one place. Figures are written
// under their lib/plot names with .svg and .png beside them.
const (
	FileStudyStats      = "study_stats.txt"
	FileStudyStatsJSON  = "study_stats.json"
	FileBestParams      = "best_params.json"
	FileTrialsCSV       = "trials.csv"
	FileJournal         = "study.journal"
	FileSummary         = "summary.json"
	FileReport          = "report.md"
	FileConfig          = "config.json"
	checkpointDir       = "checkpoints"
	checkpointNameFmt   = "fold_%02d.ckpt"
	resultsDirSuffix    = "_results"
	figureFormatsString = "svg, png"
)

// ResultsDir is <out>/<study>_results.
func (c *Config) ResultsDir() string {
	return filepath.Join(c.Out, c.Study+resultsDirSuffix)
}

// results writes the files of one results folder. Every file is written to a
// temporary name in the same folder and renamed, so an interrupted run never
// leaves a half-written file nor destroys an earlier result.
type results struct {
	dir     string
	written []string
}

func newResults(dir string) (*results, error) {
	if err := os.MkdirAll(filepath.Join(dir, checkpointDir), 0o755); err != nil {
		return nil, fmt.Errorf("results folder: %w", err)
	}
	return &results{dir: dir}, nil
}

func (r *results) path(name string) string { return filepath.Join(r.dir, name) }

// write writes data to name atomically.
func (r *results) write(name string, data []byte) error {
	if err := atomicfile.WriteBytes(r.path(name), data); err != nil {
		return err
	}
	r.written = append(r.written, name)
	return nil
}

func (r *results) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return r.write(name, append(data, '\n'))
}
