#!/usr/bin/env bash
# The paper's scenario on loopback: a hub, a manager that merges whenever all
# three participants have contributed, and three participants that each hold
# only some of the Fashion-MNIST classes. Prints each new version's accuracy
# on the full 10,000-image test set; ends with "demo: version V accuracy A".
set -euo pipefail
bin=${1:-build/bin}
rounds=${DEMO_ROUNDS:-25}
fmnist=/usr/share/datasets/fashion-mnist
here=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "demo: Fashion-MNIST is missing: apt-get install dataset-fashion-mnist" >&2; exit 1; }

. "$here/scripts/hub-session.sh"
start_session demo

# 1. The hub, on any free port; its first line tells which.
start_hub "$bin"

# 2. The manager creates the model (the paper's step 1).
"${manager[@]}" create fashion-mlp --arch "$here/config/fmnist-mlp.arch.json" \
  --labels "$here/config/fashion-mnist-labels.txt" --recipe "$here/config/adam.recipe.json" --seed 7

# 3. Three participants, none holding every class (steps 2 and 3, in a loop).
participants=()
classes=("0,1,2,3,4,5" "3,4,5,6,7,8" "0,1,2,6,7,8,9")
for i in 0 1 2; do
  name="org-$((i + 1))"
  key=$("${manager[@]}" keys add "$name" --role participant)
  echo "participant $name holds classes ${classes[$i]}"
  "$bin/fl-participant" run --hub "$hub" --key "$key" --model fashion-mlp \
    --data "idx:$fmnist/train:${classes[$i]}" --rounds "$rounds" --seed $((100 * (i + 1))) \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  participants+=($!)
done

# 4. The manager merges whenever all three have contributed and evaluates
#    every new version on the whole test set.
"${manager[@]}" watch fashion-mlp --merge-at 3 --versions "$rounds" --data "idx:$fmnist/t10k" | tee "$work/watch.log"

for i in 0 1 2; do wait "${participants[$i]}" || { echo "demo: participant org-$((i + 1)) failed:" >&2; cat "$work/org-$((i + 1)).log" >&2; exit 1; }; done
last=$(grep -E '^version [0-9]+: accuracy' "$work/watch.log" | tail -n 1)
[ -n "$last" ] || { echo "demo: no evaluation was printed" >&2; exit 1; }
read -r _ v _ acc _ <<<"$last"
echo "demo: version ${v%:} accuracy $acc"
