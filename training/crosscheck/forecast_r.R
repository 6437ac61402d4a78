#!/usr/bin/Rscript
# Reference forecasts from R's forecast package (Hyndman et al.; Debian r-cran-forecast), an implementation nobody
# in this project wrote, on the protocol of `predictor train` (training/Predictor.Training/Backtesting/Backtest.cs)
# and of holt_winters.py beside this file: the series is put on its 5-minute grid (gaps linearly interpolated),
# backtest = round(0.3 n) points at the end, training part [0, n - backtest), calibration part the next
# backtest %/% 2 points, test part the rest. Every model is fitted once on training + calibration, then applied with
# those fixed parameters (no re-estimation) to x[0..t] for every test origin t (rolling, stride 1) and asked for 12
# steps. MASE is scaled by the in-sample seasonal-naive (one day) error on the training part, as ours.
#
# Models (a daily season is 288 steps; ets() and seasonal ARIMA do not model seasons longer than 24 and 350 steps
# in practice, so the package's own recipes for long seasons are used beside the plain ones):
#   ets         ets(y)              -- frequency 288 is too high for ets, which then fits a non-seasonal model (said
#                                      in its warning); the model chosen by AICc is kept for every origin
#   stlf_ets    stlf(y)             -- STL decomposition (s.window 'periodic') + ets on the seasonally adjusted series;
#                                      at each origin STL is recomputed on x[0..t] and the ets model is kept
#   auto_arima  auto.arima(y)       -- non-seasonal ARIMA chosen by auto.arima (stepwise, approximation)
#   arima_fourier auto.arima(y, xreg = fourier(y, K = 4), seasonal = FALSE) -- dynamic harmonic regression: ARIMA
#                                      errors on 4 Fourier pairs of the daily season (Hyndman & Athanasopoulos, FPP2 12.1)
#
# Usage: Rscript forecast_r.R DATASETS_DIR OUT.json [SERIES_REGEX]   (the regex keeps only matching series)
suppressPackageStartupMessages(library(forecast))

H <- 12
SEASON <- 288
K <- 4
series <- list(
  list(name = "nab/rds_cpu_utilization_cc0c53", kind = "nab", where = "nab/data/realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv"),
  list(name = "nab/rds_cpu_utilization_e47b3b", kind = "nab", where = "nab/data/realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv"),
  list(name = "nab/cpu_utilization_asg_misconfiguration", kind = "nab", where = "nab/data/realKnownCause/cpu_utilization_asg_misconfiguration.csv"),
  list(name = "azure-v1/vm_737498", kind = "azure", where = "vm_737498"),
  list(name = "azure-v1/vm_1985204", kind = "azure", where = "vm_1985204"),
  list(name = "azure-v1/vm_618849", kind = "azure", where = "vm_618849")
)

load_series <- function(root, kind, where) {
  if (kind == "nab") {
    d <- read.csv(file.path(root, where), stringsAsFactors = FALSE)
    t <- as.numeric(as.POSIXct(d$timestamp, format = "%Y-%m-%d %H:%M:%S", tz = "UTC"))
    keep <- !duplicated(t, fromLast = TRUE)           # duplicates: the last one wins, as the importer
    t <- t[keep]; v <- d$value[keep]
    o <- order(t); t <- t[o]; v <- v[o]
    grid <- seq(t[1], t[length(t)], by = 300)
    return(approx(t, v, xout = grid, method = "linear", rule = 2)$y)
  }
  d <- read.csv(file.path(root, "azure_v1/microsoft_avg_100.subset30.csv"))
  as.numeric(d[[where]])
}

json_number <- function(x) if (is.finite(x)) format(x, digits = 17) else "null"

