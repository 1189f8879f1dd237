# Shared by bench/run.sh and bench/run-reactor.sh; sourced after they set $root, $results and
# the names of their own provenance files, $commands_file and $machine_file (under $results).

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

# Records the load average, labelled, in $machine_file.
load() { echo "load $1: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$results/$machine_file" >&2; }
