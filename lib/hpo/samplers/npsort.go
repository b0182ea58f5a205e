package samplers

// argsortNumPy returns the permutation that sorts v ascending, in the order NumPy's default
// (unstable) argsort gives for float64 (NumPy 1.24, no SIMD sort): an introsort, median-of-three
// quicksort partitions down to 16 elements, then insertion sort, with a heapsort fallback past
// 2 log2(n) levels. Optuna assigns kernel widths through such an argsort, so equal values
// (integer parameters, steps) get their widths in this order; the Parzen estimators only agree
// kernel for kernel with Optuna's when the tie order is NumPy's.
func argsortNumPy(v []float64) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	if len(v) < 2 {
		return idx
	}
	less := func(a, b float64) bool { return a < b || (b != b && a == a) } // NaNs last
	const small = 15
	type frame struct{ l, r, depth int }
	var stack []frame
	depth := 0
	for n := len(v); n > 1; n >>= 1 {
		depth++
	}
	depth *= 2
	l, r := 0, len(v)-1
	for {
		if depth < 0 {
			heapsortIdx(v, idx[l:r+1], less)
		} else {
			for r-l > small {
				m := l + (r-l)>>1
				if less(v[idx[m]], v[idx[l]]) {
					idx[m], idx[l] = idx[l], idx[m]
				}
				if less(v[idx[r]], v[idx[m]]) {
					idx[r], idx[m] = idx[m], idx[r]
				}
				if less(v[idx[m]], v[idx[l]]) {
					idx[m], idx[l] = idx[l], idx[m]
				}
				pivot := v[idx[m]]
				i, j := l, r-1
				idx[m], idx[j] = idx[j], idx[m]
				for {
					for i++; less(v[idx[i]], pivot); i++ {
					}
					for j--; less(pivot, v[idx[j]]); j-- {
					}
					if i >= j {
						break
					}
					idx[i], idx[j] = idx[j], idx[i]
				}
				idx[i], idx[r-1] = idx[r-1], idx[i]
				// Keep the smaller side, push the larger.
				depth--
				if i-l < r-i {
					stack = append(stack, frame{i + 1, r, depth})
					r = i - 1
				} else {
					stack = append(stack, frame{l, i - 1, depth})
					l = i + 1
				}
			}
			for i := l + 1; i <= r; i++ {
				x := idx[i]
				j := i
				for j > l && less(v[x], v[idx[j-1]]) {
					idx[j] = idx[j-1]
					j--
				}
				idx[j] = x
			}
		}
		if len(stack) == 0 {
			return idx
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		l, r, depth = f.l, f.r, f.depth
	}
}

// heapsortIdx is the introsort's fallback, a heapsort of the indices a by v.
func heapsortIdx(v []float64, a []int, less func(a, b float64) bool) {
	n := len(a)
	// 1-based heap positions, as the classic formulation.
	at := func(i int) *int { return &a[i-1] }
	sift := func(start, n int, tmp int) {
		i, j := start, start<<1
		for j <= n {
			if j < n && less(v[*at(j)], v[*at(j + 1)]) {
				j++
			}
			if !less(v[tmp], v[*at(j)]) {
				break
			}
			*at(i) = *at(j)
			i, j = j, j+j
		}
		*at(i) = tmp
	}
	for l := n >> 1; l > 0; l-- {
		sift(l, n, *at(l))
	}
	for n > 1 {
		tmp := *at(n)
		*at(n) = *at(1)
		n--
		sift(1, n, tmp)
	}
}