main <- function() {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) < 2 || length(args) > 3) stop("usage: Rscript forecast_r.R DATASETS_DIR OUT.json [SERIES_REGEX]")
  root <- args[1]; out <- args[2]
  if (length(args) == 3) series <- Filter(function(s) grepl(args[3], s$name), series)
  entries <- character()
  for (s in series) {
    x <- load_series(root, s$kind, s$where)
    n <- length(x)
    backtest <- round(n * 0.3)
    train_end <- n - backtest
    cal_end <- train_end + backtest %/% 2
    scale <- mean(abs(x[(SEASON + 1):train_end] - x[1:(train_end - SEASON)]))
    origins <- (cal_end - 1):(n - H - 1)                # 0-based origins t, as the C# backtest
    fitted_on <- ts(x[1:cal_end], frequency = SEASON)
    fx <- fourier(ts(x, frequency = SEASON), K = K)      # one Fourier design for the whole grid: row i is step i - 1

    models <- list()
    started <- proc.time()[["elapsed"]]
    ets_fit <- suppressWarnings(ets(fitted_on))
    models$ets <- list(seconds = proc.time()[["elapsed"]] - started, label = ets_fit$method,
                       at = function(y) forecast(suppressWarnings(ets(y, model = ets_fit, use.initial.values = TRUE)), h = H)$mean)
    started <- proc.time()[["elapsed"]]
    stl_fit <- stlf(fitted_on, h = H, s.window = "periodic", method = "ets")
    models$stlf_ets <- list(seconds = proc.time()[["elapsed"]] - started, label = stl_fit$method,
                            at = function(y) {
                              # stlf's own steps with the ets model kept: STL on x[0..t], ets on the adjusted series,
                              # plus the last season of the (periodic) seasonal component.
                              d <- stl(y, s.window = "periodic")
                              m <- length(y)
                              adjusted <- forecast(ets(seasadj(d), model = stl_fit$model, use.initial.values = TRUE), h = H)$mean
                              as.numeric(adjusted) + as.numeric(seasonal(d))[(m - SEASON + 1):(m - SEASON + H)]
                            })
    started <- proc.time()[["elapsed"]]
    arima_fit <- auto.arima(as.numeric(fitted_on))
    models$auto_arima <- list(seconds = proc.time()[["elapsed"]] - started, label = paste(deparse(arimaorder(arima_fit)), collapse = ""),
                              at = function(y) forecast(Arima(as.numeric(y), model = arima_fit), h = H)$mean)
    started <- proc.time()[["elapsed"]]
    dhr_fit <- auto.arima(as.numeric(fitted_on), xreg = fx[1:cal_end, ], seasonal = FALSE)
    models$arima_fourier <- list(seconds = proc.time()[["elapsed"]] - started, label = paste(deparse(arimaorder(dhr_fit)), collapse = ""),
                                 at = function(y) {
                                   m <- length(y)
                                   forecast(Arima(as.numeric(y), model = dhr_fit, xreg = fx[1:m, ]), h = H, xreg = fx[(m + 1):(m + H), ])$mean
                                 })

    parts <- character()
    for (name in names(models)) {
      m <- models[[name]]
      err <- matrix(0, nrow = length(origins), ncol = H)
      for (i in seq_along(origins)) {
        t <- origins[i]
        y <- ts(x[1:(t + 1)], frequency = SEASON)
        err[i, ] <- x[(t + 2):(t + 1 + H)] - as.numeric(m$at(y))
      }
      mase <- mean(abs(err)) / scale
      mase_h <- mean(abs(err[, H])) / scale
      cat(sprintf("%s %s (%s): MASE %.3f, MASE@12 %.3f, fit %.1f s\n", s$name, name, m$label, mase, mase_h, m$seconds))
      parts <- c(parts, sprintf("\"%s\": {\"model\": \"%s\", \"mase\": %s, \"mase_at_h\": %s, \"fit_seconds\": %s}",
                                name, gsub("\"", "'", m$label), json_number(mase), json_number(mase_h), json_number(m$seconds)))
    }
    snaive <- t(sapply(origins, function(t) x[(t + 2):(t + 1 + H)] - x[(t + 2 - SEASON):(t + 1 + H - SEASON)]))
    parts <- c(parts, sprintf("\"seasonal_naive\": {\"mase\": %s, \"mase_at_h\": %s}",
                              json_number(mean(abs(snaive)) / scale), json_number(mean(abs(snaive[, H])) / scale)))
    entries <- c(entries, sprintf("\"%s\": {\"points\": %d, \"origins\": %d, %s}", s$name, n, length(origins), paste(parts, collapse = ", ")))
  }
  writeLines(paste0("{\n", paste(entries, collapse = ",\n"), "\n}"), out)
}

main()
