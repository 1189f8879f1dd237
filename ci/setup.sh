#!/usr/bin/env bash
# Installs every system package the Forkless build needs on Debian 12, then builds the jar.
# Idempotent: on a machine that already has everything it only checks (dpkg-query) and runs an
# incremental Maven build. Usage: ci/setup.sh   (run as root, or as a user with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."

# What the build and the tests use:
#   openjdk-17-jdk-headless  javac/java 17 (the baseline; -h generates the JNI headers)
#   maven                    the build
#   cmake make gcc g++       the C11 core, the JNI library, the C++ test suites
#   libgtest-dev             Google Test (static libs + CMake package)
#   valgrind                 ci/sanitize.sh runs the C tests under memcheck
#   util-linux               setsid, prlimit and friends used by tests and scripts
#   ca-certificates          Maven Central over HTTPS
#   gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64   ci/windows.sh: the core cross-built for Windows
#   wine64 wine              ci/windows.sh runs the Windows tests under Wine
#   googletest               Google Test sources (/usr/src/googletest), built with mingw there
#   tmux perl                a terminal for the `forkless run` Ctrl+C test (MainSignalsTest) and a
#                            memory-hungry child for its peak-RSS test (MainTest)
packages=(
  openjdk-17-jdk-headless
  maven
  cmake
  make
  gcc
  g++
  libgtest-dev
  valgrind
  util-linux
  ca-certificates
  gcc-mingw-w64-x86-64
  g++-mingw-w64-x86-64
  wine64
  wine
  googletest
  tmux
  perl
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "ci/setup.sh: installing ${missing[*]}"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    sudo=(sudo)
  fi
  # `sudo env VAR=...`: plain sudo would drop DEBIAN_FRONTEND.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "ci/setup.sh: system packages already installed"
fi

# The Windows JNI library first (cross-built with mingw-w64), so the jar carries it too.
bash ci/windows.sh --build-only

# Build the jar (Java, JNI headers, CMake, native library inside the jar, NAR); tests run in
# ci/test.sh.
mvn -B -q -ntp -Dstyle.color=never -DskipTests package

jar="$(pwd)/target/forkless-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$jar" ]]; then
  echo "ci/setup.sh: expected $jar after the build, but it is not there" >&2
  exit 1
fi
echo "ci/setup.sh: built $jar"
echo "  try: java -jar $jar run -- /bin/echo hello"
