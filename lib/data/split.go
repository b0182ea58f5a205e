package data

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// pcgStream is the fixed second half of the PCG seed, so that a split depends
// on the caller's seed only.
const pcgStream = 0x5851f42d4c957f2d

// Permutation returns a random permutation of 0..n-1 determined by seed alone.
// It is the documented RNG of every split in this package: math/rand/v2's
// PCG seeded with (uint64(seed), 0x5851f42d4c957f2d), drawn by a Fisher-Yates
// shuffle from the last index down, with Lemire's multiply-and-reject for
// bounded draws. Both the shuffle and the bounded draw are written here, not
// taken from math/rand, whose algorithms may change between Go releases.
func Permutation(n int, seed int64) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	shuffle(p, rand.NewPCG(uint64(seed), pcgStream))
	return p
}

func shuffle(p []int, src *rand.PCG) {
	for i := len(p) - 1; i > 0; i-- {
		j := boundedDraw(src, uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
}

// boundedDraw returns a uniform value in [0, n) (Lemire 2019).
func boundedDraw(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// Fold is one fold of a k-fold split: sorted indices to train on and to
// validate on.
type Fold struct {
	Train, Val []int
}

// KFold splits 0..n-1 into k folds after a seeded shuffle (see Permutation):
// every index is in exactly one fold's Val and in every other fold's Train,
// and the Val sizes differ by at most one (the first n%k folds have one more).
// It needs 2 <= k <= n.
func KFold(n, k int, seed int64) ([]Fold, error) {
	if k < 2 {
		return nil, fmt.Errorf("k-fold: k=%d, need at least 2 folds", k)
	}
	if k > n {
		return nil, fmt.Errorf("k-fold: k=%d folds of %d samples, need k <= n", k, n)
	}
	perm := Permutation(n, seed)
	folds := make([]Fold, k)
	start := 0
	for i := range folds {
		size := n / k
		if i < n%k {
			size++
		}
		val := slices.Clone(perm[start : start+size])
		train := make([]int, 0, n-size)
		train = append(train, perm[:start]...)
		train = append(train, perm[start+size:]...)
		slices.Sort(val)
		slices.Sort(train)
		folds[i] = Fold{Train: train, Val: val}
		start += size
	}
	return folds, nil
}

// Holdout splits 0..n-1 into sorted train and validation indices after a
// seeded shuffle: round(n*valFraction) samples validate (0.2 gives the
// seed's 80/20 split). Both parts must be non-empty.
func Holdout(n int, valFraction float64, seed int64) (train, val []int, err error) {
	if !(valFraction > 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("holdout: validation fraction %v, want 0 < f < 1", valFraction)
	}
	nVal := int(math.Round(float64(n) * valFraction))
	if nVal < 1 || nVal > n-1 {
		return nil, nil, fmt.Errorf("holdout: %d samples with validation fraction %v leave an empty part", n, valFraction)
	}
	perm := Permutation(n, seed)
	val = slices.Clone(perm[:nVal])
	train = slices.Clone(perm[nVal:])
	slices.Sort(val)
	slices.Sort(train)
	return train, val, nil
}

// StratifiedSubset draws disjoint sorted train and validation indices of
// sizes nTrain and nVal from labels, each with the classes in the same
// proportions as in labels (largest-remainder rounding, so 10k/5k of
// Fashion-MNIST's 60k give exactly 1000/500 per class). Within each class the
// samples are taken in the order of a seeded shuffle (see Permutation).
func StratifiedSubset(labels []uint8, nTrain, nVal int, seed int64) (train, val []int, err error) {
	n := len(labels)
	if nTrain < 0 || nVal < 0 {
		return nil, nil, fmt.Errorf("stratified subset: negative size %d/%d", nTrain, nVal)
	}
	if nTrain+nVal > n {
		return nil, nil, fmt.Errorf("stratified subset: %d train + %d validation samples from %d", nTrain, nVal, n)
	}
	var byClass [256][]int
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	var counts [256]int
	for c := range byClass {
		counts[c] = len(byClass[c])
	}
	qTrain := apportion(counts[:], nTrain)
	qVal := apportion(counts[:], nVal)
	src := rand.NewPCG(uint64(seed), pcgStream)
	for c := range byClass {
		if qTrain[c]+qVal[c] > counts[c] {
			return nil, nil, fmt.Errorf("stratified subset: class %d has %d samples, needs %d train + %d validation", c, counts[c], qTrain[c], qVal[c])
		}
		if counts[c] == 0 {
			continue
		}
		// One generator for all classes in class order keeps the result a
		// function of the seed and the labels only.
		shuffle(byClass[c], src)
		train = append(train, byClass[c][:qTrain[c]]...)
		val = append(val, byClass[c][qTrain[c]:qTrain[c]+qVal[c]]...)
	}
	slices.Sort(train)
	slices.Sort(val)
	return train, val, nil
}

// apportion divides total among classes in proportion to counts, by largest
// remainder with ties to the lower class, so that the quotas sum to total.
func apportion(counts []int, total int) []int {
	n := 0
	for _, c := range counts {
		n += c
	}
	q := make([]int, len(counts))
	if n == 0 || total == 0 {
		return q
	}
	rem := make([]int, len(counts))
	given := 0
	for i, c := range counts {
		// Integer arithmetic: exact for any realistic sizes.
		q[i] = c * total / n
		rem[i] = c * total % n
		given += q[i]
	}
	order := make([]int, len(counts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b] - rem[a] })
	for _, i := range order[:total-given] {
		q[i]++
	}
	return q
}
