#!/usr/bin/python3
"""Fits scikit-learn's HistGradientBoostingRegressor on feature matrices exported by Predictor's GBDT tests.

Run with Debian's python3 (python3-sklearn, python3-numpy). Usage:
    gbdt_sklearn_crosscheck.py DIR
DIR holds meta.json and raw little-endian float32 matrices written by the C# side:
    x_train.f32 [n_train, width], y_train.f32 [n_train, horizon], x_test.f32 [n_test, width]
meta.json: {"window": W (columns before the calendar; the last of them is x(t)), "horizon": H, "n_train": .., "n_test": .., "width": .., "difference": bool,
            "params": {"max_iter": .., "learning_rate": .., "max_leaf_nodes": .., "max_depth": null|int,
                       "min_samples_leaf": .., "l2_regularization": .., "max_bins": ..}}
Direct multi-horizon, as Predictor: one regressor per horizon step, on the same targets (x(t+h) - x(t) when
"difference", the last window value added back after). Early stopping is off: scikit-learn's validation split is
random, Predictor's is the latest rows, so both fit exactly max_iter rounds here.
Threads: scikit-learn's OpenMP, set OMP_NUM_THREADS to match Predictor's MaxDegreeOfParallelism.
Writes DIR/sklearn_pred.f32 [n_test, horizon] and DIR/sklearn.json {"fit_seconds": .., "fit_cpu_seconds": .., "omp_num_threads": ..}.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor


def main(directory):
    with open(os.path.join(directory, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    w, h, width = meta["window"], meta["horizon"], meta["width"]
    n_train, n_test = meta["n_train"], meta["n_test"]

    def load(name, rows, cols):
        return np.fromfile(os.path.join(directory, name), dtype="<f4").reshape(rows, cols)

    x_train = load("x_train.f32", n_train, width)
    y_train = load("y_train.f32", n_train, h).astype(np.float64)
    x_test = load("x_test.f32", n_test, width)
    last_train = x_train[:, w - 1].astype(np.float64) if meta["difference"] else np.zeros(n_train)
    last_test = x_test[:, w - 1].astype(np.float64) if meta["difference"] else np.zeros(n_test)

    p = meta["params"]
    pred = np.empty((n_test, h), dtype=np.float64)
    fit_seconds = 0.0
    fit_cpu_seconds = 0.0
    for step in range(h):
        model = HistGradientBoostingRegressor(
            loss="squared_error",
            learning_rate=p["learning_rate"],
            max_iter=p["max_iter"],
            max_leaf_nodes=p["max_leaf_nodes"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            l2_regularization=p["l2_regularization"],
            max_bins=p["max_bins"],
            early_stopping=False,
            random_state=0,
        )
        target = y_train[:, step] - last_train
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x_train, target)
        fit_seconds += time.perf_counter() - start
        fit_cpu_seconds += time.process_time() - cpu_start
        pred[:, step] = model.predict(x_test) + last_test

    pred.astype("<f4").tofile(os.path.join(directory, "sklearn_pred.f32"))
    with open(os.path.join(directory, "sklearn.json"), "w", encoding="utf-8") as f:
        json.dump({"fit_seconds": fit_seconds, "fit_cpu_seconds": fit_cpu_seconds, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}, f)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gbdt_sklearn_crosscheck.py DIR")
    main(sys.argv[1])
