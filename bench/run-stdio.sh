#!/usr/bin/env bash
# Builds and runs the stdio benchmarks (issue 4): collecting a child's output, many children's
# output at once, and a pipeline, against ProcessBuilder, NuProcess and the C limit through our
# core. Writes the raw results under bench/results/stdio-* and the tables to
# bench/results/stdio-summary.md. Not part of CI. About 13 minutes on 2 cores (build 2,
# output() 3, 500 children 6, pipeline 2).
#
#   bench/run-stdio.sh                 everything (installs the root build into ~/.m2 first)
#   QUICK=1 bench/run-stdio.sh         a smoke run, ~3 minutes (numbers not for the doc)
#   SKIP_INSTALL=1 bench/run-stdio.sh  use the forkless jar already in ~/.m2
#   RESULTS=/tmp/r bench/run-stdio.sh  write somewhere else
#   PARTS=concurrent bench/run-stdio.sh  only some parts (comma-separated: output, concurrent,
#                                      pipeline; default all three); the other parts' result files
#                                      in $RESULTS stay as they are, and this run's commands and
#                                      machine record are appended to the existing ones
#   JAVA=/path/to/bin/java ...         the JDK measured (default JDK 17)
#
# Same conventions as bench/run.sh: each number is made by one of the commands echoed below
# (prefixed with '+'), also written to $RESULTS/stdio-commands.txt; the machine and its load before
# and after each step go to $RESULTS/stdio-machine.txt. Run it when nothing else is: moving 1 GiB
# through a pipe keeps both cores busy (the child writes while the parent reads).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
results=${RESULTS:-$here/results}
jdk17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
java=${JAVA:-$jdk17/bin/java}
mkdir -p "$results"
parts=${PARTS:-output,concurrent,pipeline} parts=${parts// /,}
part() { [[ ,$parts, == *,$1,* ]]; }
all=1
for p in output concurrent pipeline; do part $p || all=0; done
for p in ${parts//,/ }; do
    [[ $p == output || $p == concurrent || $p == pipeline ]] ||
        { echo "PARTS: unknown part '$p' (output, concurrent, pipeline)" >&2; exit 2; }
done
if ((all)); then
    : >"$results/stdio-commands.txt"
else
    echo "# PARTS=$parts (appended; the commands above are from earlier runs)" >>"$results/stdio-commands.txt"
fi

# 1 GiB (a power of two) and 1000 MiB (not one: a doubling collector must trim at the end).
sizes=1073741824,1048576000
conc_children=500 conc_bytes=1048576
# The machine is shared and pipe throughput on 2 vCPUs swings with where the scheduler puts reader
# and writer, so every comparison is made in rounds: each round runs every side once (the C
# harness, then one JMH fork per benchmark and size), and the rounds are pooled. JMH runs the
# benchmarks of one invocation one after another, so without rounds a drift in outside load would
# land on one side only.
if [[ ${QUICK:-0} == 1 ]]; then
    rounds=1 c_runs=2 wi=1 i=2
    conc_jvms=1 conc_warmup=1 conc_reps=2
    pipe_rounds=1 pipe_wi=1 pipe_i=2
else
    # output(): 3 rounds; per round and size the C harness makes 3 runs of each method (after one
    # warm-up round) and JMH one fork of 6 single-shot iterations (after 2 warm-up) per benchmark:
    # 9 C runs and 18 JMH samples per cell.
    rounds=3 c_runs=3 wi=2 i=6
    # 500 children: 3 fresh JVMs per library and variant, taking turns, 1 warm-up + 4 measured
    # repetitions each (12 per cell).
    conc_jvms=3 conc_warmup=1 conc_reps=4
    # pipeline: 4 rounds of one fork per benchmark, 5 iterations after 2 warm-up (20 per cell).
    pipe_rounds=4 pipe_wi=2 pipe_i=5
fi
# 500 children: as given (each head writes its 1 MiB at once, so how many are alive together
# depends on the library's spawn rate), and with every child sleeping 3 s first (sh -c 'sleep 3;
# exec head ...'), so all 500 are alive at once and each library's per-child threads show.
conc_delays="0 3000"
# Heap for every measured JVM: room for a 1 GiB result plus the collector's growth (up to ~2 GiB
# live at the end of a 1000 MiB run), fixed and pre-touched so the heap neither grows nor faults
# pages in during a run. The JVM's default collector (G1 here).
heap='-Xms6g -Xmx6g -XX:+AlwaysPreTouch'
native='--enable-native-access=ALL-UNNAMED'

commands_file=stdio-commands.txt machine_file=stdio-machine.txt
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

machine() {
    if ((all)); then
        : >"$results/stdio-machine.txt"
    else
        printf '\nPARTS=%s (appended; the lines above are from earlier runs)\n' "$parts" >>"$results/stdio-machine.txt"
    fi
    {
        machine_head
        machine_thp
        echo "pipe-max-size: $(cat /proc/sys/fs/pipe-max-size) (default pipe capacity 64 KiB)"
        echo "glibc: $(getconf GNU_LIBC_VERSION)"
        echo "coreutils: $(head --version | sed -n 1p)"
        machine_nofile
        echo "java: $java ($(java_version "$java"))"
        echo "jvm flags: $native $heap"
        machine_git
    } >>"$results/stdio-machine.txt"
}

# ---- build -------------------------------------------------------------------------------------
machine
load before
build stdio
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- 1. output() of 1 GiB / 1000 MiB: the C limit, then Forkless vs ProcessBuilder (JMH) --------
if part output; then
    files=() jfiles=()
    : >"$results/stdio-c.txt"
    : >"$results/stdio-output.log"
    for k in $(seq 1 "$rounds"); do
        load "before output round $k"
        run "$here/c/build/stdio_bench" --bytes "$sizes" --rounds "$c_runs" --warmup 1 \
            --json "$tmp/c-$k.json" | tee -a "$results/stdio-c.txt"
        files+=("$tmp/c-$k.json")
        run_logged "$results/stdio-output.log" "$java" -jar "$jar" 'dev.forkless.bench.StdioBenchmark' \
            -jvm "$java" -jvmArgsAppend "$native $heap" -p "bytes=$sizes" -bm ss -tu ms -f 1 -wi "$wi" -i "$i" \
            -rf json -rff "$tmp/output-$k.json"
        jfiles+=("$tmp/output-$k.json")
    done
    merge "$results/stdio-c.json" "${files[@]}"
    concat "$results/stdio-output.json" "${jfiles[@]}"
    grep -E '^Benchmark +\(|StdioBenchmark\.[A-Za-z]+ ' "$results/stdio-output.log" || true
fi

# ---- 2. 500 children at once, 1 MiB each: wall time and peak threads, fresh JVMs taking turns ----
if part concurrent; then
    load "before concurrent"
    : >"$results/stdio-concurrent.txt"
    files=()
    for k in $(seq 1 "$conc_jvms"); do
        for d in $conc_delays; do
            for lib in forkless processBuilder nuprocess; do
                # shellcheck disable=SC2086  # $heap is several flags
                run "$java" "$native" $heap -cp "$jar" dev.forkless.bench.ConcurrentOutput --library "$lib" \
                    --children "$conc_children" --bytes "$conc_bytes" --delay-ms "$d" --warmup "$conc_warmup" \
                    --reps "$conc_reps" --json "$tmp/conc-$lib-$d-$k.json" | tee -a "$results/stdio-concurrent.txt"
                files+=("$tmp/conc-$lib-$d-$k.json")
            done
        done
    done
    merge "$results/stdio-concurrent.json" "${files[@]}"
fi

# ---- 3. head -c 1G /dev/zero | cat | wc -c: Forkless Pipeline vs startPipeline vs sh -c --------
if part pipeline; then
    jfiles=()
    : >"$results/stdio-pipeline.log"
    for k in $(seq 1 "$pipe_rounds"); do
        load "before pipeline round $k"
        run_logged "$results/stdio-pipeline.log" "$java" -jar "$jar" 'dev.forkless.bench.PipelineBenchmark' \
            -jvm "$java" -jvmArgsAppend "$native $heap" -p bytes=1073741824 -bm ss -tu ms -f 1 -wi "$pipe_wi" \
            -i "$pipe_i" -rf json -rff "$tmp/pipeline-$k.json"
        jfiles+=("$tmp/pipeline-$k.json")
    done
    concat "$results/stdio-pipeline.json" "${jfiles[@]}"
    grep -E '^Benchmark +\(|PipelineBenchmark\.[A-Za-z]+ ' "$results/stdio-pipeline.log" || true
fi

load after
echo >&2
run python3 "$here/summarize_stdio.py" "$results" --out "$results/stdio-summary.md"
