// Exit status, resource usage, waiting, signalling and orphans: what a caller sees of a child
// after it has started.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "test_util.h"

namespace fltest {
namespace {

class ExitStatusTest : public LeakCheckedTest {};

// --- exit codes -------------------------------------------------------------------------------

class ExitCodeTest : public LeakCheckedTest, public ::testing::WithParamInterface<int> {};

TEST_P(ExitCodeTest, ReportsTheExitCode) {
    RunSpec s;
    s.argv = HelperArgv("exit", {std::to_string(GetParam())});
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, GetParam());
    EXPECT_EQ(r.status.core_dumped, 0);
    EXPECT_GT(r.status.max_rss_kib, 0);
    EXPECT_GE(r.status.user_usec, 0);
    EXPECT_GE(r.status.system_usec, 0);
}

INSTANTIATE_TEST_SUITE_P(Codes, ExitCodeTest, ::testing::Values(0, 1, 42, 255),
                         [](const ::testing::TestParamInfo<int> &i) {
                             return "Exit" + std::to_string(i.param);
                         });

// --- death by signal ---------------------------------------------------------------------------

class KilledBySignalTest : public LeakCheckedTest, public ::testing::WithParamInterface<int> {};

// The child raises the signal itself.
TEST_P(KilledBySignalTest, SelfRaisedSignalIsReported) {
    RunSpec s;
    s.argv = HelperArgv("signal", {std::to_string(GetParam())});
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_SIGNALED);
    EXPECT_EQ(r.status.code, GetParam());
    EXPECT_EQ(r.status.core_dumped, 0);  // TERM, KILL, INT, USR1 never dump core
}

// The parent sends it with fl_process_signal.
TEST_P(KilledBySignalTest, SignalFromParentIsReported) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_process_signal(p, GetParam()), 0);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, 30000, &st), 1);
    EXPECT_EQ(st.kind, FL_SIGNALED);
    EXPECT_EQ(st.code, GetParam());
    EXPECT_EQ(st.core_dumped, 0);
    fl_process_close(p);
}

INSTANTIATE_TEST_SUITE_P(Signals, KilledBySignalTest,
                         ::testing::Values(SIGTERM, SIGKILL, SIGINT, SIGUSR1),
                         [](const ::testing::TestParamInfo<int> &i) {
                             switch (i.param) {
                                 case SIGTERM: return std::string("TERM");
                                 case SIGKILL: return std::string("KILL");
                                 case SIGINT: return std::string("INT");
                                 case SIGUSR1: return std::string("USR1");
                                 default: return "Signal" + std::to_string(i.param);
                             }
                         });

static std::string CorePattern() {
    std::ifstream in("/proc/sys/kernel/core_pattern");
    std::string s;
    std::getline(in, s);
    return s;
}

// A core dump sets core_dumped. The helper chdirs into a fresh directory, raises its own
// RLIMIT_CORE and limits the dump to headers (coredump_filter 0), then SIGQUITs itself. Only a
// plain relative core_pattern ("core", "core.%p") is exercised: a pipe ("|/usr/lib/systemd/...")
// or an absolute path would leave a core behind outside the test's directory.
TEST_F(ExitStatusTest, CoreDumpFlag) {
    std::string pattern = CorePattern();
    if (pattern.empty() || pattern[0] == '|' || pattern.find('/') != std::string::npos) {
        GTEST_SKIP() << "core_pattern '" << pattern << "' would write the core outside the test";
    }
    TempDir dir;
    RunSpec s;
    s.argv = HelperArgv("core", {dir.path()});
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_SIGNALED);
    EXPECT_EQ(r.status.code, SIGQUIT);
    // Whether a core was written is the kernel's call (e.g. a read-only directory); the flag must
    // agree with what is on disk.
    bool core_file = false;
    if (DIR *d = opendir(dir.path().c_str())) {
        while (struct dirent *e = readdir(d)) {
            if (strncmp(e->d_name, "core", 4) == 0) core_file = true;
        }
        closedir(d);
    }
    EXPECT_EQ(r.status.core_dumped != 0, core_file);
    EXPECT_TRUE(core_file) << "expected a core file in " << dir.path();
}

