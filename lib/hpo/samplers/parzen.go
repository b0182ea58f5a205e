package samplers

import (
	"math"

	"github.com/dlworkbench/hw1/lib/hpo"
	"github.com/dlworkbench/hw1/lib/hpo/internal/nprand"
)

// parzen is a mixture with one component per observation (plus the prior): a product over
// parameters of truncated Gaussians (numerical) or smoothed one-hot distributions (categorical).
type parzen struct {
	weights []float64 // component weights, summing to 1
	logW    []float64
	params  []parzenParam
	// optuna is the release whose arithmetic the estimator follows (TPESampler.optuna)
	optuna OptunaRelease
}

type parzenParam struct {
	d hpo.Distribution
	// numerical: kernels in the transformed space (log for Log parameters), on [low, high]
	low, high, q float64
	mus, sigmas  []float64
	logZ         []float64 // log mass of each kernel inside [low, high]
	// scaled adds -log(sigma) to each kernel's log density (TPESampler.scaleKernelDensity)
	scaled bool
	// categorical: one row of choice probabilities per component, and the mixture's probability
	// of each choice
	cat    [][]float64
	logCat [][]float64
	mix    []float64
}

// bounds returns the range of the transformed space and the step q of a discrete parameter
// (0: continuous), widened by half a step so that end points get a full bin, as Optuna. Optuna
// 3.1 models a log int as continuous in log space; Optuna 5 as discrete (each integer gets the
// mass between the logs of its half-way points).
func bounds(d hpo.Distribution, release OptunaRelease) (low, high, q float64) {
	switch {
	case release >= Optuna50 && d.Kind == hpo.IntKind && d.Log:
		return math.Log(d.Low - d.Step/2), math.Log(d.High + d.Step/2), d.Step
	case d.Kind == hpo.FloatKind && d.Log:
		return math.Log(d.Low), math.Log(d.High), 0
	case d.Kind == hpo.FloatKind && d.Step != 0:
		return d.Low - d.Step/2, d.High + d.Step/2, d.Step
	case d.Kind == hpo.FloatKind:
		return d.Low, d.High, 0
	case d.Log: // int, log
		return math.Log(d.Low - 0.5), math.Log(d.High + 0.5), 0
	default: // int
		return d.Low - d.Step/2, d.High + d.Step/2, d.Step
	}
}

func toTransformed(d hpo.Distribution, v float64) float64 {
	if d.Log {
		return math.Log(v)
	}
	return v
}

func fromTransformed(d hpo.Distribution, v float64, release OptunaRelease) float64 {
	switch {
	case d.Kind == hpo.CategoricalKind:
		return v
	case release >= Optuna50 && d.Kind == hpo.IntKind && d.Log:
		return snap(d, math.Exp(v))
	case d.Kind == hpo.FloatKind && d.Log:
		return math.Min(math.Max(math.Exp(v), d.Low), d.High)
	case d.Kind == hpo.FloatKind && d.Step == 0:
		return math.Min(math.Max(v, d.Low), d.High)
	case d.Log: // int, log
		return math.Min(math.Max(math.RoundToEven(math.Exp(v)), d.Low), d.High)
	default:
		return snap(d, v)
	}
}

