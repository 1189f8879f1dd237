#!/usr/bin/env bash
# Before/after: the same benchmarks run against two builds of Forkless in one sitting, the two
# alternating so that drift in the machine's load hits both alike. For a change that must not
# cost anything (a restructuring): spawn + wait (JMH, and the C loop through the core), exit
# notification latency, and spawn + onExit throughput at 1/2/8/64 in flight. Not part of CI.
# About 12 minutes on 2 cores. Run it when nothing else runs.
#
#   bench/run-compare.sh BEFORE_REV            builds BEFORE_REV and the working tree, then runs
#   QUICK=1 bench/run-compare.sh BEFORE_REV    a smoke run (numbers not for the doc)
#   RESULTS=/tmp/r ...                         write somewhere else (default bench/results/compare)
#   ARTIFACTS=/tmp/a ...                       keep each side's built jar and C harness there, and
#                                              reuse what is already there (a side is rebuilt only
#                                              when its benchmarks-<side>.jar is missing)
#
# Each side is built the same way: the library jar of that revision (mvn package), installed into
# ~/.m2 under its own version (0.1.0-<label>), and the JMH jar of *this* tree's bench/jmh built
# against it, so both sides run the same benchmark code; bench/c is built from that revision's
# core sources. Every command is echoed (prefixed with '+') and written to compare-commands.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
before_rev=${1:?usage: bench/run-compare.sh BEFORE_REV}
results=${RESULTS:-$here/results/compare}
jdk17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
java=$jdk17/bin/java
native='--enable-native-access=ALL-UNNAMED'
mkdir -p "$results"
: >"$results/compare-commands.txt"

if [[ ${QUICK:-0} == 1 ]]; then
    alternations=1 wi=1 i=2 c_iters=300 c_rounds=6 lat_samples=200 lat_warmup=50
else
    alternations=3 wi=3 i=5 c_iters=1500 c_rounds=15 lat_samples=600 lat_warmup=100
fi

commands_file=compare-commands.txt machine_file=compare-machine.txt
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

{
    machine_head model
    machine_thp
    echo "java: $(java_version "$java")"
    echo "before: $(git -C "$root" rev-parse --short "$before_rev")"
    machine_git
} >"$results/compare-machine.txt"
load before

# ---- build both sides -----------------------------------------------------------------------------
work=$(mktemp -d)
artifacts=${ARTIFACTS:-$work}
mkdir -p "$artifacts"
trap 'git -C "$root" worktree remove --force "$work/before" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
side() { # label tree
    local label=$1 tree=$2
    if [[ -f $artifacts/benchmarks-$label.jar && -x $artifacts/spawn_bench-$label ]]; then
        echo "reusing $artifacts/benchmarks-$label.jar and spawn_bench-$label" | tee -a "$results/$commands_file" >&2
        return
    fi
    [[ $label == before ]] && run git -C "$root" worktree add -q --detach "$tree" "$before_rev"
    run mvn -B -q -ntp -f "$tree/pom.xml" -DskipTests -DskipNar package
    local lib
    lib=$(ls "$tree"/target/forkless-*.jar | grep -v -e sources -e javadoc | head -1)
    run mvn -B -q -ntp install:install-file -Dfile="$lib" -DgroupId=dev.forkless -DartifactId=forkless \
        -Dversion="0.1.0-$label" -Dpackaging=jar
    rm -rf "$work/jmh-$label"
    cp -r "$here/jmh" "$work/jmh-$label"
    rm -rf "$work/jmh-$label/target"
    run mvn -B -q -ntp -f "$work/jmh-$label/pom.xml" -Dforkless.version="0.1.0-$label" package
    cp "$work/jmh-$label/target/benchmarks.jar" "$artifacts/benchmarks-$label.jar"
    run make -s -C "$tree/bench/c" build/spawn_bench
    cp "$tree/bench/c/build/spawn_bench" "$artifacts/spawn_bench-$label"
}
side before "$work/before"
side after "$root"
run make -s -C "$here/c" stamp
stamp=$here/c/build/exit_stamp

# ---- measure, alternating -------------------------------------------------------------------------
for k in $(seq 1 "$alternations"); do
    for label in before after; do
        jar=$artifacts/benchmarks-$label.jar
        load "round $k $label"
        run "$artifacts/spawn_bench-$label" --iters "$c_iters" --warmup 100 --rounds "$c_rounds" --methods forkless \
            --label "$label" --json "$results/c-$label-$k.json" >/dev/null
        run_logged "$results/jmh-spawn-$label.log" "$java" -jar "$jar" 'dev.forkless.bench.SpawnBenchmark' \
            -jvm "$java" -jvmArgsAppend "$native" -bm sample -tu us -f 1 -wi "$wi" -w 1s -i "$i" -r 1s \
            -rf json -rff "$results/jmh-spawn-$label-$k.json"
        for b in epoll io_uring; do
            run "$java" "$native" "-Dforkless.reactor=$b" -cp "$jar" dev.forkless.bench.ExitLatency --stamp "$stamp" \
                --samples "$lat_samples" --warmup "$lat_warmup" --round 50 --pause-us 2000 \
                --child-delay-us 1000 --json "$results/lat-$label-$b-$k.json" >/dev/null
        done
        run_logged "$results/jmh-thr-$label.log" "$java" -jar "$jar" 'dev.forkless.bench.ReactorThroughput' \
            -jvm "$java" -jvmArgsAppend "$native" -p library=forkless-epoll,forkless-io_uring \
            -p inFlight=1,2,8,64 -bm thrpt -tu s -f 1 -wi 1 -w 1s -i "$i" -r 1s \
            -rf json -rff "$results/jmh-thr-$label-$k.json"
    done
done
load after
echo >&2
run python3 "$here/summarize_compare.py" "$results" --out "$results/compare-summary.md"