// SIGQUIT's default action dumps core, but RLIMIT_CORE = 1 forbids it (1, not 0: the kernel also
// refuses a piped core_pattern at exactly 1): the flag stays 0.
TEST_F(ExitStatusTest, NoCoreDumpFlagWhenCoreIsForbidden) {
    RunForked([] {
        struct rlimit rl;
        ASSERT_EQ(getrlimit(RLIMIT_CORE, &rl), 0);
        rl.rlim_cur = 1;
        if (rl.rlim_max < 1) rl.rlim_max = 1;
        ASSERT_EQ(setrlimit(RLIMIT_CORE, &rl), 0);
        TempDir dir;
        RunSpec s;
        s.argv = HelperArgv("signal", {std::to_string(SIGQUIT)});
        s.cwd = dir.path().c_str();
        RunResult r = RunHelper(s);
        ASSERT_TRUE(r.spawned);
        EXPECT_EQ(r.status.kind, FL_SIGNALED);
        EXPECT_EQ(r.status.code, SIGQUIT);
        EXPECT_EQ(r.status.core_dumped, 0);
    });
}

// --- resource usage ----------------------------------------------------------------------------

TEST_F(ExitStatusTest, ResourceUsageOfABusyChild) {
    const int cpu_ms = 150, mib = 64, sys_ms = 50;
    RunSpec s;
    s.argv = HelperArgv("burn", {std::to_string(cpu_ms), std::to_string(mib), std::to_string(sys_ms)});
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, 0);
    EXPECT_GE(r.status.user_usec, cpu_ms * 1000);
    EXPECT_LT(r.status.user_usec, 30 * 1000000LL);  // microseconds, not nanoseconds
    EXPECT_GE(r.status.max_rss_kib, mib * 1024);
    EXPECT_LT(r.status.max_rss_kib, 64LL * 1024 * 1024);  // KiB, not bytes
    EXPECT_GE(r.status.system_usec, sys_ms * 1000);
    EXPECT_LT(r.status.system_usec, 30 * 1000000LL);
}

// --- waiting -----------------------------------------------------------------------------------

TEST_F(ExitStatusTest, WaitTimeoutZeroOnRunningChildReturnsAtOnce) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    fl_exit_status st{};
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_process_wait(p, 0, &st), 0);
    EXPECT_LT(NowMs() - t0, 1000);
    KillAndWait(p);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, WaitPositiveTimeoutExpires) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    fl_exit_status st{};
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_process_wait(p, 150, &st), 0);
    int64_t elapsed = NowMs() - t0;
    EXPECT_GE(elapsed, 149);
    EXPECT_LT(elapsed, 5000);
    KillAndWait(p);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, WaitPositiveTimeoutReturnsWhenTheChildExits) {
    fl_process *p = SpawnSleeper(100);
    ASSERT_NE(p, nullptr);
    fl_exit_status st{};
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_process_wait(p, 20000, &st), 1);
    EXPECT_LT(NowMs() - t0, 10000);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, WaitForever) {
    fl_process *p = SpawnSleeper(100);
    ASSERT_NE(p, nullptr);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, -1, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, WaitTimeoutZeroOnExitedChildReturnsItsStatus) {
    fl_process *p = nullptr;
    CStrings argv(HelperArgv("exit", {"3"}));
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0);
    AwaitExitWithoutReaping(p);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 0, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 3);
    fl_process_close(p);
}

static void ExpectSameStatus(const fl_exit_status &a, const fl_exit_status &b) {
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.code, b.code);
    EXPECT_EQ(a.core_dumped, b.core_dumped);
    EXPECT_EQ(a.user_usec, b.user_usec);
    EXPECT_EQ(a.system_usec, b.system_usec);
    EXPECT_EQ(a.max_rss_kib, b.max_rss_kib);
}

TEST_F(ExitStatusTest, StatusIsStableAcrossRepeatedWaits) {
    fl_process *p = SpawnSleeper(10);
    ASSERT_NE(p, nullptr);
    fl_exit_status first{};
    ASSERT_EQ(fl_process_wait(p, -1, &first), 1);
    for (int timeout : {-1, 0, 50, -1, 0}) {
        fl_exit_status again{};
        memset(&again, 0x5a, sizeof again);
        EXPECT_EQ(fl_process_wait(p, timeout, &again), 1) << "timeout " << timeout;
        ExpectSameStatus(first, again);
    }
    fl_process_close(p);
}

