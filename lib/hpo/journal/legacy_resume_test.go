package journal

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/pruners"
	"github.com/dlworkbench/hw1/lib/hpo/samplers"
)

// TestFirstFormatJournalGoesOn: a seeded study goes on from a converted first-format journal
// (testdata/legacy_v1.journal, written with TPE and the median pruner, then lib/hpo's
// defaults) as the uninterrupted study does: the stream positions survived the conversion.
func TestFirstFormatJournalGoesOn(t *testing.T) {
	quietJournalWarnings(t)
	original, err := os.ReadFile(filepath.Join("..", "testdata", "legacy_v1.journal"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "study.journal")
	if err := os.WriteFile(path, original, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := Open(path, WithStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(ctx, legacyObjective, hpo.NTrials(4)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	ref, _ := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))), hpo.WithPruner(pruners.NewMedian()))
	ref.EnqueueTrial(legacyEnqueuedA, hpo.SkipIfExists())
	ref.Optimize(ctx, legacyObjective, hpo.NTrials(8))
	ref.EnqueueTrial(legacyEnqueuedB)
	ref.Optimize(ctx, legacyObjective, hpo.NTrials(4))
	want, _ := ref.Trials()
	j, err = Open(path, WithStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, _ := j.Trials()
	if a, b := finishedParams(got), finishedParams(want); !reflect.DeepEqual(a, b) {
		t.Fatalf("the converted study went on with\n%v\nthe uninterrupted study\n%v", a, b)
	}
}
