package hpo_test

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
	hpo.QuietJournalWarnings(t)
	original, err := os.ReadFile(filepath.Join("testdata", "legacy_v1.journal"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "study.journal")
	if err := os.WriteFile(path, original, 0o644); err != nil {
		t.Fatal(err)
	}
	j, err := hpo.OpenJournal(path, hpo.JournalStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := hpo.NewStudy(hpo.WithStorage(j), hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))), hpo.WithPruner(pruners.NewMedian()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Optimize(ctx, hpo.LegacyObjective, hpo.NTrials(4)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	ref, _ := hpo.NewStudy(hpo.WithSampler(samplers.NewTPE(samplers.WithSeed(21))), hpo.WithPruner(pruners.NewMedian()))
	ref.EnqueueTrial(hpo.LegacyEnqueuedA, hpo.SkipIfExists())
	ref.Optimize(ctx, hpo.LegacyObjective, hpo.NTrials(8))
	ref.EnqueueTrial(hpo.LegacyEnqueuedB)
	ref.Optimize(ctx, hpo.LegacyObjective, hpo.NTrials(4))
	want, _ := ref.Trials()
	j, err = hpo.OpenJournal(path, hpo.JournalStudy("regression_smoke"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	got, _ := j.Trials()
	if a, b := hpo.FinishedParams(got), hpo.FinishedParams(want); !reflect.DeepEqual(a, b) {
		t.Fatalf("the converted study went on with\n%v\nthe uninterrupted study\n%v", a, b)
	}
}