// newParzen fits the estimator to obs (one column per parameter, equal lengths, oldest first).
// In Optuna 3.1's arithmetic, Multivariate selects the fixed Scott's-rule bandwidth of its
// multivariate TPE instead of the distance-to-neighbours rule; Optuna 5 uses the neighbours in
// both modes and always has the prior.
func (s *TPESampler) newParzen(dists []hpo.Distribution, obs [][]float64) *parzen {
	n := len(obs[0])
	v5 := s.optuna >= Optuna50
	considerPrior := s.considerPrior || n == 0 || v5
	w := s.weights(n)[:n]
	weights := append([]float64(nil), w...)
	if considerPrior {
		weights = append(weights, s.priorWeight)
	}
	sum := 0.0
	if v5 {
		sum = pairwiseSum(weights)
	} else {
		for _, x := range weights {
			sum += x
		}
	}
	p := &parzen{weights: weights, logW: make([]float64, len(weights)), optuna: s.optuna}
	for i := range weights {
		weights[i] /= sum
		p.logW[i] = math.Log(weights[i])
	}
	for j, d := range dists {
		pp := parzenParam{d: d}
		if d.Kind == hpo.CategoricalKind {
			pp.cat, pp.logCat = s.categoricalKernels(d, obs[j], considerPrior)
			pp.mix = s.categoricalMixture(d, obs[j], weights, considerPrior)
		} else {
			pp.low, pp.high, pp.q = bounds(d, s.optuna)
			xs := make([]float64, n)
			for i, v := range obs[j] {
				xs[i] = toTransformed(d, v)
			}
			if v5 {
				pp.mus, pp.sigmas = s.kernels5(xs, pp.low, pp.high)
			} else {
				pp.mus, pp.sigmas = s.kernels(xs, pp.low, pp.high, considerPrior, len(dists))
			}
			pp.logZ = make([]float64, len(pp.mus))
			pp.scaled = s.scaleKernelDensity
			for k := range pp.mus {
				pp.logZ[k] = logGaussMass((pp.low-pp.mus[k])/pp.sigmas[k], (pp.high-pp.mus[k])/pp.sigmas[k])
			}
		}
		p.params = append(p.params, pp)
	}
	return p
}

