package importance

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Thresholds of scikit-learn's tree builder, kept so that splits happen where
// its do: values closer than featureThreshold count as equal, and a node whose
// impurity is below epsilon is a leaf.
const (
	featureThreshold = 1e-7
	epsilon          = 2.220446049250313e-16 // float64 machine epsilon
)

// node is one node of a regression tree. Leaves have feature -1.
type node struct {
	feature     int
	threshold   float64 // x[feature] <= threshold goes left
	left, right int
	value       float64 // weighted mean of y over the node's bootstrap sample
	weight      float64 // bootstrap weight (sum of counts) in the node
	impurity    float64 // weighted variance of y in the node
}

// tree is a fitted regression tree; nodes[0] is the root.
type tree struct {
	nodes []node
}

// predict returns the tree's prediction for one encoded row.
func (tr *tree) predict(x []float64) float64 {
	i := 0
	for tr.nodes[i].feature >= 0 {
		nd := &tr.nodes[i]
		if x[nd.feature] <= nd.threshold {
			i = nd.left
		} else {
			i = nd.right
		}
	}
	return tr.nodes[i].value
}

// impurityDecrease writes the tree's impurity-based importance of each column
// into out (len cols), normalised to sum 1 as scikit-learn's
// DecisionTreeRegressor.feature_importances_ (all zero if the tree never splits).
func (tr *tree) impurityDecrease(out []float64) {
	clear(out)
	for i := range tr.nodes {
		nd := &tr.nodes[i]
		if nd.feature < 0 {
			continue
		}
		l, r := &tr.nodes[nd.left], &tr.nodes[nd.right]
		out[nd.feature] += nd.weight*nd.impurity - l.weight*l.impurity - r.weight*r.impurity
	}
	var sum float64
	for _, v := range out {
		sum += v
	}
	if sum > 0 {
		for c := range out {
			out[c] /= sum
		}
	}
}

