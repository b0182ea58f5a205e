package samplers

import "math"

// Truncated normal helpers for the Parzen estimators, in log space so that kernels far from the
// bounds neither underflow nor lose all digits.

// logSqrt2Pi is rounded as Optuna rounds it (log of the root, not half the log).
var logSqrt2Pi = math.Log(math.Sqrt(2 * math.Pi))

// ndtr is the standard normal CDF, through erf near the centre and erfc in the tails (the
// branches of Optuna's _ndtr_single, so that both round alike).
func ndtr(a float64) float64 {
	x := a / math.Sqrt2
	switch {
	case x < -1/math.Sqrt2:
		return 0.5 * math.Erfc(-x)
	case x < 1/math.Sqrt2:
		return 0.5 + 0.5*math.Erf(x)
	default:
		return 1 - 0.5*math.Erfc(x)
	}
}

// logNdtr is log(ndtr(x)), with the asymptotic series where ndtr underflows.
func logNdtr(x float64) float64 {
	if x > 6 {
		return -ndtr(-x) // log(1-e) ~ -e
	}
	if x > -20 {
		return math.Log(ndtr(x))
	}
	// log Phi(x) = -x^2/2 - log(-x) - log sqrt(2 pi) + log(1 - 1/x^2 + 3/x^4 - ...)
	lhs := -0.5*x*x - math.Log(-x) - 0.5*math.Log(2*math.Pi)
	last, sum, num, denom, sign := 0.0, 1.0, 1.0, 1.0, 1.0
	inv := 1 / (x * x)
	for i := 1; math.Abs(last-sum) > 0x1p-52; i++ {
		last = sum
		sign = -sign
		denom *= inv
		num *= float64(2*i - 1)
		sum += sign * num * denom
	}
	return lhs + math.Log(sum)
}

// logGaussMass is log(Phi(b) - Phi(a)) for a <= b, computed in the left tail to keep digits.
func logGaussMass(a, b float64) float64 {
	switch {
	case b <= 0:
		lb, la := logNdtr(b), logNdtr(a)
		return lb + math.Log1p(-math.Exp(la-lb))
	case a > 0:
		return logGaussMass(-b, -a)
	default:
		return math.Log1p(-ndtr(a) - ndtr(-b))
	}
}

// ndtriExp inverts logNdtr: the x with log Phi(x) = y. Acklam's rational approximation refined
// by one Halley step is accurate to about 1e-15 wherever exp(y) is a normal float64; deeper in
// the left tail it falls back to bisection, as Optuna does everywhere.
func ndtriExp(y float64) float64 {
	if y > -700 {
		return ndtri(math.Exp(y))
	}
	lo, hi := -40.0, 0.0
	for i := 0; i < 64; i++ {
		m := 0.5 * (lo + hi)
		if logNdtr(m) < y {
			lo = m
		} else {
			hi = m
		}
	}
	return 0.5 * (lo + hi)
}

// Coefficients of Acklam's approximation to the normal quantile.
var (
	acklamA = [6]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
		1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	acklamB = [5]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
		6.680131188771972e+01, -1.328068155288572e+01}
	acklamC = [6]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
		-2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	acklamD = [4]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
		3.754408661907416e+00}
)

// ndtri is the standard normal quantile of p in (0, 1].
func ndtri(p float64) float64 {
	if p <= 0 {
		return math.Inf(-1)
	}
	if p >= 1 {
		return math.Inf(1)
	}
	a, b, c, d := acklamA, acklamB, acklamC, acklamD
	var x float64
	switch {
	case p < 0.02425:
		q := math.Sqrt(-2 * math.Log(p))
		x = (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p > 1-0.02425:
		q := math.Sqrt(-2 * math.Log1p(-p))
		x = -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q + c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	default:
		q := p - 0.5
		r := q * q
		x = (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
	}
	// Halley step on Phi(x) - p.
	e := ndtr(x) - p
	u := e * math.Sqrt(2*math.Pi) * math.Exp(x*x/2)
	return x - u/(1+x*u/2)
}

// truncnormPPF is the quantile q of the standard normal truncated to [a, b].
func truncnormPPF(q, a, b float64) float64 {
	if q <= 0 {
		return a
	}
	if q >= 1 {
		return b
	}
	mass := logGaussMass(a, b)
	if a < 0 {
		return ndtriExp(logAddExp(logNdtr(a), math.Log(q)+mass))
	}
	return -ndtriExp(logAddExp(logNdtr(-b), math.Log1p(-q)+mass))
}

func logAddExp(x, y float64) float64 {
	if x < y {
		x, y = y, x
	}
	if math.IsInf(y, -1) {
		return x
	}
	return x + math.Log1p(math.Exp(y-x))
}