// categoricalKernels smooths each observation's one-hot row with PriorWeight/(n+1) per choice;
// the prior row is uniform.
func (s *TPESampler) categoricalKernels(d hpo.Distribution, obs []float64, considerPrior bool) (rows, logRows [][]float64) {
	n := len(obs)
	k := len(d.Choices)
	rowsN, fill := n, s.priorWeight/float64(n)
	if considerPrior {
		rowsN, fill = n+1, s.priorWeight/float64(n+1)
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
		if s.optuna >= Optuna50 {
			sum = pairwiseSum(row)
		} else {
			for _, x := range row {
				sum += x
			}
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

// categoricalMixture is the mixture's probability of each choice, sum over components of
// weight times row. It is computed from the weight each choice collects, so that two choices
// observed with the same weights get bitwise the same probability and tie exactly, as the
// arithmetic says they do; summing the rows as a matrix product would break such ties by
// rounding, differently from one BLAS to another.
func (s *TPESampler) categoricalMixture(d hpo.Distribution, obs, weights []float64, considerPrior bool) []float64 {
	n, k := len(obs), len(d.Choices)
	fill := s.priorWeight / float64(n)
	prior := 0.0
	if considerPrior {
		fill = s.priorWeight / float64(n+1)
		prior = weights[n]
	}
	collected := make([]float64, k) // weight of the observations of each choice
	total := 0.0
	for i, c := range obs {
		collected[int(c)] += weights[i]
		total += weights[i]
	}
	norm := 1 + float64(k)*fill
	mix := make([]float64, k)
	for c := range mix {
		// every observed row holds fill for each choice, plus 1 for its own, over norm
		mix[c] = (collected[c]+total*fill)/norm + prior/float64(k)
	}
	return mix
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
	if s.multivariate {
		s0 := 0.2 * math.Pow(float64(max(n, 1)), -1.0/float64(nParams+4))
		for i := range sigmas {
			sigmas[i] = s0 * (high - low)
		}
	} else {
		sigmas = neighbourWidths(mus, low, high, s.considerEndpoints)
	}
	maxSigma := high - low
	minSigma := 1e-12
	if s.considerMagicClip {
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

// kernels5 is kernels as Optuna 5 computes them: the neighbour rule over the observations
// alone (the prior's centre no longer counts as a neighbour), the outer kernels measured
// inwards once there are two observations, widths clipped to [range/min(100, n+2), range],
// then the prior (centre of the range, the range as width) appended.
func (s *TPESampler) kernels5(xs []float64, low, high float64) (mus, sigmas []float64) {
	n := len(xs)
	mus = append(append([]float64(nil), xs...), 0.5*(low+high))
	sigmas = append(neighbourWidths(xs, low, high, s.considerEndpoints), high-low)
	maxSigma := high - low
	minSigma := 1e-12
	if s.considerMagicClip {
		minSigma = (high - low) / math.Min(100, 1+float64(n+1))
	}
	for i := range n {
		sigmas[i] = math.Min(math.Max(sigmas[i], minSigma), maxSigma)
	}
	return mus, sigmas
}

// neighbourWidths is Optuna's neighbour rule, shared by both estimators: each point's width
// is the larger gap to its neighbours in sorted order, the range's bounds counting as
// neighbours; without considerEndpoints (and at least two points) the outer points are
// measured inwards only. Ties are ordered as NumPy's argsort orders them. The widths come
// back in the order of xs.
func neighbourWidths(xs []float64, low, high float64, considerEndpoints bool) []float64 {
	n := len(xs)
	order := argsortNumPy(xs)
	ext := make([]float64, n+2) // sorted points with the bounds at both ends
	ext[0], ext[n+1] = low, high
	for i, o := range order {
		ext[i+1] = xs[o]
	}
	sorted := make([]float64, n)
	for i := 1; i <= n; i++ {
		sorted[i-1] = math.Max(ext[i]-ext[i-1], ext[i+1]-ext[i])
	}
	if !considerEndpoints && n+2 >= 4 {
		sorted[0] = ext[2] - ext[1]
		sorted[n-1] = ext[n] - ext[n-1]
	}
	widths := make([]float64, n)
	for i, o := range order {
		widths[o] = sorted[i]
	}
	return widths
}

// sample draws size points: a component by weight, then each parameter from that component,
// in Optuna's order of draws (all components first, then one parameter after the other, all
// points of a parameter at a time; Optuna 5 draws every categorical parameter before the
// numerical ones). The result is one column per parameter in internal representation.
func (p *parzen) sample(rng *nprand.Rand, size int) [][]float64 {
	active := rng.ChoiceP(p.weights, size)
	out := make([][]float64, len(p.params))
	draw := func(j int) {
		pp := p.params[j]
		col := make([]float64, size)
		for i, k := range active {
			u := rng.Float64()
			if pp.d.Kind == hpo.CategoricalKind {
				// the number of cumulative probabilities below u
				c, cum := 0, 0.0
				for _, w := range pp.cat[k] {
					cum += w
					if cum < u {
						c++
					}
				}
				col[i] = float64(min(c, len(pp.cat[k])-1))
				continue
			}
			mu, sg := pp.mus[k], pp.sigmas[k]
			x := truncnormPPF(u, (pp.low-mu)/sg, (pp.high-mu)/sg)*sg + mu
			col[i] = fromTransformed(pp.d, x, p.optuna)
		}
		out[j] = col
	}
	if p.optuna >= Optuna50 {
		for _, categorical := range []bool{true, false} {
			for j, pp := range p.params {
				if (pp.d.Kind == hpo.CategoricalKind) == categorical {
					draw(j)
				}
			}
		}
		return out
	}
	for j := range p.params {
		draw(j)
	}
	return out
}

// logPDF returns the log density (log mass for discrete parameters) of each point. The terms
// are added in the order Optuna adds them and the mixture is summed pairwise as NumPy sums, so
// that both pick the same candidate when two score almost alike.
func (p *parzen) logPDF(xs [][]float64) []float64 {
	if p.optuna >= Optuna50 {
		return p.logPDF5(xs)
	}
	size := len(xs[0])
	out := make([]float64, size)
	if len(p.params) == 1 && p.params[0].d.Kind == hpo.CategoricalKind {
		for i, x := range xs[0] {
			out[i] = math.Log(p.params[0].mix[int(x)])
		}
		return out
	}
	nc := len(p.weights)
	comp := make([]float64, size*nc) // comp[i*nc+k]: log pdf of point i under component k
	for j, pp := range p.params {
		for i := 0; i < size; i++ {
			row := comp[i*nc : (i+1)*nc]
			x := xs[j][i]
			switch {
			case pp.d.Kind == hpo.CategoricalKind:
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
				mus, sigmas, logZ := pp.mus, pp.sigmas[:len(pp.mus)], pp.logZ[:len(pp.mus)]
				for k := range row {
					z := (t - mus[k]) / sigmas[k]
					lp := -(z*z)/2 - logSqrt2Pi - logZ[k]
					if pp.scaled {
						lp -= math.Log(sigmas[k])
					}
					row[k] += lp
				}
			}
		}
	}
	terms := make([]float64, nc)
	for i := range out {
		row := comp[i*nc : (i+1)*nc]
		m := math.Inf(-1)
		for k := range row {
			row[k] += p.logW[k]
			m = math.Max(m, row[k])
		}
		for k, v := range row {
			terms[k] = math.Exp(v - m)
		}
		out[i] = math.Log(pairwiseSum(terms)) + m
	}
	return out
}

// continuousLogPDF is the log density of kernel k at t (in the transformed space).
func (pp *parzenParam) continuousLogPDF(t float64, k int) float64 {
	z := (t - pp.mus[k]) / pp.sigmas[k]
	lp := -(z*z)/2 - logSqrt2Pi - pp.logZ[k]
	if pp.scaled {
		lp -= math.Log(pp.sigmas[k])
	}
	return lp
}

// logPDF5 is logPDF in Optuna 5's order: categorical and discrete terms added parameter by
// parameter (a discrete term as its mass, then less the kernel's mass in the bounds), then the
// continuous terms summed across parameters and added at once; categoricals always through
// the mixture; a point that no component can produce gets -inf.
func (p *parzen) logPDF5(xs [][]float64) []float64 {
	size := len(xs[0])
	out := make([]float64, size)
	nc := len(p.weights)
	var cont []int
	for j, pp := range p.params {
		if pp.d.Kind != hpo.CategoricalKind && pp.q == 0 {
			cont = append(cont, j)
		}
	}
	row := make([]float64, nc)
	terms := make([]float64, max(nc, len(cont)))
	for i := range out {
		clear(row)
		for j, pp := range p.params {
			x := xs[j][i]
			switch {
			case pp.d.Kind == hpo.CategoricalKind:
				c := int(x)
				for k := range row {
					row[k] += pp.logCat[k][c]
				}
			case pp.q != 0:
				lo, hi := x-pp.q/2, x+pp.q/2
				if pp.d.Log {
					lo, hi = math.Log(lo), math.Log(hi)
				}
				for k := range row {
					mu, sg := pp.mus[k], pp.sigmas[k]
					row[k] += logGaussMass((lo-mu)/sg, (hi-mu)/sg)
					row[k] -= pp.logZ[k]
				}
			}
		}
		if len(cont) > 0 {
			for k := range row {
				for c, j := range cont {
					terms[c] = p.params[j].continuousLogPDF(toTransformed(p.params[j].d, xs[j][i]), k)
				}
				row[k] += pairwiseSum(terms[:len(cont)])
			}
		}
		m := math.Inf(-1)
		for k := range row {
			row[k] += p.logW[k]
			m = math.Max(m, row[k])
		}
		if math.IsInf(m, -1) {
			m = 0
		}
		for k, v := range row {
			terms[k] = math.Exp(v - m)
		}
		out[i] = math.Log(pairwiseSum(terms[:nc])) + m
	}
	return out
}

// pairwiseSum adds as NumPy's sum does: eight running sums for blocks of up to 128 values,
// halves above that.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, x := range a {
			s += x
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		h := n / 2
		h -= h % 8
		return pairwiseSum(a[:h]) + pairwiseSum(a[h:])
	}
}
