#!/usr/bin/env bash
# Installs the native peers for the comparison benchmark (bench/peers only; the test suite and src/ never need them).
# Idempotent: apt-get install and npm install are no-ops when everything is already there.
#   - PyTorch (Debian's python3-torch, for /usr/bin/python3), python3-onnx (graph building/rewrites), numpy
#   - OpenBLAS (OpenMP build): Debian's default libblas.so.3 is the slow reference BLAS; run.sh puts
#     /usr/lib/x86_64-linux-gnu/openblas-openmp first on LD_LIBRARY_PATH for the PyTorch runs
#   - onnxruntime-node from npm into bench/peers/node_modules (its native libonnxruntime.so ships inside the package,
#     so --ignore-scripts is enough: no post-install download)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PKGS=(python3-torch python3-onnx python3-numpy libopenblas0-openmp)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  mkdir -p "$here/.cache"
  log="$here/.cache/apt-install.log"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1 \
    || { tail -30 "$log" >&2; echo "setup: apt-get failed (full log: $log)" >&2; exit 1; }
else
  echo "setup: apt packages present (${APT_PKGS[*]})"
fi

ORT_VERSION="${ORT_VERSION:-1.20.1}"
cd "$here"
if [ ! -f package.json ]; then echo "setup: package.json missing in $here" >&2; exit 1; fi
if node -e "require('onnxruntime-node')" 2>/dev/null; then
  echo "setup: onnxruntime-node present ($(node -p "require('onnxruntime-node/package.json').version"))"
else
  echo "setup: npm install --ignore-scripts (onnxruntime-node)"
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# Sanity checks.
/usr/bin/python3 -c "import torch, onnx, numpy; print('setup: torch', torch.__version__, '| onnx', onnx.__version__, '| numpy', numpy.__version__)"
node -e "const ort=require('onnxruntime-node'); console.log('setup: onnxruntime-node', require('onnxruntime-node/package.json').version, 'loads OK')"
ls /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 >/dev/null && echo "setup: OpenBLAS (openmp) at /usr/lib/x86_64-linux-gnu/openblas-openmp"
