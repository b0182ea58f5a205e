package importance

import (
	"fmt"
	"math"
	"slices"
)

// maxGridCells bounds the cells of one parameter's marginal grid. Only a
// categorical parameter with very many choices gets near it: its grid is the
// product of its one-hot columns' cells, up to 2^choices, as in Optuna.
const maxGridCells = 1 << 20

// leaves lists a tree's leaves with the box of the search space each covers.
type leaves struct {
	value  []float64
	volume []float64
	lo, hi []float64 // leaf i's box is [lo[i*cols+c], hi[i*cols+c]] for each column c
}

// leafBoxes walks the tree from the whole search space, narrowing the box at
// each split, and records every leaf's box and volume.
func (tr *tree) leafBoxes(e *encoded) *leaves {
	ls := &leaves{}
	lo, hi := slices.Clone(e.lo), slices.Clone(e.hi)
	var walk func(i int)
	walk = func(i int) {
		nd := &tr.nodes[i]
		if nd.feature < 0 {
			vol := 1.0
			for c := range lo {
				vol *= hi[c] - lo[c]
			}
			ls.value = append(ls.value, nd.value)
			ls.volume = append(ls.volume, vol)
			ls.lo = append(ls.lo, lo...)
			ls.hi = append(ls.hi, hi...)
			return
		}
		f := nd.feature
		saved := hi[f]
		hi[f] = nd.threshold
		walk(nd.left)
		hi[f] = saved
		saved = lo[f]
		lo[f] = nd.threshold
		walk(nd.right)
		lo[f] = saved
	}
	walk(0)
	return ls
}

// varianceFractions writes, for each parameter p, the variance of the tree's
// marginal prediction over p's columns divided by the tree's total variance,
// both under the uniform measure on the search space (Hutter et al. 2014, as
// Optuna's _FanovaTree). When the tree's variance is 0 every entry is NaN, so
// that the caller skips the tree as Optuna does.
func (tr *tree) varianceFractions(e *encoded, out []float64) error {
	ls := tr.leafBoxes(e)
	// Leaf values are centred on the tree's mean: variances do not change, and
	// the marginal sums below lose less to rounding.
	var vol, mean float64
	for i, v := range ls.value {
		vol += ls.volume[i]
		mean += ls.volume[i] * v
	}
	mean /= vol
	var total float64
	for i, v := range ls.value {
		ls.value[i] = v - mean
		total += ls.volume[i] * ls.value[i] * ls.value[i]
	}
	total /= vol
	if !(total > 0) {
		for p := range out {
			out[p] = math.NaN()
		}
		return nil
	}
	for p, cols := range e.groups {
		if len(cols) == 0 {
			out[p] = 0
			continue
		}
		v, err := tr.marginalVariance(e, ls, cols)
		if err != nil {
			return fmt.Errorf("importance: param %d: %w", p, err)
		}
		out[p] = max(v, 0) / total
	}
	return nil
}

// marginalVariance is the variance, over the given columns, of the tree's
// prediction averaged over all other columns. The tree's splits on those
// columns cut their joint range into a grid of cells on which the marginal is
// constant; each leaf adds its value, weighted by its volume outside those
// columns, to every cell its box covers.
func (tr *tree) marginalVariance(e *encoded, ls *leaves, cols []int) (float64, error) {
	edges := make([][]float64, len(cols))
	cells := 1
	for j, c := range cols {
		ed := []float64{e.lo[c], e.hi[c]}
		for i := range tr.nodes {
			if tr.nodes[i].feature == c {
				ed = append(ed, tr.nodes[i].threshold)
			}
		}
		slices.Sort(ed)
		edges[j] = slices.Compact(ed)
		cells *= len(edges[j]) - 1
		if cells > maxGridCells {
			return 0, fmt.Errorf("marginal grid over %d one-hot columns exceeds %d cells", len(cols), maxGridCells)
		}
	}
	sum := make([]float64, cells+1)    // sum of value*weight over the leaves covering each cell
	weight := make([]float64, cells+1) // sum of weight over the leaves covering each cell
	first, last := make([]int, len(cols)), make([]int, len(cols))
	cellIdx := make([]int, len(cols))
	nc := e.cols
	for i, v := range ls.value {
		other, empty := ls.volume[i], false
		for j, c := range cols {
			lo, hi := ls.lo[i*nc+c], ls.hi[i*nc+c]
			first[j], _ = slices.BinarySearch(edges[j], lo)
			last[j], _ = slices.BinarySearch(edges[j], hi)
			empty = empty || !(hi > lo)
			other /= hi - lo
		}
		if empty || !(other > 0) {
			continue // a box of zero width covers no cell
		}
		if len(cols) == 1 {
			// Difference arrays: the leaf covers the run of cells [first, last).
			sum[first[0]] += v * other
			sum[last[0]] -= v * other
			weight[first[0]] += other
			weight[last[0]] -= other
			continue
		}
		// A one-hot group: enumerate the cells of the leaf's box (row-major).
		copy(cellIdx, first)
		for {
			flat := 0
			for j := range cols {
				flat = flat*(len(edges[j])-1) + cellIdx[j]
			}
			sum[flat] += v * other
			weight[flat] += other
			j := len(cols) - 1
			for ; j >= 0; j-- {
				cellIdx[j]++
				if cellIdx[j] < last[j] {
					break
				}
				cellIdx[j] = first[j]
			}
			if j < 0 {
				break
			}
		}
	}
	if len(cols) == 1 {
		for k := 1; k < cells; k++ {
			sum[k] += sum[k-1]
			weight[k] += weight[k-1]
		}
	}
	// Weighted variance of the cell marginals, each cell weighted by its size;
	// sizes overwrite weight and marginals overwrite sum.
	var size, mean float64
	for k := 0; k < cells; k++ {
		sz := 1.0
		rest := k
		for j := len(cols) - 1; j >= 0; j-- {
			nj := len(edges[j]) - 1
			cj := rest % nj
			rest /= nj
			sz *= edges[j][cj+1] - edges[j][cj]
		}
		if sz == 0 || !(weight[k] > 0) {
			weight[k] = 0
			continue
		}
		sum[k] /= weight[k]
		weight[k] = sz
		size += sz
		mean += sz * sum[k]
	}
	if size == 0 {
		return 0, nil
	}
	mean /= size
	var variance float64
	for k := 0; k < cells; k++ {
		d := sum[k] - mean
		variance += weight[k] * d * d
	}
	return variance / size, nil
}
