# Shared by bench/run.sh, bench/run-reactor.sh and bench/run-stdio.sh; sourced after they set $here
# (bench/), $root, $results and the names of their own provenance files, $commands_file and
# $machine_file (under $results).

# Echoes a command (arguments with spaces in single quotes, so it can be pasted back) to stderr
# and to $commands_file, then runs it.
run() {
    local shown='' a
    for a in "$@"; do
        [[ $a == *[[:space:]]* ]] && a="'$a'"
        shown+="${shown:+ }$a"
    done
    shown=${shown//$root\//} # paths relative to the repository root, where they can be pasted
    printf '+ %s\n' "$shown" | tee -a "$results/$commands_file" >&2
    "$@"
}

# Like run, with the command's stdout and stderr appended to LOG; on failure shows LOG's end and
# exits.
run_logged() { # log command...
    local log=$1
    shift
    run "$@" >>"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
}

# Records the load average, labelled, in $machine_file.
load() { echo "load $1: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$results/$machine_file" >&2; }

# Installs the root build into ~/.m2 (unless SKIP_INSTALL=1), builds bench/c (the make targets
# given; none: all) and the JMH jar, and sets $jar.
build() { # make-targets...
    if [[ ${SKIP_INSTALL:-0} != 1 ]]; then
        run mvn -B -q -f "$root/pom.xml" -DskipTests -DskipNar install
    fi
    run make -s -C "$here/c" "$@"
    run mvn -B -q -f "$here/jmh/pom.xml" package
    jar=$here/jmh/target/benchmarks.jar
}

# The first lines of a machine record: date, cores, kernel, CPU (with its family and model given
# "model"), memory.
machine_head() { # [model]
    local model=''
    [[ ${1:-} == model ]] &&
        model="family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), "
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc: $(nproc)"
    echo "kernel: $(uname -r)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
        "($model$(grep -qw hypervisor /proc/cpuinfo && echo 'virtual machine' || echo 'bare metal'))"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
}

# Single lines of a machine record.
machine_thp() { echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo n/a)"; }
machine_nofile() { echo "ulimit -n: soft $(ulimit -Sn), hard $(ulimit -Hn) (the JVM raises its soft limit to the hard one)"; }
machine_git() {
    echo "git: $(git -C "$root" rev-parse --short HEAD 2>/dev/null) $(git -C "$root" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
}
# The version line of `JAVA -version`.
java_version() { "$1" -version 2>&1 | sed -n 2p; }

# Merges one-object JSON files into one JSON list, then removes them.
merge() { # out files...
    local out=$1
    shift
    python3 -c 'import json, sys
out, files = sys.argv[1], sys.argv[2:]
json.dump([json.load(open(f)) for f in files], open(out, "w"), separators=(",", ":"))' "$out" "$@"
    rm -f "$@"
}

# Concatenates JSON lists (JMH's, one per run) into one list on one line, then removes them.
concat() { # out files...
    local out=$1
    shift
    python3 -c 'import json, sys
out, files = sys.argv[1], sys.argv[2:]
json.dump([e for f in files for e in json.load(open(f))], open(out, "w"), separators=(",", ":"))' "$out" "$@"
    rm -f "$@"
}
