#!/usr/bin/env bash
# Builds the C core and its Google Test suites for 64-bit Windows with mingw-w64 and runs them
# under Wine through ctest. Needs the packages ci/setup.sh installs (gcc-mingw-w64-x86-64,
# g++-mingw-w64-x86-64, wine64, wine, googletest). Also cross-builds the JNI library,
# target/windows/native/windows-x86_64/forkless_jni.dll, which the jar carries when it exists.
#
#   ci/windows.sh [extra ctest arguments, e.g. -R Quote]
#   ci/windows.sh --build-only      (what ci/setup.sh runs, before the jar is made)
#
# Everything lives under target/windows: the CMake build (build/) and a Wine prefix of its own
# (wineprefix/, created on the first run, ~5-20 s), so the user's ~/.wine is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

root="$(pwd)/target/windows"
build="$root/build"
mkdir -p "$root"

# The JNI library needs the javac -h headers of Native.java (Maven makes them in target/jni-headers;
# without a Maven build, javac makes them here) and the build JDK's jni.h.
headers="$(pwd)/target/jni-headers"
native_java=java/src/main/java/dev/forkless/internal/Native.java
if [[ ! -d $headers || $native_java -nt $headers ]]; then
  headers="$root/jni-headers"
  rm -rf "$headers" "$root/jni-classes"
  # Quiet unless it fails (it warns about sun.misc.Signal, which SignalForwarding uses on purpose).
  if ! out=$(javac -h "$headers" -d "$root/jni-classes" $(find java/src/main/java -name '*.java') 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
jdk_include="$(dirname "$(readlink -f "$(command -v javac)")")/../include"
cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$(pwd)/native/cmake/mingw-w64.cmake" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFORKLESS_JNI=ON -DFORKLESS_JNI_HEADERS="$headers" \
  -DFORKLESS_JDK_INCLUDE="$(cd "$jdk_include" && pwd)"
cmake --build "$build" -j2
# For the jar (pom.xml copies it into META-INF/native/windows-x86_64 when it is there).
mkdir -p "$root/native/windows-x86_64"
cp "$build/forkless_jni.dll" "$build/forkless_jni.dll.sha256" "$root/native/windows-x86_64/"
if [[ ${1:-} == --build-only ]]; then
  echo "ci/windows.sh: built $root/native/windows-x86_64/forkless_jni.dll and the tests"
  exit 0
fi

export WINEPREFIX="$root/wineprefix"
export WINEDEBUG=-all
# No debugger dialog for a crashing test child (its exit code is what we test), no Mono or Gecko
# installer prompts when the prefix is created.
export WINEDLLOVERRIDES="winedbg.exe=d;mscoree,mshtml="
export WINEARCH=win64

wine=/usr/lib/wine/wine64
[[ -x $wine ]] || wine="$(command -v wine64 || command -v wine)"
if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
  echo "ci/windows.sh: creating the Wine prefix $WINEPREFIX"
  "$wine" wineboot -i >/dev/null 2>&1 || true
fi
# A persistent wineserver: each test is its own .exe run, and starting the server for each costs
# more than the test. Then one program with its output going nowhere: the first Wine program
# starts Wine's services (services.exe, winedevice, ...), which inherit its stdout and stderr and
# keep them open. Were that program ctest's test discovery, ctest would wait for EOF on its pipe
# until the discovery timeout.
wineserver -p >/dev/null 2>&1 </dev/null || true
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT
"$wine" cmd.exe /c exit >/dev/null 2>&1 </dev/null || true

# --repeat until-pass:2: Wine itself fails now and then under load, about 3 test runs in 2000
# on this 2-vCPU machine: a test .exe that exits at once without output, or a CreateProcessW
# that fails with ERROR_INTERNAL_ERROR (1359, printed by the test). A test fails only if it
# fails twice in a row. Pass --repeat until-fail:N to hunt flakes instead (replaces this one).
repeat=(--repeat until-pass:2)
for a in "$@"; do
  [[ $a == --repeat* ]] && repeat=()
done
ctest --test-dir "$build" -j2 --output-on-failure --no-tests=error "${repeat[@]}" "$@"
