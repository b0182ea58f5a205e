"""Prints what Optuna sees of a study written by hw1, as JSON, for cmd/hw1's storage tests.

    optuna_trials.py STORAGE STUDY

STORAGE is a postgresql:// URL (optuna.load_study's storage) or the path of a journal file
(JournalStorage(JournalFileBackend(path))). Values that JSON cannot hold (NaN, infinities) are
printed as null.
"""

import json
import math
import sys

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend


def main():
    url, name = sys.argv[1], sys.argv[2]
    storage = url if "://" in url else JournalStorage(JournalFileBackend(url))
    study = optuna.load_study(study_name=name, storage=storage)
    trials = []
    for t in study.get_trials(deepcopy=False):
        value = t.value if t.value is not None and math.isfinite(t.value) else None
        trials.append({"number": t.number, "state": t.state.name, "value": value, "params": t.params})
    json.dump({"optuna": optuna.__version__, "direction": study.direction.name, "trials": trials}, sys.stdout)


if __name__ == "__main__":
    main()
