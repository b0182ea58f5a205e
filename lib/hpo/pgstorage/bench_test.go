//go:build linux

package pgstorage

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dlworkbench/hw1/internal/pgtest"
	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/journal"
)

// BenchmarkTrial is the storage's cost of one trial as a study writes it: CreateTrial, 10
// parameters, 10 reports, FinishTrial (ms/trial = ns/op / 1e6), on this storage (a local
// server through 127.0.0.1, durable: each write waits for its WAL flush), on the journal file
// and in memory. "+read" adds the Trials() that
// Study.Ask makes before each trial, over a study that grows with b.N.
func BenchmarkTrial(b *testing.B) {
	dists := make([]hpo.Distribution, 10)
	for i := range dists {
		switch i % 3 {
		case 0:
			dists[i] = hpo.FloatDistribution(1e-4, 1, true, 0)
		case 1:
			dists[i] = hpo.IntDistribution(1, 64, false, 1)
		default:
			dists[i] = hpo.CategoricalDistribution("adam", "sgd", "rmsprop")
		}
	}
	// Each storage holds a study to minimize, as NewStudy leaves it.
	prepare := func(b *testing.B, s hpo.Storage) hpo.Storage {
		if err := s.SetDirection(hpo.Minimize); err != nil {
			b.Fatal(err)
		}
		return s
	}
	trial := func(b *testing.B, s hpo.Storage, read bool) {
		if read {
			if _, err := s.Trials(); err != nil {
				b.Fatal(err)
			}
		}
		t, err := s.CreateTrial(0)
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range dists {
			if err := s.SetParam(t.Number, fmt.Sprintf("p%d", i), d, d.Low+1); err != nil {
				b.Fatal(err)
			}
		}
		for step := 0; step < 10; step++ {
			if err := s.Report(t.Number, step, float64(step)); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.FinishTrial(t.Number, hpo.Complete, 0.5, ""); err != nil {
			b.Fatal(err)
		}
	}
	for _, read := range []bool{false, true} {
		suffix := ""
		if read {
			suffix = "+read"
		}
		b.Run("postgres"+suffix, func(b *testing.B) {
			s := prepare(b, openTest(b, pgtest.Database(b), "bench"))
			for b.Loop() {
				trial(b, s, read)
			}
		})
		// The same without waiting for the WAL flush at each commit (synchronous_commit=off):
		// what the round trips cost apart from the disk.
		b.Run("postgres-nosync"+suffix, func(b *testing.B) {
			url := pgtest.Database(b) + "&options=-c%20synchronous_commit%3Doff"
			s := prepare(b, openTest(b, url, "bench"))
			for b.Loop() {
				trial(b, s, read)
			}
		})
		b.Run("journal"+suffix, func(b *testing.B) {
			j, err := journal.Open(filepath.Join(b.TempDir(), "study.journal"))
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			prepare(b, j)
			for b.Loop() {
				trial(b, j, read)
			}
		})
		b.Run("memory"+suffix, func(b *testing.B) {
			m := prepare(b, hpo.NewMemoryStorage())
			for b.Loop() {
				trial(b, m, read)
			}
		})
	}
}
