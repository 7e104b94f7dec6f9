#!/usr/bin/env bash
# Installs the Debian 12 packages crowdrt builds and tests with; skips what is already there.
# Run as root (CI, fresh machines) or as a user with sudo. Usage: scripts/install-deps.sh
set -euo pipefail

# libcpp-httplib-dev: the live web view and `crowdrt serve`; libgrpc++-dev and protobuf-compiler-grpc (grpc_cpp_plugin)
# its gRPC front, python3-grpcio and python3-grpc-tools the gRPC conformance test's client; ffmpeg serves the live tests' streams and
# gstreamer1.0-plugins-base their GStreamer pipeline (videotestsrc, appsink); chromium loads the web view in its test.
# ccache: `make build`/`test-asan` and the fuzz build compile through it, so a rebuild at the same path is quick.
# ocl-icd-opencl-dev: Debian's oneDNN CMake config asks for OpenCL (its GPU runtime), only recommended by libdnnl-dev.
packages=(
  build-essential cmake pkg-config ccache
  libdnnl-dev ocl-icd-opencl-dev libonnx-dev libprotobuf-dev protobuf-compiler
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev libzip-dev
  libopencv-dev libturbojpeg0-dev pybind11-dev python3-dev
  python3-torch python3-torchvision python3-onnx python3-opencv python3-numpy
  clang libclang-rt-14-dev
  libcpp-httplib-dev ffmpeg chromium python3-requests gstreamer1.0-plugins-base
  libgrpc++-dev protobuf-compiler-grpc python3-grpcio python3-grpc-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
