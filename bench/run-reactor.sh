#!/usr/bin/env bash
# Builds and runs the reactor benchmarks (one `forkless-reactor` thread watching every child's
# exit): threads and memory per live child, exit-notification latency, and spawn+onExit
# throughput against ProcessBuilder, NuProcess, zt-exec and commons-exec. Writes the raw results
# under bench/results/reactor-* and the tables to bench/results/reactor-summary.md. Not part of
# CI. About 15 minutes on 2 cores (build 2, live children 1, latency 1.5, throughput 9-11).
#
#   bench/run-reactor.sh                 everything (installs the root build into ~/.m2 first)
#   QUICK=1 bench/run-reactor.sh         a smoke run, ~3 minutes (numbers not for the doc)
#   SKIP_INSTALL=1 bench/run-reactor.sh  use the forkless jar already in ~/.m2
#   RESULTS=/tmp/r bench/run-reactor.sh  write somewhere else
#   JAVA=/path/to/bin/java ...           the JDK measured (default JDK 17)
#
# Same conventions as bench/run.sh: each number is made by one of the commands echoed below
# (prefixed with '+'), also written to $RESULTS/reactor-commands.txt; the machine and its load
# before and after go to $RESULTS/reactor-machine.txt. (Own file names, so that running this
# does not overwrite run.sh's commands.txt and machine.txt.) Run it when nothing else is.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
results=${RESULTS:-$here/results}
jdk17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
java=${JAVA:-$jdk17/bin/java}
mkdir -p "$results"
: >"$results/reactor-commands.txt"

if [[ ${QUICK:-0} == 1 ]]; then
    live_reps=2 live_n=1000
    lat_runs=1 lat_samples=300 lat_warmup=50
    forks=1 wi=1 w=1s i=2 r=1s nu_forks=1 nu_wi=0 nu_i=2
else
    # Latency: 2 JVMs per backend, alternating, 1,000 samples per variant each = 2,000 per
    # variant and backend (ProcessBuilder gets 4,000: it runs in every JVM).
    live_reps=5 live_n=1000
    lat_runs=2 lat_samples=1000 lat_warmup=200
    # Throughput: 20 parameter combinations x 3 forks x 6 one-second iterations (~7 minutes), then
    # NuProcess with fewer: at 1-2 in flight one operation (256 children) can take 3-30 s with it,
    # because it often notices an exit only at its next 250 ms dead-pool poll (~1-4 minutes).
    forks=3 wi=2 w=1s i=4 r=1s nu_forks=2 nu_wi=1 nu_i=2
fi
lat_round=50 lat_pause_us=2000 lat_delay_us=1000
native='--enable-native-access=ALL-UNNAMED'

commands_file=reactor-commands.txt machine_file=reactor-machine.txt
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

machine() {
    {
        machine_head
        echo "glibc: $(getconf GNU_LIBC_VERSION)"
        echo "io_uring_disabled: $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo n/a)"
        machine_nofile
        echo "ulimit -u: $(ulimit -u); pid_max: $(cat /proc/sys/kernel/pid_max)"
        echo "java: $java ($(java_version "$java"))"
        machine_git
    } >"$results/reactor-machine.txt"
}

# ---- build -------------------------------------------------------------------------------------
machine
load before
build stamp
stamp=$here/c/build/exit_stamp

# Both backends must really be what they are called: an io_uring request that the kernel refuses
# falls back to epoll (with a warning), and every result records the backend it actually ran.
for b in epoll io_uring; do
    got=$("$java" "$native" "-Dforkless.reactor=$b" -cp "$jar" dev.forkless.bench.ExitLatency --backend-only)
    [[ $got == "$b" ]] || { echo "forkless.reactor=$b runs $got here: fix the machine first" >&2; exit 1; }
done

