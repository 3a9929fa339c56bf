#!/bin/bash
# Submits N shard tasks and the merge that waits for all of them:
#   examples/slurm/run.sh 16
set -euo pipefail
N=${1:-8}
mkdir -p logs
shards=$(sbatch --parsable --array=0-$((N - 1)) "$(dirname "$0")/build-shards.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$shards" "$(dirname "$0")/merge.sbatch")
echo "submitted shard array $shards ($N tasks) and merge $merge (runs when every task succeeded)"
