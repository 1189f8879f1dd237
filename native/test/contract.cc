// The spawn contract checks shared by the signal suite and the fallback-ladder suite; see
// contract.h.
#include "contract.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <set>

#include "test_util.h"

namespace fltest {

namespace {

void ExpectSpawnFailsAt(const std::string &program, const char *cwd, int step, int err,
                        const std::vector<std::string> *env = nullptr) {
    auto fds = OpenFds();
    CStrings argv(HelperArgv("exit", {"0"}));
    CStrings envp;
    if (env != nullptr) envp = CStrings(*env);
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = program.c_str();
    o.argv = argv.get();
    o.cwd = cwd;
    o.envp = env != nullptr ? envp.get() : nullptr;
    o.fds = map;
    o.nfds = 1;
    fl_process *p = nullptr;
    fl_spawn_error e{-1, -1};
    int rc = fl_spawn(&o, &p, &e);
    EXPECT_EQ(rc, -err) << program;
    EXPECT_EQ(e.step, step) << "got step " << fl_step_name(e.step);
    EXPECT_EQ(e.err, err);
    if (rc == 0) {
        fl_exit_status st{};
        fl_process_signal(p, SIGKILL);
        fl_process_wait(p, 10000, &st);
        fl_process_close(p);
        return;
    }
    ExpectNothingLeft(fds);
}

void OnSignalNoop(int, siginfo_t *, void *) {}

volatile sig_atomic_t g_sigsys_pid = 0;
void OnSigsys(int, siginfo_t *, void *) { g_sigsys_pid = (sig_atomic_t)syscall(SYS_getpid); }

}  // namespace

void CheckSpawnContract(int expected) {
    // Exit code, and the strategy this process has settled on.
    {
        RunSpec s;
        s.argv = HelperArgv("exit", {"42"});
        RunResult r = RunHelper(s);
        ASSERT_TRUE(r.spawned);
        EXPECT_EQ(r.status.kind, FL_EXITED);
        EXPECT_EQ(r.status.code, 42);
        ASSERT_EQ(fl_spawn_strategy_current(), expected)
            << "got " << StrategyName(fl_spawn_strategy_current()) << ", expected "
            << StrategyName(expected);
    }
    // Death by a signal of its own.
    {
        RunSpec s;
        s.argv = HelperArgv("signal", {std::to_string(SIGKILL)});
        RunResult r = RunHelper(s);
        EXPECT_EQ(r.status.kind, FL_SIGNALED);
        EXPECT_EQ(r.status.code, SIGKILL);
    }
    // A live child: its descriptor, signal 0, timed waits, SIGTERM, then after reap.
    {
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        int fd = fl_process_fd(p);
        if (expected == FL_STRATEGY_PID_ONLY) {
            EXPECT_EQ(fd, -1);
        } else {
            ASSERT_GE(fd, 0);
            EXPECT_EQ(FdTarget(fd), "anon_inode:[pidfd]");
            EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        }
        fl_exit_status st{};
        EXPECT_EQ(fl_process_signal(p, 0), 0);
        EXPECT_EQ(fl_process_wait(p, 0, &st), 0);
        int64_t t0 = NowMs();
        EXPECT_EQ(fl_process_wait(p, 120, &st), 0);
        int64_t elapsed = NowMs() - t0;
        EXPECT_GE(elapsed, 119);
        EXPECT_LT(elapsed, 5000);
        EXPECT_EQ(fl_process_signal(p, SIGTERM), 0);
        ASSERT_EQ(fl_process_wait(p, 10000, &st), 1);
        EXPECT_EQ(st.kind, FL_SIGNALED);
        EXPECT_EQ(st.code, SIGTERM);
        EXPECT_EQ(fl_process_signal(p, SIGKILL), -ESRCH);
        EXPECT_EQ(fl_process_signal(p, 0), -ESRCH);
        fl_exit_status again{};
        EXPECT_EQ(fl_process_wait(p, 0, &again), 1);
        EXPECT_EQ(again.kind, FL_SIGNALED);
        EXPECT_EQ(again.code, SIGTERM);
        fl_process_close(p);
    }
    // A signal handler interrupts a blocking wait, forever or timed: -EINTR. A periodic timer
    // (not a thread: pthread_create itself needs clone3 or clone) keeps signalling until the wait
    // returns, in case a signal lands before the wait blocks.
    {
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = OnSignalNoop;
        sa.sa_flags = SA_SIGINFO;  // no SA_RESTART
        sigemptyset(&sa.sa_mask);
        ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_SIGNAL;
        sev.sigev_signo = SIGUSR1;
        timer_t timer;
        ASSERT_EQ(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
        struct itimerspec every_20ms = {{0, 20000000}, {0, 20000000}};
        ASSERT_EQ(timer_settime(timer, 0, &every_20ms, nullptr), 0);
        fl_exit_status st{};
        EXPECT_EQ(fl_process_wait(p, -1, &st), -EINTR);
        EXPECT_EQ(fl_process_wait(p, 10000, &st), -EINTR);
        struct itimerspec off = {{0, 0}, {0, 0}};
        timer_settime(timer, 0, &off, nullptr);
        timer_delete(timer);
        sigaction(SIGUSR1, &old, nullptr);
        EXPECT_EQ(fl_process_wait(p, 0, &st), 0);  // still running
        KillAndWait(p);
        fl_process_close(p);
    }
    // A timed wait that ends because the child exits; then a zombie that must not be signalled.
    {
        fl_process *p = SpawnSleeper(50);
        ASSERT_NE(p, nullptr);
        fl_exit_status st{};
        EXPECT_EQ(fl_process_wait(p, 20000, &st), 1);
        EXPECT_EQ(st.kind, FL_EXITED);
        fl_process_close(p);

        p = SpawnSleeper(0);
        ASSERT_NE(p, nullptr);
        AwaitExitWithoutReaping(p);
        EXPECT_EQ(fl_process_signal(p, SIGTERM), -ESRCH);
        EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
        EXPECT_EQ(st.kind, FL_EXITED);
        EXPECT_EQ(st.code, 0);
        fl_process_close(p);
    }
    // A recycled PID is never signalled.
    {
        fl_process *p = SpawnSleeper(0);
        ASSERT_NE(p, nullptr);
        int old_pid = (int)fl_process_pid(p);
        fl_exit_status st{};
        ASSERT_EQ(fl_process_wait(p, 10000, &st), 1);
        int impostor = RecyclePid(old_pid);
        EXPECT_EQ(fl_process_signal(p, SIGKILL), -ESRCH);
        if (impostor > 0) {
            usleep(10000);
            EXPECT_EQ(waitpid(impostor, nullptr, WNOHANG), 0) << "the recycled PID was signalled";
            kill(impostor, SIGKILL);
            waitpid(impostor, nullptr, 0);
        }
        fl_process_close(p);
    }
    // argv, byte for byte.
    {
        RunSpec s;
        s.argv = HelperArgv("argv", {"", " ", "two words", "\xff\xfe\x80", "caf\xc3\xa9", "-"},
                            1, "argv zero");
        RunResult r = RunHelper(s);
        EXPECT_EQ(SplitNul(r.out), s.argv);
    }
    // Descriptors: crossed numbers, a duplicate, and a non-CLOEXEC descriptor that must not leak.
    {
        int a = MemFd("contract-a"), b = MemFd("contract-b");
        int la = fcntl(a, F_DUPFD_CLOEXEC, 300), lb = fcntl(b, F_DUPFD_CLOEXEC, 300);
        close(a);
        close(b);
        ASSERT_EQ(dup3(la, 3, O_CLOEXEC), 3);
        ASSERT_EQ(dup3(lb, 4, O_CLOEXEC), 4);
        close(la);
        close(lb);
        int leak = MemFd("contract-leak", false);
        RunSpec s;
        s.argv = HelperArgv("fds");
        s.map_stderr = false;
        s.extra = {{4, 3}, {3, 4}, {0, 3}};
        RunResult r = RunHelper(s);
        auto got = ParseFdReport(r.out);
        std::set<int> keys;
        for (const auto &kv : got) keys.insert(kv.first);
        EXPECT_EQ(keys, (std::set<int>{0, 1, 3, 4})) << r.out;
        EXPECT_EQ(got[4].target, FdTarget(3));
        EXPECT_EQ(got[3].target, FdTarget(4));
        EXPECT_EQ(got[0].target, FdTarget(3));
        close(3);
        close(4);
        close(leak);
    }
    // Exec failures report their step through whatever channel this rung uses.
    {
        TempDir d;
        ExpectSpawnFailsAt(d.Join("missing"), nullptr, FL_STEP_EXEC, ENOENT);
        std::string cwd = d.Join("no-such-dir");
        ExpectSpawnFailsAt(SelfExe(), cwd.c_str(), FL_STEP_CHDIR, ENOENT);
        std::vector<std::string> env = {"PATH=" + d.path() + ":/nonexistent-fl"};
        ExpectSpawnFailsAt("fl-contract-not-in-path", nullptr, FL_STEP_RESOLVE, ENOENT, &env);
    }
    // Orphans are reaped.
    {
        fl_process *p = SpawnSleeper(20);
        ASSERT_NE(p, nullptr);
        fl_process_close(p);
        int64_t deadline = NowMs() + 10000;
        while (fl_reap_orphans() > 0 && NowMs() < deadline) usleep(2000);
        EXPECT_EQ(fl_reap_orphans(), 0);
        EXPECT_FALSE(HasWaitableChild());
    }
    EXPECT_EQ(fl_spawn_strategy_current(), expected) << "the strategy moved during the checks";
}

void CheckSignalDispositionsInChild() {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSignalNoop;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int caught[] = {SIGUSR1, SIGTERM, SIGINT, SIGRTMIN + 2};
    for (int sig : caught) ASSERT_EQ(sigaction(sig, &sa, nullptr), 0);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGINT);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &block, nullptr), 0);

    SigMasks parent = OwnSigMasks();
    ASSERT_NE(parent.ign & SigBit(SIGPIPE), 0u);
    ASSERT_NE(parent.blk & SigBit(SIGUSR2), 0u);

    RunSpec s;
    s.argv = HelperArgv("sigs");
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    SigMasks child = ParseSigReport(r.out);
    EXPECT_EQ(child.blk, 0u) << r.out;
    EXPECT_EQ(child.pnd, 0u) << r.out;
    EXPECT_EQ(child.ign & SigBit(SIGPIPE), 0u) << "SIGPIPE still ignored in the child\n" << r.out;
    EXPECT_EQ(child.ign, parent.ign & ~SigBit(SIGPIPE)) << r.out;
    EXPECT_NE(child.ign & SigBit(SIGHUP), 0u) << "SIG_IGN of SIGHUP is inherited (POSIX)";
    uint64_t allowed = 0;
    if (BuiltWithSanitizers()) {
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) allowed |= SigBit(sig);
    }
    EXPECT_EQ(child.cgt & ~allowed, 0u) << r.out;

    // The parent is as it was.
    SigMasks after = OwnSigMasks();
    EXPECT_EQ(after.blk, parent.blk);
    EXPECT_EQ(after.ign, parent.ign);
    EXPECT_EQ(after.cgt, parent.cgt);
    for (int sig : caught) {
        struct sigaction cur;
        ASSERT_EQ(sigaction(sig, nullptr, &cur), 0);
        EXPECT_EQ(cur.sa_sigaction, OnSignalNoop) << "handler of signal " << sig << " changed";
    }
}

