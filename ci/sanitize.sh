#!/usr/bin/env bash
# The C core's Google Test suites under the dynamic checkers:
#
#   1. AddressSanitizer + UndefinedBehaviorSanitizer: a separate CMake build (target/cmake-asan,
#      FORKLESS_SANITIZE=ON, Debug) of forkless_tests, run with every report fatal.
#   2. valgrind memcheck over the normal build's test binary (target/cmake/forkless_tests; built
#      here if needed), with --error-exitcode so any error or definite leak fails the run.
#
# Exits non-zero if either run fails or prints a sanitizer report. Takes a minute or two.
#
# Usage: ci/sanitize.sh [--asan-only | --valgrind-only]
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
mode=${1:-all}
case "$mode" in
    all | --asan-only | --valgrind-only) ;;
    *) echo "usage: $0 [--asan-only | --valgrind-only]" >&2; exit 2 ;;
esac

# CMake looks for JNI when Maven has generated the JNI headers; give it the machine's JDK.
if [[ -z "${JAVA_HOME:-}" && -d /usr/lib/jvm/java-17-openjdk-amd64 ]]; then
    export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
jobs=$(nproc 2>/dev/null || echo 2)
logs=$root/target/sanitize
mkdir -p "$logs"

# Sanitizer reports can come from processes whose exit code nobody checks (a helper child of a
# test, a forked test process that was killed): look for them in the output as well.
reports_in() {
    grep -E -n 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)' "$1" || true
}

run_asan() {
    local dir=$root/target/cmake-asan log=$logs/asan.log
    echo "== ASan+UBSan: configuring and building $dir"
    cmake -S "$root" -B "$dir" -DFORKLESS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
        > "$logs/asan-configure.log" 2>&1 || { tail -30 "$logs/asan-configure.log"; return 1; }
    cmake --build "$dir" --target forkless_tests -j "$jobs" > "$logs/asan-build.log" ||
        { tail -50 "$logs/asan-build.log"; return 1; }

    echo "== ASan+UBSan: running forkless_tests (log: $log)"
    local rc=0
    # halt_on_error/abort_on_error=0: the first report ends the process with a failing exit code
    # (not a core dump). detect_leaks: LeakSanitizer at exit of the test process. The build uses
    # -fno-sanitize-recover=all, so UBSan reports are fatal too.
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=0:print_stacktrace=1 \
        "$dir/forkless_tests" --gtest_color=no > "$log" 2>&1 || rc=$?
    local found
    found=$(reports_in "$log")
    if [[ $rc -ne 0 || -n "$found" ]]; then
        grep -E '^\[  FAILED  \]' "$log" || true
        [[ -n "$found" ]] && { echo "sanitizer reports:"; echo "$found"; }
        echo "ASan+UBSan run FAILED (exit $rc); see $log"
        return 1
    fi
    grep -E '^\[  PASSED  \]' "$log"
}

