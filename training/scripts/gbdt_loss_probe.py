#!/usr/bin/python3
"""Offline probe: does gradient boosting fitted with absolute-error loss forecast the Azure V1 VMs better than with
squared-error loss, as scored by the issue's metric (step-12 MASE, i.e. mean absolute error)?

Not Predictor's GBDT and not its features: scikit-learn's HistGradientBoostingRegressor (Debian python3-sklearn, run
with /usr/bin/python3), one model for step 12 only, on features written here in the spirit of Predictor's (the last
4 hours as differences from x(t), x(t), the time of day, the value one day before the target minus x(t), and
yesterday's moves over the coming hour). Target x(t+12) - x(t). Fitted on the first 85 % of the series (training +
calibration, as `--refit-before-test` fits), scored on every origin of the last 15 % (the test part); the score is
the mean |error| divided by seasonal naive's on the same origins, so it reads as "x seasonal naive". Early stopping
on scikit-learn's own 10 % validation split; random_state 0, so the run is repeatable.

Usage:
    gbdt_loss_probe.py [DATASETS_DIR] [VM ...]
DATASETS_DIR defaults to ../shared/datasets (beside the project root); with no VM names, all 30 VMs of
azure_v1/microsoft_avg_100.subset30.csv. Prints one line per VM and the geometric means. About 10 s per VM on 2 cores, 5 minutes for all 30.
"""
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

SEASON = 288  # one day of 5-minute steps
HORIZON = 12  # one hour
LAGS = 48  # four hours


def features(x, origin):
    lags = x[origin - LAGS + 1:origin + 1] - x[origin]
    moves = x[origin - SEASON + 1:origin - SEASON + HORIZON + 1] - x[origin - SEASON]
    time_of_day = (origin % SEASON) / SEASON
    return np.concatenate([lags, [x[origin], time_of_day, x[origin + HORIZON - SEASON] - x[origin]], moves])


def score(x, loss):
    n = len(x)
    origins = np.arange(SEASON + LAGS + HORIZON, n - HORIZON)
    inputs = np.array([features(x, o) for o in origins])
    targets = x[origins + HORIZON] - x[origins]
    cut = int(n * 0.85) - 1
    train = origins + HORIZON < cut  # the target lies in training + calibration
    test = origins >= cut
    model = HistGradientBoostingRegressor(
        loss=loss, learning_rate=0.1, max_iter=200, max_leaf_nodes=31, min_samples_leaf=20,
        early_stopping=True, validation_fraction=0.1, random_state=0)
    model.fit(inputs[train], targets[train])
    forecast = model.predict(inputs[test]) + x[origins[test]]
    actual = x[origins[test] + HORIZON]
    seasonal_naive = x[origins[test] + HORIZON - SEASON]
    return np.mean(np.abs(actual - forecast)) / np.mean(np.abs(actual - seasonal_naive))


def main(argv):
    root = argv[0] if argv else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
    path = os.path.join(root, "azure_v1", "microsoft_avg_100.subset30.csv")
    if not os.path.isfile(path):
        sys.exit(f"gbdt_loss_probe: {path} not found; pass the datasets folder as the first argument.")
    frame = pd.read_csv(path)
    names = argv[1:] or [c for c in frame.columns if c.startswith("vm_")]
    missing = [v for v in names if v not in frame.columns]
    if missing:
        sys.exit(f"gbdt_loss_probe: {', '.join(missing)} not in {path}; use column names such as vm_737498.")
    warnings.filterwarnings("ignore")
    rows = []
    for name in names:
        x = frame[name].to_numpy(dtype=float)
        squared, absolute = score(x, "squared_error"), score(x, "absolute_error")
        rows.append((squared, absolute))
        print(f"{name}: squared {squared:.3f}  absolute {absolute:.3f}  x seasonal naive", flush=True)
    rows = np.array(rows)
    wins = int(np.sum(rows[:, 1] < rows[:, 0]))
    print(f"geomean over {len(rows)}: squared {np.exp(np.log(rows[:, 0]).mean()):.4f}, "
          f"absolute {np.exp(np.log(rows[:, 1]).mean()):.4f}; absolute better on {wins} of {len(rows)}")


if __name__ == "__main__":
    main(sys.argv[1:])
