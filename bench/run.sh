#!/usr/bin/env bash
# Builds and runs every Forkless benchmark, writes the raw results under bench/results/ and prints
# the summary tables that docs/benchmarks.md quotes. Not part of CI. About 8 minutes on 2 cores.
# (The reactor benchmarks, exit watching against ProcessBuilder and the peers, are in
# bench/run-reactor.sh.)
#
#   bench/run.sh                 everything (installs the root build into ~/.m2 first)
#   QUICK=1 bench/run.sh         a smoke run: 2 forks, short iterations (numbers not for the doc)
#   SKIP_INSTALL=1 bench/run.sh  use the forkless jar already in ~/.m2
#   RESULTS=/tmp/r bench/run.sh  write somewhere else
#
# Each number is made by one of the commands echoed below (prefixed with '+'); they are also
# written to $RESULTS/commands.txt. The machine is shared: run it when nothing else is (load is
# recorded in machine.txt before and after).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
results=${RESULTS:-$here/results}
jdk17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
jdk25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
mkdir -p "$results"
: >"$results/commands.txt"

if [[ ${QUICK:-0} == 1 ]]; then
    forks=2 wi=1 w=1s i=2 r=1s c_iters=400 c_warmup=50 c_rounds=10 c4_iters=200 c4_fork=5 split_iters=300
else
    forks=5 wi=3 w=1s i=5 r=1s c_iters=2000 c_warmup=200 c_rounds=20 c4_iters=1000 c4_fork=20 split_iters=2000
fi

commands_file=commands.txt machine_file=machine.txt
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

machine() {
    {
        machine_head model
        echo "glibc: $(getconf GNU_LIBC_VERSION)"
        machine_thp
        echo "jdk17: $(java_version "$jdk17/bin/java")"
        echo "jdk25: $(java_version "$jdk25/bin/java")"
        machine_git
    } >"$results/machine.txt"
}


# ---- build -------------------------------------------------------------------------------------
machine
load before
build

# ---- C: the limit, and the reference methods -----------------------------------------------------
run "$here/c/build/spawn_bench" --iters "$c_iters" --warmup "$c_warmup" --rounds "$c_rounds" \
    --label small --json "$results/c-small.json" | tee "$results/c-small.txt"

# ---- JMH: Forkless vs ProcessBuilder, both JDKs, default heap and 4 GiB pre-touched -------------
jmh() { # name java extra-jvm-args
    local name=$1 java=$2 extra=$3
    load "before $name"
    : >"$results/jmh-$name.log"
    run_logged "$results/jmh-$name.log" "$jdk17/bin/java" -jar "$jar" 'dev.forkless.bench.SpawnBenchmark' \
        -jvm "$java" -jvmArgsAppend "--enable-native-access=ALL-UNNAMED${extra:+ $extra}" \
        -bm sample -tu us -f "$forks" -wi "$wi" -w "$w" -i "$i" -r "$r" \
        -rf json -rff "$results/jmh-$name.json"
    # JMH pretty-prints; the same JSON on one line is a third of the size (the raw histograms stay).
    python3 -c 'import json, sys; p = sys.argv[1]; d = json.load(open(p)); json.dump(d, open(p, "w"), separators=(",", ":"))' \
        "$results/jmh-$name.json"
    grep -E '^Benchmark +Mode|SpawnBenchmark\.[A-Za-z0-9]+(:p0\.50)? ' "$results/jmh-$name.log" || true
}
big='-Xms4g -Xmx4g -XX:+AlwaysPreTouch'
# Each 4 GiB run right after its small-heap run, so the pair sees the most similar machine load.
jmh jdk17-small "$jdk17/bin/java" ''
jmh jdk17-4g "$jdk17/bin/java" "$big"
jmh jdk25-small "$jdk25/bin/java" ''
jmh jdk25-4g "$jdk25/bin/java" "$big"

# ---- Diagnostic: spawn() and waitFor() timed apart, from Java (compare with spawn_bench's
#      "fl_spawn alone" line) -------------------------------------------------------------------
for v in 17 25; do
    java_v=jdk$v
    run "${!java_v}/bin/java" --enable-native-access=ALL-UNNAMED -cp "$jar" dev.forkless.bench.SpawnSplit \
        "$split_iters" "$split_iters" | tee "$results/split-jdk$v.txt"
done

# ---- C with 4 GiB touched: fork grows, the vfork-style methods should not -----------------------
run "$here/c/build/spawn_bench" --touch-gib 4 --iters "$c4_iters" --fork-iters "$c4_fork" \
    --warmup "$c_warmup" --rounds "$c_rounds" --label 4g --json "$results/c-4g.json" \
    | tee "$results/c-4g.txt"

load after
echo >&2
run python3 "$here/summarize.py" "$results" --out "$results/summary.md"
