#!/usr/bin/python3
"""Reference forecasts from statsmodels' Holt-Winters (an implementation nobody in this project wrote).

Same protocol as `predictor train` (training/Predictor.Training/Backtesting/Backtest.cs): the series is put on its
5-minute grid (gaps linearly interpolated), backtest = round(0.3 n) points at the end, training part
[0, n - backtest), calibration part the next backtest // 2 points, test part the rest. Holt-Winters (additive damped
trend, additive daily season of 288 steps, heuristic initialisation) is fitted on training + calibration, then run
with those fixed parameters over the whole series; the H-step forecast from each test origin t is read from the
filtered states (level, trend, season at t), and checked against statsmodels' own forecast() of a refit with the
same fixed parameters on x[0..t] at a few origins. MASE is scaled by the in-sample seasonal-naive error on the
training part, as ours.

Usage: /usr/bin/python3 holt_winters.py DATASETS_DIR OUT.json
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import ExponentialSmoothing

H = 12
SEASON = 288
SERIES = [
    ("nab/rds_cpu_utilization_cc0c53", "nab", "nab/data/realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv"),
    ("nab/rds_cpu_utilization_e47b3b", "nab", "nab/data/realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv"),
    ("nab/cpu_utilization_asg_misconfiguration", "nab", "nab/data/realKnownCause/cpu_utilization_asg_misconfiguration.csv"),
    ("azure-v1/vm_737498", "azure", "vm_737498"),
    ("azure-v1/vm_1985204", "azure", "vm_1985204"),
    ("azure-v1/vm_618849", "azure", "vm_618849"),
]


def load(root, kind, where):
    if kind == "nab":
        d = pd.read_csv(f"{root}/{where}", parse_dates=["timestamp"]).set_index("timestamp")["value"]
        # Snap to the 5-minute grid; interpolate missing points linearly, as PreparedSeries does.
        grid = pd.date_range(d.index[0], d.index[-1], freq="300s")
        d = d[~d.index.duplicated(keep="last")].reindex(d.index.union(grid)).interpolate("index").reindex(grid)
        return d.to_numpy(dtype=float)
    d = pd.read_csv(f"{root}/azure_v1/microsoft_avg_100.subset30.csv")
    return d[where].to_numpy(dtype=float)


def damp_sum(phi, h):
    return sum(phi ** k for k in range(1, h + 1))


def main():
    root, out = sys.argv[1], sys.argv[2]
    results = {}
    for name, kind, where in SERIES:
        x = load(root, kind, where)
        n = len(x)
        backtest = int(round(n * 0.3))
        train_end = n - backtest
        cal_end = train_end + backtest // 2
        scale = np.mean(np.abs(x[SEASON:train_end] - x[: train_end - SEASON]))

        started = time.perf_counter()
        spec = dict(trend="add", damped_trend=True, seasonal="add", seasonal_periods=SEASON, initialization_method="heuristic")
        fit = ExponentialSmoothing(x[:cal_end], **spec).fit()
        fit_seconds = time.perf_counter() - started
        p = fit.params
        fixed = dict(smoothing_level=p["smoothing_level"], smoothing_trend=p["smoothing_trend"],
                     smoothing_seasonal=p["smoothing_seasonal"], damping_trend=p["damping_trend"], optimized=False)
        known = dict(trend="add", damped_trend=True, seasonal="add", seasonal_periods=SEASON, initialization_method="known",
                     initial_level=p["initial_level"], initial_trend=p["initial_trend"], initial_seasonal=p["initial_seasons"])
        full = ExponentialSmoothing(x, **known).fit(**fixed)
        level, trend, season = np.asarray(full.level), np.asarray(full.trend), np.asarray(full.season)
        phi = p["damping_trend"]

        def forecast(t):
            return np.array([level[t] + damp_sum(phi, h) * trend[t] + season[t + h - SEASON * int(np.ceil(h / SEASON))] for h in range(1, H + 1)])

        origins = range(cal_end - 1, n - H)
        # The state formula must agree with statsmodels' own forecast() of the same filter on x[0..t].
        for t in (origins[0], origins[len(origins) // 2], origins[-1]):
            own = ExponentialSmoothing(x[: t + 1], **known).fit(**fixed).forecast(H)
            assert np.allclose(own, forecast(t), rtol=1e-6, atol=1e-6), (name, t, own, forecast(t))

        err = np.array([x[t + 1: t + 1 + H] - forecast(t) for t in origins])
        snaive = np.array([x[t + 1: t + 1 + H] - np.array([x[t + h - SEASON * int(np.ceil(h / SEASON))] for h in range(1, H + 1)]) for t in origins])
        results[name] = {
            "points": n,
            "origins": len(origins),
            "holt_winters": {"mase": float(np.mean(np.abs(err)) / scale), "mase_at_h": float(np.mean(np.abs(err[:, -1])) / scale), "fit_seconds": fit_seconds},
            "seasonal_naive": {"mase": float(np.mean(np.abs(snaive)) / scale), "mase_at_h": float(np.mean(np.abs(snaive[:, -1])) / scale)},
        }
        print(f"{name}: HW MASE@12 {results[name]['holt_winters']['mase_at_h']:.3f}, seasonal naive {results[name]['seasonal_naive']['mase_at_h']:.3f}, fit {fit_seconds:.1f} s", flush=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