# Tests excluded under valgrind 3.19, and why. What valgrind does with our clone calls:
#   - clone3 is not implemented: valgrind answers ENOSYS itself, so the core starts at the
#     clone(CLONE_PIDFD) rung (the ladder works as designed).
#   - clone(CLONE_VM|CLONE_VFORK|...) is emulated as a plain fork: the child gets a copy of the
#     memory, not the parent's. Exec errors still reach the parent because the core puts its
#     report block in MAP_SHARED memory, so most failure tests pass.
#   - pidfd_open and pidfd_send_signal are unhandled (ENOSYS plus a "WARNING: unhandled
#     amd64-linux syscall: 424/434" line): the core falls back to kill(2) while the child is unreaped.
# Hence:
#   LadderTest.*            seccomp filters also filter valgrind's own system calls, and with clone3
#                           and CLONE_VM already gone the rungs cannot be told apart.
#   SignalStateTest.NoParentHandlerRunsInTheChildBeforeExec
#                           needs the child to share the parent's memory (it checks that no parent
#                           handler ran there); under a fork it proves nothing. It skips itself.
#   ExecFailureTest.ArgumentTooLongIsE2BIG
#                           valgrind pre-checks execve for ENOENT/EACCES only; when the real execve
#                           then fails (E2BIG) it prints "EXEC FAILED: I can't recover" and kills
#                           the child (exit 101) instead of returning the error.
#   ExecFailureTest.DescriptorExhaustionIsEMFILEAndNotCached
#                           valgrind itself asserts in its clone wrapper (syswrap-main.c:2277) when
#                           no descriptor is left for the pidfd.
#   ReactorUringTest.{WakeFromAnotherThreadEndsAnEndlessWait,ConcurrentArmFromFourThreadsWhileWaiting,
#                     SignalInterruptsAnEndlessWait,ArmingThreadIsNotInterruptedWhenItsKeyFires}
#                           valgrind runs io_uring_enter holding its big lock (not marked as a call
#                           that may block): while one thread waits no other thread runs, so the
#                           wake-up, arm or signal from another thread never comes (a hang, not a
#                           failure). They skip themselves under valgrind too.
#   ReactorUringUnavailableTest.Seccomp*
#                           valgrind does not implement seccomp(2) (syscall 317).
#   Backends/ReactorContractTest.*/PidOnly
#                           the PID-only reactor runs under a seccomp filter denying the pidfd calls
#                           (as LadderTest does), which also filters valgrind's own calls. It skips
#                           itself.
#   Backends/ReactorContractTest.*/IoUring
#                           the big-lock hang above: WakeFromAnotherThread blocks in io_uring_enter
#                           until another thread wakes it, and that thread never runs. The mode
#                           skips itself under valgrind; the Epoll mode covers the common part.
#   Backends/ReactorFdTest.*/IoUring
#                           the same hang: the descriptor watches are armed and woken from other
#                           threads. The mode skips itself; the Epoll mode covers the common part.
#   DetachedTest.SleeperRunsInANewSessionAndIsNotOurChild, DetachedTest.WorksWithoutPidfds
#                           the double fork: valgrind runs the CLONE_VM|CLONE_VFORK intermediate as
#                           a fork of its own making, and the daemon that intermediate forks with a
#                           raw clone(SIGCHLD) is not started as on a real kernel (no daemon, a
#                           zombie left). Not investigated further; these pass under ASan/UBSan and
#                           without any tool, and the other DetachedTest cases (failure paths) run
#                           under valgrind.
# Not excluded, but skipping themselves under valgrind (with the reason in the test output):
#   CgroupTest.SpawnIntoLeafOnTheCloneRung, CgroupTest.SpawnIntoLeafWithoutPidfds
#                           seccomp filters, as LadderTest (the other CgroupTest cases run: valgrind
#                           starts at the clone(CLONE_PIDFD) rung, so there the child joins the
#                           cgroup by writing cgroup.procs itself).
#   CgroupTest.DetachedSpawnIntoLeafIsKilledWithIt
#                           the double fork, as the DetachedTest cases above.
valgrind_excluded='LadderTest.*:SignalStateTest.NoParentHandlerRunsInTheChildBeforeExec:ExecFailureTest.ArgumentTooLongIsE2BIG:ExecFailureTest.DescriptorExhaustionIsEMFILEAndNotCached:Backends/ReactorContractTest.*/PidOnly:Backends/ReactorContractTest.*/IoUring'
valgrind_excluded+=':ReactorUringTest.WakeFromAnotherThreadEndsAnEndlessWait:ReactorUringTest.ConcurrentArmFromFourThreadsWhileWaiting:ReactorUringTest.SignalInterruptsAnEndlessWait:ReactorUringTest.ArmingThreadIsNotInterruptedWhenItsKeyFires'
valgrind_excluded+=':ReactorUringUnavailableTest.Seccomp*:Backends/ReactorFdTest.*/IoUring'
valgrind_excluded+=':DetachedTest.SleeperRunsInANewSessionAndIsNotOurChild:DetachedTest.WorksWithoutPidfds'

run_valgrind() {
    local dir=$root/target/cmake log=$logs/valgrind.log
    if ! command -v valgrind > /dev/null; then
        echo "valgrind is not installed (ci/setup.sh installs it)"
        return 1
    fi
    if [[ ! -f "$dir/CMakeCache.txt" ]]; then
        echo "== valgrind: configuring $dir"
        cmake -S "$root" -B "$dir" > "$logs/valgrind-configure.log" 2>&1 ||
            { tail -30 "$logs/valgrind-configure.log"; return 1; }
    fi
    echo "== valgrind: building $dir/forkless_tests"
    cmake --build "$dir" --target forkless_tests -j "$jobs" > "$logs/valgrind-build.log" ||
        { tail -50 "$logs/valgrind-build.log"; return 1; }

    echo "== valgrind: running forkless_tests (log: $log)"
    local rc=0
    # Helper children are not traced (no --trace-children): they are separate programs, and the
    # suites check them through their output. Forked test processes are traced (valgrind follows
    # fork) and their errors and leaks change their exit code, which the test reports.
    valgrind --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,possible \
        --errors-for-leak-kinds=definite,possible --num-callers=30 \
        "$dir/forkless_tests" --gtest_color=no "--gtest_filter=-$valgrind_excluded" \
        > "$log" 2>&1 || rc=$?
    # Errors in a process whose exit code nobody reads (a fork-emulated spawn child whose exec
    # failed) show only in the log.
    local with_errors
    with_errors=$(grep -c 'ERROR SUMMARY: [1-9]' "$log" || true)
    if [[ $rc -ne 0 || $with_errors -ne 0 ]]; then
        grep -E '^\[  FAILED  \] [A-Za-z0-9_/.]+$' "$log" | sort -u || true
        echo "processes with valgrind errors: $with_errors; the first:"
        grep -m 6 -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|possibly lost: [1-9]|Invalid (read|write|free)|uninitialised' "$log" || true
        echo "valgrind run FAILED (exit $rc); see $log"
        return 1
    fi
    grep -E '^\[  PASSED  \]' "$log"
    grep 'ERROR SUMMARY' "$log" | tail -n 1  # the test process's own (forked ones come first)
}

status=0
if [[ "$mode" != --valgrind-only ]]; then run_asan || status=1; fi
if [[ "$mode" != --asan-only ]]; then run_valgrind || status=1; fi
if [[ $status -eq 0 ]]; then echo "sanitize: OK"; else echo "sanitize: FAILED"; fi
exit $status
