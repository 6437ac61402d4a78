#!/usr/bin/env bash
# Trains the default models in models/ (models/naive.onnx is written by `predictor models write-baseline`, see README) from ../shared/datasets (run from the repository root). Deterministic: running
# it again rewrites byte-identical files. Prints each command's table, then the total time.
set -euo pipefail
cd "$(dirname "$0")/.."
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
dotnet build -c Release engine/Predictor.Cli -v quiet -nologo >/dev/null
predictor=engine/Predictor.Cli/bin/Release/net10.0/predictor
data=../shared/datasets
start=$(date +%s.%N)
"$predictor" train --format nab --dataset "$data/nab/data/realAWSCloudwatch" --series 'nab/rds_cpu_utilization_cc0c53' --horizon 12 --out models/nab_rds_cc0c53.onnx --json models/nab_rds_cc0c53.json
"$predictor" train --format nab --dataset "$data/nab/data/realAWSCloudwatch" --series 'nab/rds_cpu_utilization_e47b3b' --horizon 12 --out models/nab_rds_e47b3b.onnx --json models/nab_rds_e47b3b.json
"$predictor" train --format nab --dataset "$data/nab/data/realKnownCause" --series 'nab/cpu_utilization_asg_misconfiguration' --horizon 12 --out models/nab_asg_misconfiguration.onnx --json models/nab_asg_misconfiguration.json
for vm in 737498 1985204 618849; do
  "$predictor" train --format azure-v1 --dataset "$data/azure_v1" --series "azure-v1/vm_$vm" --horizon 12 --out "models/azure_v1_vm_$vm.onnx" --json "models/azure_v1_vm_$vm.json"
done
end=$(date +%s.%N)
echo "default models trained in $(echo "$end - $start" | bc) s"
