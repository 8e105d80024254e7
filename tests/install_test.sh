#!/usr/bin/env bash
# Install test: installs the build into a temporary prefix, then configures and builds tests/install_app
# (find_package(Eddy REQUIRED), target_link_libraries(app Eddy::eddy)) out of tree with Ninja against that
# prefix only, and runs it: it must read back the record it produced. Proves the installed headers,
# libraries and CMake package are complete and usable.
#
# Usage: tests/install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

BUILD=${1:?usage: install_test.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: install_test.sh BUILD_DIR SOURCE_DIR}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-install-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX="$TMP/prefix"

fail() {
  echo "install_test: FAIL: $*" >&2
  exit 1
}

echo "install_test: installing $BUILD into $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1 || fail "cmake --install: $(tail -20 "$TMP/install.log")"
for f in include/eddy/broker/broker.h include/eddy/core/producer.h include/eddy/core/status.h; do
  [[ -f "$PREFIX/$f" ]] || fail "$f was not installed"
done
config=$(find "$PREFIX" -name EddyConfig.cmake | head -1)
[[ -n "$config" ]] || fail "EddyConfig.cmake was not installed"
if grep -q "eddy_cli" "$BUILD/build.ninja" 2>/dev/null; then
  [[ -x "$PREFIX/bin/eddy" ]] || fail "the eddy tool was not installed"
fi

# Build with the compiler the project was built with; ccache if the build used it.
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
launcher=$(sed -n 's/^CMAKE_CXX_COMPILER_LAUNCHER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
echo "install_test: building tests/install_app against the installed package"
cmake -S "$SRC/tests/install_app" -B "$TMP/app-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" ${compiler:+-DCMAKE_CXX_COMPILER="$compiler"} \
  ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >"$TMP/configure.log" 2>&1 ||
  fail "configuring the app: $(tail -30 "$TMP/configure.log")"
# The app must have found Eddy in the temporary prefix, not in the source or build tree.
grep -q "Eddy_DIR:PATH=$PREFIX" "$TMP/app-build/CMakeCache.txt" ||
  fail "find_package(Eddy) did not use the installed package: $(grep Eddy_DIR "$TMP/app-build/CMakeCache.txt")"
cmake --build "$TMP/app-build" -j 2 >"$TMP/build.log" 2>&1 || fail "building the app: $(tail -30 "$TMP/build.log")"

echo "install_test: running the app"
"$TMP/app-build/app" "$TMP/data" || fail "the app did not read back its record"
echo "install_test: PASS"