void CheckNoParentHandlerRunsInChild() {
    // The child dies of SIGSYS, whose default action dumps core: RLIMIT_CORE 1 prevents both a
    // core file and a piped core (the kernel refuses a piped dump at exactly 1).
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_CORE, &rl), 0);
    rl.rlim_cur = 1;
    if (rl.rlim_max < 1) rl.rlim_max = 1;
    ASSERT_EQ(setrlimit(RLIMIT_CORE, &rl), 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = OnSigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGSYS, &sa, nullptr), 0);
    ASSERT_EQ(InstallSeccomp({{SYS_execve, 0, true}, {SYS_execveat, 0, true}}), 0);

    auto fds = OpenFds();
    g_sigsys_pid = 0;
    CStrings argv(HelperArgv("exit", {"0"}));
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    int rc = fl_spawn(&o, &p, &e);
    int64_t child_pid = rc == 0 ? fl_process_pid(p) : 0;
    if (rc == 0) {
        fl_exit_status st{};
        ASSERT_EQ(fl_process_wait(p, 20000, &st), 1);
        EXPECT_EQ(st.kind, FL_SIGNALED) << "code " << st.code;
        EXPECT_EQ(st.code, SIGSYS);
        fl_process_close(p);
    } else {
        // Acceptable: the implementation noticed the child died before exec.
        EXPECT_EQ(e.step, FL_STEP_EXEC) << fl_step_name(e.step) << " errno " << e.err;
        ExpectNothingLeft(fds);
    }
    EXPECT_EQ(g_sigsys_pid, 0) << "the parent's SIGSYS handler ran in the child (pid "
                               << g_sigsys_pid << "); fl_spawn returned " << rc << ", step "
                               << fl_step_name(e.step) << ", errno " << e.err << ", child pid "
                               << child_pid;

    // The trap itself works: here, in the parent, the handler runs.
    g_sigsys_pid = 0;
    const char *nargv[] = {"/nonexistent", nullptr};
    syscall(SYS_execve, "/nonexistent", nargv, nargv + 1);
    EXPECT_EQ(g_sigsys_pid, (sig_atomic_t)getpid()) << "the seccomp trap did not fire";
}

}  // namespace fltest
