// Package nprand is NumPy's legacy RandomState stream (MT19937), shared by lib/hpo's random
// sampler and lib/hpo/samplers, so that a seeded study draws what Optuna draws. Internal: its
// API is not part of lib/hpo's.
package nprand

// Rand is the random stream of NumPy's legacy RandomState: the 32-bit Mersenne Twister
// (MT19937) seeded the way RandomState(seed) seeds it, with RandomState's way of turning words
// into doubles, choices and bounded integers. Optuna's samplers draw from RandomState, so with
// this stream a seeded study here suggests what the same study suggests under Optuna; the
// generator itself (Matsumoto and Nishimura, 1998) is the published algorithm.
type Rand struct {
	mt  [mtN]uint32
	pos int
	// drawn counts the words drawn since seeding: with the seed it is the whole state of the
	// stream, which is what a study records to resume a sampler where it stopped (lib/hpo/stream.go).
	drawn uint64
	// key is what seeded the stream: one word for init_genrand, more for init_by_array.
	key []uint32
}

const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// New returns the stream of RandomState(seed). NumPy refuses seeds of 2^32 and over;
// those are taken as RandomState([low 32 bits, high 32 bits]), an array seed.
func New(seed uint64) *Rand {
	if seed <= 0xffffffff {
		return NewKey([]uint32{uint32(seed)})
	}
	return NewKey([]uint32{uint32(seed), uint32(seed >> 32)})
}

// NewKey returns RandomState(key[0]) for one word, else RandomState(key), NumPy's
// array seed.
func NewKey(key []uint32) *Rand {
	r := &Rand{key: append([]uint32(nil), key...)}
	r.reset()
	return r
}

// reset goes back to the start of the stream.
func (r *Rand) reset() {
	if len(r.key) == 1 {
		r.seed(r.key[0])
	} else {
		r.seedArray(r.key)
	}
	r.drawn = 0
}

// Words is how many words were drawn since seeding.
func (r *Rand) Words() uint64 { return r.drawn }

// Seek moves the stream to just after its first n words, as if they had been drawn: forward by
// running the generator without tempering, backward by re-seeding first.
func (r *Rand) Seek(n uint64) {
	if n < r.drawn {
		r.reset()
	}
	for left := n - r.drawn; left > 0; {
		if r.pos == mtN {
			r.twist()
		}
		step := min(left, uint64(mtN-r.pos))
		r.pos += int(step)
		r.drawn += step
		left -= step
	}
}

// seed is the generator's init_genrand.
func (r *Rand) seed(s uint32) {
	for i := range r.mt {
		r.mt[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i) + 1
	}
	r.pos = mtN
}

// seedArray is the generator's init_by_array.
func (r *Rand) seedArray(key []uint32) {
	r.seed(19650218)
	i, j := 1, 0
	for k := max(mtN, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := mtN - 1; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
	r.pos = mtN
}

// twist regenerates the whole state block.
func (r *Rand) twist() {
	mag := func(y uint32) uint32 { return (y & 1) * mtMatrixA }
	var k int
	for k = 0; k < mtN-mtM; k++ {
		y := (r.mt[k] & mtUpperMask) | (r.mt[k+1] & mtLowerMask)
		r.mt[k] = r.mt[k+mtM] ^ (y >> 1) ^ mag(y)
	}
	for ; k < mtN-1; k++ {
		y := (r.mt[k] & mtUpperMask) | (r.mt[k+1] & mtLowerMask)
		r.mt[k] = r.mt[k+mtM-mtN] ^ (y >> 1) ^ mag(y)
	}
	y := (r.mt[mtN-1] & mtUpperMask) | (r.mt[0] & mtLowerMask)
	r.mt[mtN-1] = r.mt[mtM-1] ^ (y >> 1) ^ mag(y)
	r.pos = 0
}

// Uint32 is the next tempered word.
func (r *Rand) Uint32() uint32 {
	if r.pos == mtN {
		r.twist()
	}
	y := r.mt[r.pos]
	r.pos++
	r.drawn++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 is RandomState.random_sample(): 53 random bits from two words, in [0, 1).
func (r *Rand) Float64() float64 {
	a, b := r.Uint32()>>5, r.Uint32()>>6
	return (float64(a)*67108864.0 + float64(b)) / 9007199254740992.0
}

// Uniform is RandomState.uniform(low, high).
func (r *Rand) Uniform(low, high float64) float64 {
	return low + (high-low)*r.Float64()
}

// IntN is RandomState.randint(0, n) for 0 < n <= 2^32: masked rejection sampling, which is
// also what RandomState.choice(n) draws.
func (r *Rand) IntN(n int) int {
	rng := uint32(n - 1)
	if rng == 0 {
		return 0
	}
	mask := rng
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := r.Uint32() & mask; v <= rng {
			return int(v)
		}
	}
}

// ChoiceP is RandomState.choice(len(p), size, p=p): the cumulative sum normalised by its last
// element, searched (to the right) for each uniform draw.
func (r *Rand) ChoiceP(p []float64, size int) []int {
	cdf := make([]float64, len(p))
	acc := 0.0
	for i, w := range p {
		acc += w
		cdf[i] = acc
	}
	for i := range cdf {
		cdf[i] /= acc
	}
	out := make([]int, size)
	for i := range out {
		u := r.Float64()
		// first index whose cdf exceeds u
		lo, hi := 0, len(cdf)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if cdf[m] <= u {
				lo = m + 1
			} else {
				hi = m
			}
		}
		out[i] = min(lo, len(cdf)-1)
	}
	return out
}

// Worker returns the stream of worker k of a study seeded with seed (lib/hpo/stream.go): the
// seed's own stream for worker 0, as Optuna; RandomState([seed mod 2^32, seed div 2^32, k])
// for k > 0, so that concurrent workers draw distinct parameters.
func Worker(seed uint64, k int) *Rand {
	if k == 0 {
		return New(seed)
	}
	return NewKey([]uint32{uint32(seed), uint32(seed >> 32), uint32(k)})
}
