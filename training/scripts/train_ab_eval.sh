#!/usr/bin/env bash
# A/B test of a training change on the 20 series of README "Training" (the 6 cross-checked and the 14 held-out ones):
# `predictor train` with the default kinds, once with the flags in $A and once with those in $B, then
# train_ab_eval.py prints the table and the geometric means the adoption rules of README read. From the repository root:
#   A="--selection whole-horizon" B="--selection per-step" training/scripts/train_ab_eval.sh [OUT_DIR]
# (default OUT_DIR /tmp/train_ab_eval; about 10 min on 2 cores). per_step_eval.sh and season_moves_eval.sh call it.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/train_ab_eval}
: "${A?set A to the flags of variant a (may be empty)}" "${B?set B to the flags of variant b}"
mkdir -p "$out"
printf '%s\n' "$A" > "$out/a.flags"
printf '%s\n' "$B" > "$out/b.flags"
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
dotnet build -c Release engine/Predictor.Cli -v quiet -nologo >/dev/null
predictor=engine/Predictor.Cli/bin/Release/net10.0/predictor
data=../shared/datasets
run() { # format dataset series tag
  local variant flags
  for variant in a b; do
    if [[ $variant == a ]]; then flags=$A; else flags=$B; fi
    # shellcheck disable=SC2086 # the flags are words to split
    "$predictor" train --format "$1" --dataset "$2" --series "$3" --horizon 12 $flags \
      --out "$out/$4.$variant.onnx" --json "$out/$4.$variant.json" | tail -n 1 > "$out/$4.$variant.txt"
  done
}
run nab "$data/nab/data/realAWSCloudwatch" 'nab/rds_cpu_utilization_cc0c53' x_cc0c53
run nab "$data/nab/data/realAWSCloudwatch" 'nab/rds_cpu_utilization_e47b3b' x_e47b3b
run nab "$data/nab/data/realKnownCause" 'nab/cpu_utilization_asg_misconfiguration' x_asg
for vm in 737498 1985204 618849; do run azure-v1 "$data/azure_v1" "azure-v1/vm_$vm" "x_vm_$vm"; done
for id in 24ae8d 53ea38 5f5533 77c1ca 825cc2 ac20cd c6585a fe7f93; do
  run nab "$data/nab/data/realAWSCloudwatch" "nab/ec2_cpu_utilization_$id" "h_ec2_$id"
done
for vm in 715586 1102195 942980 1102397 964155 282785; do run azure-v1 "$data/azure_v1" "azure-v1/vm_$vm" "h_vm_$vm"; done
/usr/bin/python3 training/scripts/train_ab_eval.py "$out"
