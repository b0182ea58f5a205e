package hpo

import (
	"fmt"
	"strings"

	"github.com/dlworkbench/hw1/lib/hpo/internal/nprand"
)

// Resuming a sampler. The built-in samplers (TPE, random, grid) draw every random number from
// NumPy RandomState streams (lib/hpo/internal/nprand), which are a pure function of the seed: a stream's whole state is the seed
// and how many 32-bit words were drawn from it. So a study keeps, on every trial it finishes,
// the worker that ran it and how far each of the sampler's streams had advanced when the trial
// finished (system attributes attrWorker and attrStreamWords). Before a trial, when no other
// trial of the study is in flight, the study moves the streams to the furthest position
// recorded by its worker (re-seeding to go back, drawing without tempering to go forward).
// Hence:
//   - an uninterrupted single-worker study never moves a stream (the recorded position is
//     where the stream already is), so it stays Optuna's, trial for trial;
//   - a resumed study goes on from where its last finished trial left the stream instead of
//     drawing the first trials again;
//   - a trial that was cut short (killed, or failed as interrupted) recorded nothing, so the
//     next trial draws what it drew: with the same finished trials before it (samplers and
//     pruners ignore failed ones) it gets the same parameters, and a seeded study gives the
//     same complete and pruned trials however often it is interrupted.
//
// Workers. Each Study registers with its storage as a worker when it starts its first trial
// (Storage.RegisterWorker) and gets the lowest index that no live worker holds. Worker 0 draws
// the seed's own streams (NumPy's RandomState(seed), as Optuna); worker k > 0 draws
// RandomState([seed mod 2^32, seed div 2^32, k]) (NumPy's array seed), so concurrent workers on
// one study draw distinct parameters, and a process that resumes after the others stopped is
// worker 0 again and goes on with the seed's stream.

const (
	// attrWorker is the system attribute holding the index of the worker that ran a trial.
	attrWorker = "hpo:worker"
	// attrStreamPrefix + i holds the words drawn from the sampler's stream i when the trial
	// finished.
	attrStreamPrefix = "hpo:stream_words:"
)

func attrStreamWords(i int) string { return fmt.Sprintf("%s%d", attrStreamPrefix, i) }

// StreamSampler is a Sampler whose randomness is a set of NumPy RandomState streams, each a
// pure function of the seed and of how many 32-bit words were drawn from it, so that the study
// can resume it (see above). RandomSampler and lib/hpo/samplers' TPE and grid samplers are
// StreamSamplers; a sampler that is not one is used as it is (a resumed study then draws its
// first trials again).
type StreamSampler interface {
	Sampler
	// UseWorker re-seeds every stream with worker k's seed, at its start: worker 0 draws the
	// seed's own streams, worker k > 0 RandomState([seed mod 2^32, seed div 2^32, k]).
	UseWorker(k int)
	// StreamWords returns the words drawn so far from each stream.
	StreamWords() []uint64
	// SeekStreams moves stream i to words[i] words past its start (words may be shorter).
	SeekStreams(words []uint64)
}

// UseWorker implements StreamSampler.
func (r *RandomSampler) UseWorker(k int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rng = nprand.Worker(r.seed, k)
}

// StreamWords implements StreamSampler.
func (r *RandomSampler) StreamWords() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return []uint64{r.rng.Words()}
}

// SeekStreams implements StreamSampler.
func (r *RandomSampler) SeekStreams(words []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(words) > 0 {
		r.rng.Seek(words[0])
	}
}

// recordedStreamWords returns, for each of n streams, the furthest position that worker's
// finished trials recorded (0 where none did). Trials cut short do not count even if they
// recorded one (a worker killed between recording the position and finishing the trial), so
// that every trial cut short is drawn again.
func recordedStreamWords(trials []FrozenTrial, worker, n int) []uint64 {
	out := make([]uint64, n)
	for i := range trials {
		t := &trials[i]
		if !t.State.Finished() || cutShort(t) {
			continue
		}
		if w, ok := t.SystemAttrs[attrWorker]; !ok || int(w) != worker {
			continue
		}
		for s := range out {
			if v, ok := t.SystemAttrs[attrStreamWords(s)]; ok && v > 0 && uint64(v) > out[s] {
				out[s] = uint64(v)
			}
		}
	}
	return out
}

// cutShort reports a trial failed by an interruption or by the death of its worker.
func cutShort(t *FrozenTrial) bool {
	return t.State == Failed && (strings.HasPrefix(t.FailReason, ReasonInterrupted) || strings.HasPrefix(t.FailReason, reasonWorkerDiedPrefix) && strings.HasSuffix(t.FailReason, reasonWorkerDiedSuffix))
}
