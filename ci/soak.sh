#!/usr/bin/env bash
# The soak: N spawns (default 100,000) with a random fate each (wait, kill, close, onExit, drop,
# leave running, poll), four threads at once; then asserts that no zombie, no child and no pidfd
# or pipe is left. CI runs the same test with 2,000 on every build (SoakTest in `mvn verify`);
# this is the long run. Needs a built tree (ci/setup.sh). Pass extra JVM options after the count,
# e.g. `ci/soak.sh 100000 -Dforkless.reactor=epoll`.
#
#   ci/soak.sh [COUNT [-Dprop=value ...]]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
shift || true
extra="$*"
exec mvn -B -o -DskipNar -Dforkless.jdk25.skip=true surefire:test -Dtest=SoakTest \
    -DfailIfNoTests=false -Dsurefire.failIfNoSpecifiedTests=false \
    "-Dforkless.soak.count=$count" "-Dforkless.test.argLine=--enable-native-access=ALL-UNNAMED${extra:+ $extra}"
