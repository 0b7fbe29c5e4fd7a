#!/usr/bin/env bash
# The paper's experiment (Table 1, Figure 5) through real hub processes:
# 10 participants, 5 holding only Fashion-MNIST and 5 only CIFAR-10, train the
# 20-class SIMPLE-CNN (batch 32, 200 steps, Adam, a fresh sample of 6,400
# images per round); the manager merges when all 10 have contributed. The
# centralized baseline is the same model trained by one participant holding
# all the data, with the same number of images per round (10 x 6,400).
# Both are evaluated after every version on the 20,000 test images of both
# datasets. Results: docs/reproduction.md.
#
#   scripts/paper-experiment.sh [--rounds R] [--cifar DIR|TAR.GZ] [--bin DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=20
cifar="$here/../shared/datasets/cifar10-jpeg.tar.gz"
bin="$here/build/bin"
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --cifar) cifar=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "paper-experiment: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
fmnist=/usr/share/datasets/fashion-mnist
[ -f "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "paper-experiment: apt-get install dataset-fashion-mnist" >&2; exit 1; }
[ -e "$cifar" ] || { echo "paper-experiment: CIFAR-10 not found at $cifar (give --cifar DIR or the .tar.gz)" >&2; exit 1; }

. "$here/scripts/hub-session.sh"
start_session paper
if [ -d "$cifar" ]; then
  cifar_dir=$cifar
else
  tar xzf "$cifar" -C "$work"
  cifar_dir=$(dirname "$(find "$work" -maxdepth 3 -type d -name train | head -n 1)")
fi
echo "CIFAR-10 folders: $cifar_dir/{train,test}"

start_hub "$bin" >/dev/null

echo '{"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":200,"samples_per_round":6400}' >"$work/paper.json"
echo '{"optimizer":{"name":"adam","learning_rate":0.001},"batch_size":32,"steps":2000,"samples_per_round":64000}' >"$work/central.json"
for m in paper central; do
  "${manager[@]}" create "$m" --arch "$here/config/simple-cnn-20.arch.json" \
    --labels "$here/config/paper-20-labels.txt" --recipe "$work/$m.json" --seed 1 \
    --min-contributions $([ $m = paper ] && echo 10 || echo 1)
done

fm=(--data "idx:$fmnist/train" --data-labels "$here/config/fashion-mnist-labels.txt")
cf=(--data "folder:$cifar_dir/train")
test_sets=(--data "idx:$fmnist/t10k" --data "folder:$cifar_dir/test" --data-labels "$here/config/fashion-mnist-labels.txt")
# One thread per participant: eleven processes share the two cores.
export OMP_NUM_THREADS=1
for i in 1 2 3 4 5; do
  for kind in fmnist cifar; do
    key=$("${manager[@]}" keys add "$kind-$i")
    src=("${fm[@]}"); [ $kind = cifar ] && src=("${cf[@]}")
    "$bin/fl-participant" run --hub "$hub" --key "$key" --model paper "${src[@]}" --rounds "$rounds" \
      --seed $((1000 * i + ${#kind})) >"$work/$kind-$i.log" 2>&1 &
    pids+=($!)
  done
done
key=$("${manager[@]}" keys add central)
"$bin/fl-participant" run --hub "$hub" --key "$key" --model central "${fm[@]}" "${cf[@]}" --rounds "$rounds" \
  --seed 7 >"$work/central.log" 2>&1 &
pids+=($!)

start=$(date +%s)
unset OMP_NUM_THREADS
"${manager[@]}" watch central --merge-at 1 --versions "$rounds" "${test_sets[@]}" >"$work/central-watch.log" 2>&1 &
pids+=($!)
central_watch=$!
"${manager[@]}" watch paper --merge-at 10 --versions "$rounds" "${test_sets[@]}" 2>&1 | tee "$work/paper-watch.log" |
  grep --line-buffered -E '^version [0-9]+: accuracy'
wait "$central_watch"
echo "time: $(($(date +%s) - start)) s for $rounds rounds"

echo
echo "round  crowd-sourced  centralized"
join <(grep -E '^version [0-9]+: accuracy' "$work/paper-watch.log" | awk '{sub(":","",$2); print $2, $4}') \
     <(grep -E '^version [0-9]+: accuracy' "$work/central-watch.log" | awk '{sub(":","",$2); print $2, $4}') |
  awk '{printf "%5d  %13s  %11s\n", $1, $2, $3}'
echo
echo "== crowd-sourced, per class"
"${manager[@]}" evaluate paper "${test_sets[@]}" 2>/dev/null
echo "== centralized, per class"
"${manager[@]}" evaluate central "${test_sets[@]}" 2>/dev/null
