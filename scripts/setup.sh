#!/usr/bin/env bash
# Installs what Eddy needs from Debian 12's packages (only what is missing), then configures and builds it
# (Release, Ninja, ccache) into build/. Safe to run again: a second run installs nothing and rebuilds only
# what changed. Used by scripts/demo.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Why each package is here: see README.md, "Dependencies".
PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev
  libsimdjson-dev python3
  # Interoperability tests (tests/interop/): Kafka clients, and clang with libFuzzer (libclang-rt-14-dev
  # holds libclang_rt.fuzzer and the sanitizer runtimes) for the codec fuzz targets.
  kcat librdkafka-dev python3-kafka python3-confluent-kafka clang libclang-rt-14-dev
)
# kafkajs needs node and npm: Debian's unless some node is already on PATH.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kafkajs for tests/interop/kafkajs_test.sh, pinned by the committed package-lock.json; npm ci only when
# node_modules is missing or older than the lock file.
JS_DIR=tests/interop/kafkajs
if [ ! -f "$JS_DIR/node_modules/.package-lock.json" ] || [ "$JS_DIR/package-lock.json" -nt "$JS_DIR/node_modules/.package-lock.json" ]; then
  echo "setup: npm ci in $JS_DIR" >&2
  (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

BUILD_TYPE=${EDDY_BUILD_TYPE:-Release}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
cmake --build build -j "$(nproc)"