// Several threads wait on one handle at once (blocking, timed and polling): every one gets 1 and
// the same status, and the child is reaped exactly once.
TEST_F(ExitStatusTest, ConcurrentWaitsAllGetTheSameStatus) {
    CStrings argv(HelperArgv("sleep", {"200", "42"}));
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0);

    const int n = 8;
    std::vector<fl_exit_status> st(n);
    std::vector<int> rc(n, -999);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; i++) {
        threads.emplace_back([&, i] {
            ready++;
            while (ready.load() < n) std::this_thread::yield();
            if (i % 3 == 0) {
                rc[i] = fl_process_wait(p, -1, &st[i]);
            } else if (i % 3 == 1) {
                rc[i] = fl_process_wait(p, 20000, &st[i]);
            } else {
                int64_t deadline = NowMs() + 20000;
                do {
                    rc[i] = fl_process_wait(p, 0, &st[i]);
                    if (rc[i] == 0) usleep(1000);
                } while (rc[i] == 0 && NowMs() < deadline);
            }
        });
    }
    for (auto &t : threads) t.join();
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(rc[i], 1) << "thread " << i;
        EXPECT_EQ(st[i].kind, FL_EXITED) << "thread " << i;
        EXPECT_EQ(st[i].code, 42) << "thread " << i;
        ExpectSameStatus(st[0], st[i]);
    }
    fl_process_close(p);
}

// fl_spawn from several threads at once: each child is the one its thread asked for (its own
// output on its own pipe, its own exit code) and nothing leaks between them.
TEST_F(ExitStatusTest, ConcurrentSpawnsFromSeveralThreads) {
    const int threads = 4, per_thread = 25;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([t] {
            for (int i = 0; i < per_thread; i++) {
                std::string token = "t" + std::to_string(t) + "-" + std::to_string(i);
                int code = (t * per_thread + i) % 256;
                RunSpec s;
                s.argv = HelperArgv("argv", {token});
                RunResult r = RunHelper(s);
                EXPECT_EQ(SplitNul(r.out), s.argv);
                RunSpec e;
                e.argv = HelperArgv("exit", {std::to_string(code)});
                EXPECT_EQ(RunHelper(e).status.code, code);
            }
        });
    }
    for (auto &th : pool) th.join();
}

static void NoRestartHandler(int) {}

// A signal handler that interrupts a blocking wait makes it return -EINTR (see forkless.h).
TEST_F(ExitStatusTest, WaitInterruptedBySignalHandlerReturnsEINTR) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = NoRestartHandler;  // no SA_RESTART
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);

    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    std::atomic<bool> done{false};
    int rc = -999;
    fl_exit_status st{};
    std::thread waiter([&] {
        rc = fl_process_wait(p, -1, &st);
        done = true;
    });
    // The signal may land before the wait blocks; keep sending until the waiter returns.
    int64_t deadline = NowMs() + 10000;
    while (!done && NowMs() < deadline) {
        pthread_kill(waiter.native_handle(), SIGUSR1);
        usleep(20000);
    }
    if (!done) fl_process_signal(p, SIGKILL);  // let the thread finish
    waiter.join();
    EXPECT_EQ(rc, -EINTR);
    KillAndWait(p);
    fl_process_close(p);
    sigaction(SIGUSR1, &old, nullptr);
}

// --- signalling --------------------------------------------------------------------------------

TEST_F(ExitStatusTest, SignalZeroOnLiveChildReturnsZero) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_process_signal(p, 0), 0);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 0, &st), 0);  // signal 0 did nothing
    KillAndWait(p);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, InvalidSignalNumberIsEINVAL) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_process_signal(p, -1), -EINVAL);
    EXPECT_EQ(fl_process_signal(p, 1000), -EINVAL);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 0, &st), 0);
    KillAndWait(p);
    fl_process_close(p);
}

TEST_F(ExitStatusTest, SignalAfterReapIsESRCH) {
    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    EXPECT_EQ(fl_process_signal(p, SIGKILL), -ESRCH);
    EXPECT_EQ(fl_process_signal(p, 0), -ESRCH);
    fl_exit_status again{};
    ASSERT_EQ(fl_process_wait(p, 0, &again), 1);
    EXPECT_EQ(again.kind, FL_EXITED);  // not turned into a signal death
    EXPECT_EQ(again.code, 0);
    fl_process_close(p);
}

// Exited but not yet reaped (a zombie still accepts kill(2) with success): -ESRCH all the same,
// and the status stays the real one.
TEST_F(ExitStatusTest, SignalAfterExitBeforeReapIsESRCH) {
    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    AwaitExitWithoutReaping(p);
    EXPECT_EQ(fl_process_signal(p, SIGTERM), -ESRCH);
    EXPECT_EQ(fl_process_signal(p, 0), -ESRCH);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
    fl_process_close(p);
}

