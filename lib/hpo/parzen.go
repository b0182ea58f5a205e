package hpo

import (
	"math"
	"math/rand/v2"
	"sort"
)

// parzen is a mixture with one component per observation (plus the prior): a product over
// parameters of truncated Gaussians (numerical) or smoothed one-hot distributions (categorical).
type parzen struct {
	weights []float64 // component weights, summing to 1
	logW    []float64
	params  []parzenParam
}

type parzenParam struct {
	d Distribution
	// numerical: kernels in the transformed space (log for Log parameters), on [low, high]
	low, high, q float64
	mus, sigmas  []float64
	logZ         []float64 // log mass of each kernel inside [low, high]
	// logNorm is -log(sigma) - log sqrt(2 pi) - logZ: the constant of each kernel's log density
	logNorm []float64
	// categorical: one row of choice probabilities per component
	cat    [][]float64
	logCat [][]float64
}

// bounds returns the range of the transformed space and the step q of a discrete parameter
// (0: continuous), widened by half a step so that end points get a full bin, as Optuna.
func bounds(d Distribution) (low, high, q float64) {
	switch {
	case d.Kind == FloatKind && d.Log:
		return math.Log(d.Low), math.Log(d.High), 0
	case d.Kind == FloatKind && d.Step != 0:
		return d.Low - d.Step/2, d.High + d.Step/2, d.Step
	case d.Kind == FloatKind:
		return d.Low, d.High, 0
	case d.Log: // int, log
		return math.Log(d.Low - 0.5), math.Log(d.High + 0.5), 0
	default: // int
		return d.Low - d.Step/2, d.High + d.Step/2, d.Step
	}
}

func toTransformed(d Distribution, v float64) float64 {
	if d.Log {
		return math.Log(v)
	}
	return v
}

func fromTransformed(d Distribution, v float64) float64 {
	switch {
	case d.Kind == CategoricalKind:
		return v
	case d.Kind == FloatKind && d.Log:
		return math.Min(math.Max(math.Exp(v), d.Low), d.High)
	case d.Kind == FloatKind && d.Step == 0:
		return math.Min(math.Max(v, d.Low), d.High)
	case d.Log: // int, log
		return math.Min(math.Max(math.Round(math.Exp(v)), d.Low), d.High)
	default:
		return snap(d, v)
	}
}

// newParzen fits the estimator to obs (one column per parameter, equal lengths, oldest first).
// multivariate selects the fixed Scott's-rule bandwidth of Optuna's multivariate TPE instead of
// the distance-to-neighbours rule.
func (s *TPESampler) newParzen(dists []Distribution, obs [][]float64) *parzen {
	n := len(obs[0])
	considerPrior := s.ConsiderPrior || n == 0
	w := s.Weights(n)[:n]
	weights := append([]float64(nil), w...)
	if considerPrior {
		weights = append(weights, s.PriorWeight)
	}
	sum := 0.0
	for _, x := range weights {
		sum += x
	}
	p := &parzen{weights: weights, logW: make([]float64, len(weights))}
	for i := range weights {
		weights[i] /= sum
		p.logW[i] = math.Log(weights[i])
	}
	for j, d := range dists {
		pp := parzenParam{d: d}
		if d.Kind == CategoricalKind {
			pp.cat, pp.logCat = s.categoricalKernels(d, obs[j], considerPrior)
		} else {
			pp.low, pp.high, pp.q = bounds(d)
			xs := make([]float64, n)
			for i, v := range obs[j] {
				xs[i] = toTransformed(d, v)
			}
			pp.mus, pp.sigmas = s.kernels(xs, pp.low, pp.high, considerPrior, len(dists))
			pp.logZ = make([]float64, len(pp.mus))
			pp.logNorm = make([]float64, len(pp.mus))
			for k := range pp.mus {
				pp.logZ[k] = logGaussMass((pp.low-pp.mus[k])/pp.sigmas[k], (pp.high-pp.mus[k])/pp.sigmas[k])
				pp.logNorm[k] = -logSqrt2Pi - pp.logZ[k]
				if s.ScaleKernelDensity {
					pp.logNorm[k] -= math.Log(pp.sigmas[k])
				}
			}
		}
		p.params = append(p.params, pp)
	}
	return p
}

// categoricalKernels smooths each observation's one-hot row with PriorWeight/(n+1) per choice;
// the prior row is uniform.
func (s *TPESampler) categoricalKernels(d Distribution, obs []float64, considerPrior bool) (rows, logRows [][]float64) {
	n := len(obs)
	k := len(d.Choices)
	rowsN, fill := n, s.PriorWeight/float64(n)
	if considerPrior {
		rowsN, fill = n+1, s.PriorWeight/float64(n+1)
	}
	rows = make([][]float64, rowsN)
	logRows = make([][]float64, rowsN)
	for r := range rows {
		row := make([]float64, k)
		for c := range row {
			row[c] = fill
		}
		if r < n {
			row[int(obs[r])]++
		}
		sum := 0.0
		for _, x := range row {
			sum += x
		}
		lr := make([]float64, k)
		for c := range row {
			row[c] /= sum
			lr[c] = math.Log(row[c])
		}
		rows[r], logRows[r] = row, lr
	}
	return rows, logRows
}