# ---- 1. Threads, heap and RSS per live child: a fresh JVM per (library, repetition) ------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$results/reactor-live.txt"
files=()
for rep in $(seq 1 "$live_reps"); do
    for cfg in forkless-epoll forkless-io_uring processBuilder; do
        lib=${cfg%%-*} props=()
        [[ $cfg == forkless-* ]] && props=("-Dforkless.reactor=${cfg#forkless-}")
        run "$java" "$native" "${props[@]}" -cp "$jar" dev.forkless.bench.LiveChildren --library "$lib" \
            --children "$live_n" --json "$tmp/live-$cfg-$rep.json" | tee -a "$results/reactor-live.txt"
        files+=("$tmp/live-$cfg-$rep.json")
    done
done
merge "$results/reactor-live.json" "${files[@]}"

# ---- 2. Exit-notification latency: the C floor, then JVMs alternating the backends --------------
load "before latency"
: >"$results/reactor-latency.txt"
run "$here/c/build/exit_floor" --stamp "$stamp" --samples "$((lat_samples * lat_runs))" --warmup "$lat_warmup" \
    --round "$lat_round" --pause-us "$lat_pause_us" --child-delay-us "$lat_delay_us" --json "$tmp/lat-floor.json" | tee -a "$results/reactor-latency.txt"
files=("$tmp/lat-floor.json")
for k in $(seq 1 "$lat_runs"); do
    for b in epoll io_uring; do
        run "$java" "$native" "-Dforkless.reactor=$b" -cp "$jar" dev.forkless.bench.ExitLatency --stamp "$stamp" \
            --samples "$lat_samples" --warmup "$lat_warmup" --round "$lat_round" --pause-us "$lat_pause_us" \
            --child-delay-us "$lat_delay_us" --json "$tmp/lat-$b-$k.json" | tee -a "$results/reactor-latency.txt"
        files+=("$tmp/lat-$b-$k.json")
    done
done
# Diagnostic: on 2 cores the common pool's parallelism is 1, so CompletableFuture's default async
# executor (behind ProcessBuilder's onExit()) starts a new thread per task, and Forkless's onExit()
# uses its own cached pool instead. The same run with a common pool of 2 puts both on that pool.
run "$java" "$native" -Dforkless.reactor=epoll -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 \
    -cp "$jar" dev.forkless.bench.ExitLatency --stamp "$stamp" --samples "$lat_samples" --warmup "$lat_warmup" \
    --round "$lat_round" --pause-us "$lat_pause_us" --child-delay-us "$lat_delay_us" --json "$tmp/lat-epoll-fjp2.json" | tee -a "$results/reactor-latency.txt"
files+=("$tmp/lat-epoll-fjp2.json")
merge "$results/reactor-latency.json" "${files[@]}"

# ---- 3. Throughput of spawn + onExit, 1/2/8/64 children in flight, against the peers ------------
load "before throughput"
thr() { # log json forks warmup-iterations iterations libraries
    : >"$1"
    run_logged "$1" "$java" -jar "$jar" 'dev.forkless.bench.ReactorThroughput' -jvm "$java" -jvmArgsAppend "$native" \
        -p "library=$6" -p inFlight=1,2,8,64 -bm thrpt -tu s -f "$3" -wi "$4" -w "$w" -i "$5" -r "$r" \
        -rf json -rff "$2"
    grep -E '^Benchmark +\(|ReactorThroughput\.spawnAndWatch ' "$1" || true
}
thr "$results/reactor-throughput.log" "$tmp/thr-main.json" "$forks" "$wi" "$i" \
    forkless-epoll,forkless-io_uring,processBuilder,ztexec,commonsexec
thr "$results/reactor-throughput-nuprocess.log" "$tmp/thr-nuprocess.json" "$nu_forks" "$nu_wi" "$nu_i" nuprocess
# One JSON list for both runs (JMH pretty-prints; one line is a third of the size).
concat "$results/reactor-throughput.json" "$tmp/thr-main.json" "$tmp/thr-nuprocess.json"

load after
echo >&2
run python3 "$here/summarize_reactor.py" "$results" --out "$results/reactor-summary.md"