// The race the JDK calls unavoidable: after the child was reaped its PID is reused by another
// process; signalling the old handle must not touch that process.
TEST_F(ExitStatusTest, SignalNeverReachesARecycledPid) {
    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    pid_t old_pid = (pid_t)fl_process_pid(p);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    pid_t impostor = RecyclePid(old_pid);
    if (impostor < 0) {
        EXPECT_EQ(fl_process_signal(p, SIGKILL), -ESRCH);
        fl_process_close(p);
        GTEST_SKIP() << "could not recycle PID " << old_pid << " (ns_last_pid not writable?)";
    }
    EXPECT_EQ(fl_process_signal(p, SIGKILL), -ESRCH);
    EXPECT_EQ(fl_process_signal(p, SIGTERM), -ESRCH);
    usleep(20000);
    int wst = 0;
    EXPECT_EQ(waitpid(impostor, &wst, WNOHANG), 0) << "the process that reused the PID was hit";
    EXPECT_EQ(kill(impostor, 0), 0);
    kill(impostor, SIGKILL);
    waitpid(impostor, nullptr, 0);
    fl_process_close(p);
}

// --- the handle --------------------------------------------------------------------------------

TEST_F(ExitStatusTest, PidIsTheChildsPid) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    CStrings argv(HelperArgv("ids"));
    fl_fd_map map[] = {{1, p[1]}, {2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 2;
    fl_process *proc = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &proc, &e), 0);
    close(p[1]);
    std::string out = ReadAll(p[0]);
    close(p[0]);
    EXPECT_EQ(atoll(out.c_str()), fl_process_pid(proc)) << out;
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(proc, -1, &st), 1);
    fl_process_close(proc);
}

// The pidfd: owned by the handle, close-on-exec (else every later child of this process would
// inherit it), and readable once the child has exited.
TEST_F(ExitStatusTest, ProcessFdIsACloexecPidfdThatBecomesReadable) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    int fd = fl_process_fd(p);
    if (fl_spawn_strategy_current() == FL_STRATEGY_PID_ONLY) {
        EXPECT_EQ(fd, -1);
    } else {
        ASSERT_GE(fd, 0);
        EXPECT_EQ(FdTarget(fd), "anon_inode:[pidfd]");
        EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        struct pollfd pfd = {fd, POLLIN, 0};
        EXPECT_EQ(poll(&pfd, 1, 0), 0);
        EXPECT_EQ(fl_process_signal(p, SIGKILL), 0);
        EXPECT_EQ(poll(&pfd, 1, 10000), 1);
    }
    KillAndWait(p);
    fl_process_close(p);
}

// --- orphans -----------------------------------------------------------------------------------

TEST_F(ExitStatusTest, ReapOrphansWithNothingToDoReturnsZero) { EXPECT_EQ(fl_reap_orphans(), 0); }

TEST_F(ExitStatusTest, ClosedRunningChildIsNotKilledAndIsReapedLater) {
    fl_process *p = SpawnSleeper(150);
    ASSERT_NE(p, nullptr);
    pid_t pid = (pid_t)fl_process_pid(p);
    fl_process_close(p);
    // Not killed: still running right after close.
    EXPECT_EQ(kill(pid, 0), 0);
    EXPECT_GE(fl_reap_orphans(), 1);
    int64_t deadline = NowMs() + 10000;
    int left;
    while ((left = fl_reap_orphans()) > 0 && NowMs() < deadline) usleep(5000);
    EXPECT_EQ(left, 0);
    EXPECT_FALSE(HasWaitableChild());
    EXPECT_TRUE(ChildPids().empty());
}

TEST_F(ExitStatusTest, ClosingAnExitedChildReapsIt) {
    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    AwaitExitWithoutReaping(p);
    fl_process_close(p);
    EXPECT_FALSE(HasWaitableChild()) << "close left a zombie";
    EXPECT_EQ(fl_reap_orphans(), 0);
}

// fl_spawn reaps orphans too: an orphan that has exited is gone once the next spawn returns.
TEST_F(ExitStatusTest, SpawnReapsExitedOrphans) {
    fl_process *orphan = SpawnSleeper(30);
    ASSERT_NE(orphan, nullptr);
    pid_t orphan_pid = (pid_t)fl_process_pid(orphan);
    fl_process_close(orphan);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    ASSERT_EQ(waitid(P_PID, (id_t)orphan_pid, &si, WEXITED | WNOWAIT), 0);

    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    for (int pid : ChildPids()) EXPECT_NE(pid, orphan_pid) << "the exited orphan is still a zombie";
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, -1, &st), 1);
    fl_process_close(p);
}

}  // namespace
}  // namespace fltest
