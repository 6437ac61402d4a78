#!/usr/bin/env bash
# The gbdt candidate without and with season moves (README "Season moves"): the adoption test reads the geometric
# means train_ab_eval.py prints. From the repository root:
#   training/scripts/season_moves_eval.sh [OUT_DIR]      (default /tmp/season_moves_eval; about 10 min on 2 cores)
exec env A="--gbdt-season-moves off" B="--gbdt-season-moves on" "$(dirname "$0")/train_ab_eval.sh" "${1:-/tmp/season_moves_eval}"
