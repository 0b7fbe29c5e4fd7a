#!/usr/bin/env bash
# Installs the Debian packages fedhub needs when they are missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libcaf-dev librocksdb-dev libflatbuffers-dev flatbuffers-compiler
  libeigen3-dev libboost-test-dev libboost-dev libboost-program-options-dev
  nlohmann-json3-dev libstb-dev libssl-dev zlib1g-dev libxxhash-dev
  dataset-fashion-mnist
  # ONNX models in and out (formats/onnx_*): the generated onnx-ml.pb.h, libonnx_proto
  # and libprotobuf; python3-onnx for tests/python/test_onnx.py's onnx.checker.
  libonnx-dev libprotobuf-dev python3-onnx
  # Keras's HDF5 weights files (formats/keras_h5): libhdf5 1.10; python3-h5py writes Keras's
  # layouts in tests/python/test_keras_h5.py.
  libhdf5-dev python3-h5py
  # The HTTP door's tests and dashboard: curl (docs/http-api.md's examples), Chart.js
  # (served by the hub), Chromium and ChromeDriver (tests/web).
  curl libjs-chart.js chromium chromium-driver
  # The Python participant (clients/python) and the benchmarks' PyTorch peer.
  python3-torch python3-numpy python3-flatbuffers python3-pil python3-setuptools
)
# make fuzz (docs/fuzzing.md): clang and its libFuzzer runtime.
[ "${1:-}" = fuzz ] && packages+=(clang libclang-rt-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
else
  echo "install-deps: missing Debian packages: ${missing[*]}" >&2
  echo "install-deps: run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
