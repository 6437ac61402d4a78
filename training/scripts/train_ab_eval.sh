#!/usr/bin/env bash
# A/B test of a training change on the series of README "Training": the 6 cross-checked (tags x_), the 14 held-out
# ones of sessions 3-12 (h_) and, since session 13, 23 fresh ones that no decision read before it (f_: the other 21
# Azure V1 VMs and two datacenter aggregates; FRESH=0 leaves them out). `predictor train` with the default kinds,
# once with the flags in $A and once with those in $B, then train_ab_eval.py prints the table and the geometric means
# the adoption rules of README read. From the repository root:
#   A="--selection whole-horizon" B="--selection per-step" training/scripts/train_ab_eval.sh [OUT_DIR]
# (default OUT_DIR /tmp/train_ab_eval; about 3 min on 2 cores for the 20, 7 min with the fresh 23).
# per_step_eval.sh and season_moves_eval.sh call it.
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
if [[ ${FRESH:-1} != 0 ]]; then
  for vm in 1633748 223811 1948107 1962655 586116 1942922 929647 1338378 633346 1650389 1641245 1663289 955492 \
            1471895 964235 809906 1633630 1221771 1054467 810877 594559; do
    run azure-v1 "$data/azure_v1" "azure-v1/vm_$vm" "f_vm_$vm"
  done
  run aggregate "$data/datacenter_aggregates/azure_v2" 'aggregate/azure_v2/cpu_usage' f_agg_azure_v2
  run aggregate "$data/datacenter_aggregates/google2019" 'aggregate/google2019/avg_cpu' f_agg_google2019
fi
/usr/bin/python3 training/scripts/train_ab_eval.py "$out"
