#!/usr/bin/env bash
# The single test command: everything `mvn verify` runs (Google Test through ctest, JUnit 5 on
# target/classes with JDK 17 and with the Temurin 25 JDK when installed, JUnit 5 again against the
# packaged jar), then ci/sanitize.sh (ASan/UBSan and valgrind builds of the C tests) if present,
# then ci/windows.sh (the C core and its tests cross-built for Windows, run under Wine).
# Exits non-zero on the first failure. Extra arguments go to Maven (e.g. -DskipNar).
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
mvn -B -ntp -Dstyle.color=never verify "$@"
echo "ci/test.sh: mvn verify passed in $((SECONDS - start)) s"

if [[ -f ci/sanitize.sh ]]; then
  start=$SECONDS
  bash ci/sanitize.sh
  echo "ci/test.sh: ci/sanitize.sh passed in $((SECONDS - start)) s"
fi

# The Windows backend of the C core, cross-built with mingw-w64 and run under Wine.
start=$SECONDS
bash ci/windows.sh
echo "ci/test.sh: ci/windows.sh passed in $((SECONDS - start)) s"