// fitForest fits opts.Trees trees on bootstrap samples of e and hands each to
// visit as soon as it is built, so callers keep only what they need of it.
// Trees are built concurrently, but tree t always sees the same random
// stream, so results do not depend on scheduling. visit must only write to
// tree t's own slot.
func fitForest(e *encoded, opts Options, visit func(t int, tr *tree) error) error {
	// Sort each column once; every tree's presorted lists are filtered from these.
	order := make([][]int32, e.cols)
	for c := range order {
		o := make([]int32, e.n)
		for i := range o {
			o[i] = int32(i)
		}
		slices.SortStableFunc(o, func(a, b int32) int {
			return cmp.Compare(e.x[int(a)*e.cols+c], e.x[int(b)*e.cols+c])
		})
		order[c] = o
	}
	seeds := make([]uint64, opts.Trees)
	master := rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed_f0a_e5d))
	for t := range seeds {
		seeds[t] = master.Uint64()
	}

	workers := min(runtime.GOMAXPROCS(0), opts.Trees)
	next := make(chan int)
	errs := make([]error, opts.Trees)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuilder(e, opts, order)
			for t := range next {
				b.rng = rand.New(rand.NewPCG(seeds[t], uint64(t)))
				errs[t] = visit(t, b.fit())
			}
		}()
	}
	for t := 0; t < opts.Trees; t++ {
		next <- t
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// builder grows one tree at a time; its buffers are reused across trees.
type builder struct {
	e     *encoded
	opts  Options
	order [][]int32 // per column, all rows sorted by value
	rng   *rand.Rand

	xc []float64 // the matrix column-major, for the split scans
	w  []float64 // bootstrap count of each row
	wy []float64 // w*y of each row
	// sorted holds, per column, the rows of the bootstrap sample (each once)
	// sorted by that column; a node owns the same range [start, end) of every
	// column's list.
	sorted [][]int32
	m      int // distinct rows in the bootstrap sample
	goLeft []bool
	buf    []int32
	perm   []int
	nodes  []node
}

func newBuilder(e *encoded, opts Options, order [][]int32) *builder {
	b := &builder{
		e: e, opts: opts, order: order,
		xc:     make([]float64, e.n*e.cols),
		w:      make([]float64, e.n),
		wy:     make([]float64, e.n),
		sorted: make([][]int32, e.cols),
		goLeft: make([]bool, e.n),
		buf:    make([]int32, e.n),
		perm:   make([]int, e.cols),
	}
	for c := range b.sorted {
		b.sorted[c] = make([]int32, e.n)
		for r := 0; r < e.n; r++ {
			b.xc[c*e.n+r] = e.x[r*e.cols+c]
		}
	}
	return b
}

// fit draws a bootstrap sample and grows a tree on it.
func (b *builder) fit() *tree {
	n := b.e.n
	clear(b.w)
	for range n {
		b.w[b.rng.IntN(n)]++
	}
	for r, y := range b.e.y {
		b.wy[r] = b.w[r] * y
	}
	// Rows drawn zero times take no part, as in scikit-learn, where they have
	// sample weight 0 and min_samples_* count only rows with positive weight.
	for c, o := range b.order {
		s := b.sorted[c][:0]
		for _, r := range o {
			if b.w[r] > 0 {
				s = append(s, r)
			}
		}
		b.sorted[c] = s[:cap(s)]
		b.m = len(s)
	}
	b.nodes = b.nodes[:0]
	b.grow(0, b.m, 0)
	return &tree{nodes: slices.Clone(b.nodes)}
}

// grow builds the subtree over rows [start, end) at the given depth and
// returns its node index. Depth is at most MaxDepth, so recursion is bounded.
func (b *builder) grow(start, end, depth int) int {
	y, w, wy, cols := b.e.y, b.w, b.wy, b.e.cols
	var sw, swy, swyy float64
	rows := b.sorted[0][start:end]
	constant := true
	y0 := y[rows[0]]
	for _, r := range rows {
		sw += w[r]
		swy += wy[r]
		swyy += wy[r] * y[r]
		constant = constant && y[r] == y0
	}
	mean := swy / sw
	impurity := max(swyy/sw-mean*mean, 0)
	id := len(b.nodes)
	b.nodes = append(b.nodes, node{feature: -1, value: mean, weight: sw, impurity: impurity})

	count := end - start
	if depth >= b.opts.MaxDepth || count < b.opts.MinSamplesSplit ||
		count < 2*b.opts.MinSamplesLeaf || impurity <= epsilon || constant {
		return id
	}

	// Best split over all columns, visited in random order so that ties (e.g.
	// the two one-hot columns of a two-choice parameter) are broken at random,
	// as scikit-learn does; only a strictly better split replaces the best.
	for c := range b.perm {
		b.perm[c] = c
	}
	b.rng.Shuffle(cols, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
	bestFeature, bestPos := -1, 0
	var bestProxy, bestThreshold float64
	minLeaf := b.opts.MinSamplesLeaf
	for _, c := range b.perm {
		list := b.sorted[c][start:end]
		xc := b.xc[c*b.e.n : (c+1)*b.e.n]
		if xc[list[count-1]] <= xc[list[0]]+featureThreshold {
			continue
		}
		var lw, lwy float64
		for k := 1; k < count; k++ {
			r := list[k-1]
			lw += w[r]
			lwy += wy[r]
			prev, cur := xc[r], xc[list[k]]
			if cur <= prev+featureThreshold || k < minLeaf || count-k < minLeaf {
				continue
			}
			rw, rwy := sw-lw, swy-lwy
			// Maximising this is minimising the children's weighted variance.
			proxy := lwy*lwy/lw + rwy*rwy/rw
			if bestFeature < 0 || proxy > bestProxy {
				bestFeature, bestPos, bestProxy = c, k, proxy
				bestThreshold = prev/2 + cur/2
				if bestThreshold >= cur {
					bestThreshold = prev
				}
			}
		}
	}
	if bestFeature < 0 {
		return id
	}

	// Every column's list keeps its order within each child: a stable partition.
	split := b.sorted[bestFeature][start:end]
	for k, r := range split {
		b.goLeft[r] = k < bestPos
	}
	for c := range cols {
		if c == bestFeature {
			continue
		}
		list := b.sorted[c][start:end]
		nl, nr := 0, 0
		for _, r := range list {
			if b.goLeft[r] {
				list[nl] = r
				nl++
			} else {
				b.buf[nr] = r
				nr++
			}
		}
		copy(list[nl:], b.buf[:nr])
	}
	mid := start + bestPos
	left := b.grow(start, mid, depth+1)
	right := b.grow(mid, end, depth+1)
	nd := &b.nodes[id]
	nd.feature, nd.threshold, nd.left, nd.right = bestFeature, bestThreshold, left, right
	return id
}
