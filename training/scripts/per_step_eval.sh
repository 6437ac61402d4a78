#!/usr/bin/env bash
# Horizon-aware (per-step) vs whole-horizon selection (docs/training-experiments.md, "Horizon-aware (per-step) selection"): the adoption test
# reads the "selected" geometric means train_ab_eval.py prints. From the repository root:
#   training/scripts/per_step_eval.sh [OUT_DIR]      (default /tmp/per_step_eval; about 10 min on 2 cores)
exec env A="--selection whole-horizon" B="--selection per-step" "$(dirname "$0")/train_ab_eval.sh" "${1:-/tmp/per_step_eval}"
