// The spawn contract, as checks that run inside a forked test process (RunForked): once without
// any seccomp filter, and once per rung of the fallback ladder with the syscalls above it denied.
// They change signal dispositions, descriptor numbers and (the last one) install a filter, so
// they must never run in the main test process.
#ifndef FL_TEST_CONTRACT_H
#define FL_TEST_CONTRACT_H

namespace fltest {

// Exit codes, signals, waits with timeouts, signal 0 / after exit / after reap (including a
// recycled PID), argv, descriptor hygiene, exec-failure step reporting, orphans; and that
// fl_spawn_strategy_current() is `expected_strategy` after the first spawn and stays there.
void CheckSpawnContract(int expected_strategy);

// The test process has handlers for SIGUSR1/SIGTERM/SIGINT/SIGRTMIN+2, ignores SIGPIPE and
// SIGHUP and blocks SIGUSR2 and SIGINT. The child must show (in /proc/self/status after exec):
// SigBlk 0; SigCgt 0 (a sanitizer build's helper installs its own SEGV/BUS/FPE/ILL/ABRT handlers:
// only those bits are allowed then); SigIgn = the parent's ignored set minus SIGPIPE, because
// SIG_IGN is inherited across fork and exec (POSIX) and only SIGPIPE is reset on purpose. And the
// parent's own dispositions and mask are unchanged by the spawn.
void CheckSignalDispositionsInChild();

// The hazard behind CLONE_CLEAR_SIGHAND: a vfork-style child shares the parent's memory, so a
// parent handler running in it (between clone and execve) corrupts the parent. A seccomp filter
// makes execve raise SIGSYS (SECCOMP_RET_TRAP) in the child, exactly in that window, after the
// child has unblocked signals. The parent has a SIGSYS handler that records the PID it runs in;
// it must never record the child's. The child dies of SIGSYS (or the spawn reports a failure).
// Installs the filter: the last check a forked process can run.
void CheckNoParentHandlerRunsInChild();

}  // namespace fltest

#endif  // FL_TEST_CONTRACT_H