// kernels places one Gaussian on each observation and one (the prior) on the middle of the
// range. Univariate widths are the larger gap to a sorted neighbour (the bounds count as
// neighbours, except for the outer kernels unless ConsiderEndpoints); multivariate widths are
// 0.2 n^(-1/(d+4)) of the range. Widths are clipped to [range/min(100, 1+n), range] and the
// prior's is the range.
func (s *TPESampler) kernels(xs []float64, low, high float64, considerPrior bool, nParams int) (mus, sigmas []float64) {
	n := len(xs)
	mus = append([]float64(nil), xs...)
	if considerPrior {
		mus = append(mus, 0.5*(low+high))
	}
	m := len(mus)
	sigmas = make([]float64, m)
	if s.Multivariate {
		s0 := 0.2 * math.Pow(float64(max(n, 1)), -1.0/float64(nParams+4))
		for i := range sigmas {
			sigmas[i] = s0 * (high - low)
		}
	} else {
		order := make([]int, m)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return mus[order[a]] < mus[order[b]] })
		ext := make([]float64, m+2) // sorted mus with the bounds at both ends
		ext[0], ext[m+1] = low, high
		for i, o := range order {
			ext[i+1] = mus[o]
		}
		sorted := make([]float64, m)
		for i := 1; i <= m; i++ {
			sorted[i-1] = math.Max(ext[i]-ext[i-1], ext[i+1]-ext[i])
		}
		if !s.ConsiderEndpoints && m+2 >= 4 {
			sorted[0] = ext[2] - ext[1]
			sorted[m-1] = ext[m] - ext[m-1]
		}
		for i, o := range order {
			sigmas[o] = sorted[i]
		}
	}
	maxSigma := high - low
	minSigma := 1e-12
	if s.ConsiderMagicClip {
		minSigma = (high - low) / math.Min(100, 1+float64(m))
	}
	for i := range sigmas {
		sigmas[i] = math.Min(math.Max(sigmas[i], minSigma), maxSigma)
	}
	if considerPrior {
		sigmas[n] = high - low
	}
	return mus, sigmas
}

// sample draws size points: a component by weight, then each parameter from that component.
// The result is one column per parameter in internal representation.
func (p *parzen) sample(rng *rand.Rand, size int) [][]float64 {
	active := make([]int, size)
	cum := make([]float64, len(p.weights))
	acc := 0.0
	for i, w := range p.weights {
		acc += w
		cum[i] = acc
	}
	for i := range active {
		u := rng.Float64() * acc
		k := sort.SearchFloat64s(cum, u)
		active[i] = min(k, len(cum)-1)
	}
	out := make([][]float64, len(p.params))
	for j, pp := range p.params {
		col := make([]float64, size)
		for i, k := range active {
			if pp.d.Kind == CategoricalKind {
				u := rng.Float64()
				c, s := 0, 0.0
				for c = 0; c < len(pp.cat[k])-1; c++ {
					s += pp.cat[k][c]
					if u < s {
						break
					}
				}
				col[i] = float64(c)
				continue
			}
			mu, sg := pp.mus[k], pp.sigmas[k]
			x := mu + sg*truncnormPPF(rng.Float64(), (pp.low-mu)/sg, (pp.high-mu)/sg)
			col[i] = fromTransformed(pp.d, x)
		}
		out[j] = col
	}
	return out
}

// logPDF returns the log density (log mass for discrete parameters) of each point.
func (p *parzen) logPDF(xs [][]float64) []float64 {
	size := len(xs[0])
	nc := len(p.weights)
	comp := make([]float64, size*nc) // comp[i*nc+k]: log weight + log pdf of point i under component k
	for i := 0; i < size; i++ {
		copy(comp[i*nc:(i+1)*nc], p.logW)
	}
	for j, pp := range p.params {
		for i := 0; i < size; i++ {
			row := comp[i*nc : (i+1)*nc]
			x := xs[j][i]
			switch {
			case pp.d.Kind == CategoricalKind:
				c := int(x)
				for k := range row {
					row[k] += pp.logCat[k][c]
				}
			case pp.q != 0:
				lo := math.Max(x-pp.q/2, pp.low)
				hi := math.Min(x+pp.q/2, pp.high)
				for k := range row {
					mu, sg := pp.mus[k], pp.sigmas[k]
					row[k] += logGaussMass((lo-mu)/sg, (hi-mu)/sg) - pp.logZ[k]
				}
			default:
				t := toTransformed(pp.d, x)
				mus, sigmas, norm := pp.mus, pp.sigmas[:len(pp.mus)], pp.logNorm[:len(pp.mus)]
				for k := range row {
					z := (t - mus[k]) / sigmas[k]
					row[k] += norm[k] - 0.5*z*z
				}
			}
		}
	}
	out := make([]float64, size)
	for i := range out {
		row := comp[i*nc : (i+1)*nc]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		sum := 0.0
		for _, v := range row {
			// Terms below e^-40 of the largest cannot change a float64 sum; skip their Exp.
			if d := v - m; d > -40 {
				sum += math.Exp(d)
			}
		}
		out[i] = m + math.Log(sum)
	}
	return out
}
