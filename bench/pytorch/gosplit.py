"""The project's data splits (lib/data/split.go) in plain Python, so that the PyTorch reference
trains on the very examples the project trains on: the same seeded permutation, k-fold split,
80/20 holdout and stratified subset, index for index. No torch or numpy here (bench/go's tests
run this file with any python3 to check it against lib/data).

The generator is the one lib/data documents: Go's math/rand/v2 PCG (a 128-bit linear congruential
state with the DXSM output function) seeded with (seed, 0x5851f42d4c957f2d), drawn by a
Fisher-Yates shuffle from the last index down, with Lemire's multiply-and-reject bounded draw.
"""

M64 = (1 << 64) - 1
M128 = (1 << 128) - 1
PCG_STREAM = 0x5851F42D4C957F2D
# The multiplier and increment of Go's PCG (math/rand/v2/pcg.go), as 128-bit numbers.
PCG_MUL = (2549297995355413924 << 64) | 4865540595714422341
PCG_INC = (6364136223846793005 << 64) | 1442695040888963407
DXSM_MUL = 0xDA942042E4DD58B5


class PCG:
    """Go's rand.NewPCG(seed1, seed2): Uint64 advances the state, then mixes its halves."""

    def __init__(self, seed1, seed2=PCG_STREAM):
        self.state = ((seed1 & M64) << 64) | (seed2 & M64)

    def uint64(self):
        self.state = (self.state * PCG_MUL + PCG_INC) & M128
        hi, lo = self.state >> 64, self.state & M64
        hi ^= hi >> 32
        hi = (hi * DXSM_MUL) & M64
        hi ^= hi >> 48
        return (hi * (lo | 1)) & M64


def _bounded(src, n):
    """A uniform draw in [0, n): the high half of a 64x64-bit product, rejecting the biased low."""
    prod = src.uint64() * n
    lo = prod & M64
    if lo < n:
        threshold = ((1 << 64) - n) % n
        while lo < threshold:
            prod = src.uint64() * n
            lo = prod & M64
    return prod >> 64


def _shuffle(p, src):
    for i in range(len(p) - 1, 0, -1):
        j = _bounded(src, i + 1)
        p[i], p[j] = p[j], p[i]


def permutation(n, seed):
    """data.Permutation(n, seed)."""
    p = list(range(n))
    _shuffle(p, PCG(seed))
    return p


def kfold(n, k, seed):
    """data.KFold(n, k, seed): k (train, val) pairs of sorted index lists; the first n%k folds
    validate one more sample."""
    if not 2 <= k <= n:
        raise ValueError(f"k-fold: k={k} folds of {n} samples, need 2 <= k <= n")
    perm = permutation(n, seed)
    folds, start = [], 0
    for i in range(k):
        size = n // k + (1 if i < n % k else 0)
        val = sorted(perm[start : start + size])
        train = sorted(perm[:start] + perm[start + size :])
        folds.append((train, val))
        start += size
    return folds


def holdout(n, val_fraction, seed):
    """data.Holdout(n, val_fraction, seed): (train, val), round(n*val_fraction) validating (half
    away from zero, as Go's math.Round, not Python's round to even)."""
    n_val = int(n * val_fraction + 0.5)
    if not 1 <= n_val <= n - 1:
        raise ValueError(f"holdout: {n} samples with validation fraction {val_fraction} leave an empty part")
    perm = permutation(n, seed)
    return sorted(perm[n_val:]), sorted(perm[:n_val])


def _apportion(counts, total):
    """Quotas of total in proportion to counts, by largest remainder with ties to the lower class."""
    n = sum(counts)
    q = [0] * len(counts)
    if n == 0 or total == 0:
        return q
    rem = [0] * len(counts)
    for i, c in enumerate(counts):
        q[i], rem[i] = divmod(c * total, n)
    left = total - sum(q)
    order = sorted(range(len(counts)), key=lambda i: -rem[i])  # stable: ties keep class order
    for i in order[:left]:
        q[i] += 1
    return q


def stratified_subset(labels, n_train, n_val, seed):
    """data.StratifiedSubset(labels, n_train, n_val, seed): disjoint sorted train and validation
    index lists, each with the classes in the proportions of labels (0..255); within a class the
    samples come in the order of one seeded shuffle per class, in class order, from one generator."""
    if n_train < 0 or n_val < 0 or n_train + n_val > len(labels):
        raise ValueError(f"stratified subset: {n_train} train + {n_val} validation samples from {len(labels)}")
    by_class = [[] for _ in range(256)]
    for i, label in enumerate(labels):
        by_class[int(label)].append(i)
    counts = [len(c) for c in by_class]
    q_train, q_val = _apportion(counts, n_train), _apportion(counts, n_val)
    src = PCG(seed)
    train, val = [], []
    for c, members in enumerate(by_class):
        if q_train[c] + q_val[c] > counts[c]:
            raise ValueError(f"stratified subset: class {c} has {counts[c]} samples, needs {q_train[c]} + {q_val[c]}")
        if not members:
            continue
        _shuffle(members, src)
        train += members[: q_train[c]]
        val += members[q_train[c] : q_train[c] + q_val[c]]
    return sorted(train), sorted(val)


if __name__ == "__main__":
    # For bench/go's cross-check (gosplit_test.go): reads {"labels", "n_train", "n_val", "seed",
    # "n", "k"} as JSON on stdin and prints the splits as JSON.
    import json
    import sys

    req = json.load(sys.stdin)
    out = {
        "permutation": permutation(req["n"], req["seed"]),
        "kfold": kfold(req["n"], req["k"], req["seed"]),
        "holdout": holdout(req["n"], 0.2, req["seed"]),
        "stratified": stratified_subset(req["labels"], req["n_train"], req["n_val"], req["seed"]),
    }
    json.dump(out, sys.stdout)
