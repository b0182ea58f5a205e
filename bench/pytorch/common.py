"""Shared pieces of the PyTorch reference benchmarks: data readers, the seed's two networks, and
the one-line JSON report. Run the scripts with Debian's /usr/bin/python3 (python3-torch 1.13,
python3-optuna 3.1); see bench/README.md.
"""

import csv
import gzip
import json
import os
import platform
import resource
import struct
import sys
import time

# The 1-minute load average when the script started, before it loaded torch or did any work: the
# load the run met, which bench/go's table reads for its noisy rule (load_avg_1m, read when the
# script reports, counts the script's own threads).
LOAD_AT_START = round(os.getloadavg()[0], 2)
# The CPUs this process may run on, as nproc counts them (os.cpu_count() is the machine's).
CORES = len(os.sched_getaffinity(0))

# Set before torch loads libgomp and OpenBLAS, which read them once. On a shared, loaded machine
# libgomp's default spin-waiting and OpenBLAS's own extra threads cost 50-200x on small ops (the
# regression epoch measured 3.5 s instead of 16 ms at load 20 on 2 cores); the Go side does not
# spin. Set them in the environment to measure other settings (e.g. OMP_WAIT_POLICY=ACTIVE).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

THREADS = 2
FASHION_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
REGRESSION_DIR = os.environ.get("REGRESSION_DIR", "/work/shared/data/regression")

# The seed's best regression hyperparameters (homework1.md, TABLE II).
REG_HIDDEN = (216, 154)
REG_EPOCHS = 180
REG_BATCH = 10
REG_LR = 0.00137
REG_WEIGHT_DECAY = 7.5e-5

# The seed's best classification hyperparameters (homework1.md, TABLE IV).
CNN_LR = 0.00214
CNN_WEIGHT_DECAY = 5.5e-5
CNN_DROPOUT = (0.41, 0.24)


def setup(seed=0):
    """Same thread count and seeds for every script, so runs compare."""
    torch.set_num_threads(THREADS)
    torch.manual_seed(seed)
    np.random.seed(seed)


def read_idx(path):
    """Reads a gzipped IDX file (Fashion-MNIST) into a numpy uint8 array of its dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    payload = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if payload.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {payload.size} bytes of data, header says {dims}")
    return payload.reshape(dims)


def fashion_mnist(split):
    """Returns (images float32 [N,1,28,28] scaled to [0,1], labels int64 [N]) for "train" or "t10k"."""
    x = read_idx(os.path.join(FASHION_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FASHION_DIR, f"{split}-labels-idx1-ubyte.gz"))
    images = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return images, torch.from_numpy(y.astype(np.int64))


def regression_csv(name):
    """Reads train_data.csv or test_data.csv (header input,label) into float32 tensors [N,1]."""
    path = os.path.join(REGRESSION_DIR, name)
    xs, ys = [], []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["input", "label"]:
            raise ValueError(f"{path}: header {header}, want input,label")
        for line, row in enumerate(reader, start=2):
            try:
                xs.append(float(row[0]))
                ys.append(float(row[1]))
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path} line {line}: {e}") from e
    as_col = lambda v: torch.tensor(v, dtype=torch.float32).unsqueeze(1)
    return as_col(xs), as_col(ys)


class LeNet5(nn.Module):
    """The seed's LeNet5: conv 1->6 (5x5, pad 2), max pool 2, conv 6->16 (5x5), max pool 2,
    dropout, dense 400->120, dropout, 120->84, 84->10, ReLU after each hidden layer."""

    def __init__(self, dropout=CNN_DROPOUT):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5, stride=1, padding=0), nn.ReLU(), nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(dropout[0]), nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(dropout[1]),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def mlp(hidden=REG_HIDDEN):
    """The seed's Net_flex for regression: 1 -> hidden... -> 1, ReLU, no dropout."""
    layers, width = [], 1
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def train_epoch(model, opt, loss_fn, x, y, batch, generator=None):
    """One epoch over (x, y) in shuffled mini-batches by tensor slicing (no DataLoader, whose
    per-sample Python overhead would dominate); returns the mean batch loss."""
    model.train()
    order = torch.randperm(len(x), generator=generator)
    total, n = 0.0, 0
    for start in range(0, len(x), batch):
        idx = order[start : start + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item()
        n += 1
    return total / n


def peak_rss_mib():
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def report(bench, **fields):
    """Prints the one JSON line of a script: what was measured and where."""
    line = {"bench": bench, "side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "omp_wait_policy": os.environ["OMP_WAIT_POLICY"],
            "openblas_threads": os.environ["OPENBLAS_NUM_THREADS"], "cpus": os.cpu_count(), "cores": CORES,
            "load_avg_1m_start": LOAD_AT_START, "load_avg_1m": round(os.getloadavg()[0], 2)}
    line.update(fields)
    print(json.dumps(line), flush=True)


class Timer:
    """Wall-clock seconds of a with-block, as .seconds, and this process's CPU seconds (all
    threads, user+system), as .cpu: on a loaded machine wall time measures the load, CPU time
    much less so (on an idle one, wall is about cpu/THREADS when both threads are busy)."""

    def __enter__(self):
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
        return False


def fail(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)
