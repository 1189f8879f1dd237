// The reactor: one contract suite run against every way a child can be watched.
//
//   Epoll    the epoll backend, pidfds, in the test process itself
//   IoUring  the io_uring backend; skipped (saying why) where fl_reactor_open refuses it
//   PidOnly  the epoll reactor in a forked test process whose seccomp filter denies every pidfd
//            system call (NoPidfdSeccompRules), so the core spawns on FL_STRATEGY_PID_ONLY and
//            the reactor watches each child with a native waiter thread. Afterwards every
//            waiter thread must be gone and every descriptor closed.
//
// Each case checks what the reactor reports (token, result, status) and, through the fixture,
// that no descriptor, child or zombie outlived it. Cases that need a waitpid(-1) run in a forked
// process in every mode. Not run under valgrind: PidOnly (seccomp filters also filter valgrind's
// own system calls) and IoUring (valgrind blocks every other thread while one is in
// io_uring_enter); the many-children case runs with fewer children there.
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define FL_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FL_TEST_LSAN 1
#endif
#endif
#ifdef FL_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace fltest {
namespace {

enum class Mode { kEpoll, kIoUring, kPidOnly };

std::string ErrName(int err) {
    const char *n = fl_errno_name(err);
    return n != nullptr ? n : std::to_string(err);
}

int ThreadCount() {
    DIR *d = opendir("/proc/self/task");
    if (d == nullptr) return -1;
    int n = 0;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n;
}

// Waits up to timeout_ms for this process to be back at `threads` threads (detached waiter
// threads finish shortly after their child's exit was handed over).
bool AwaitThreadCount(int threads, int timeout_ms = 5000) {
    int64_t deadline = NowMs() + timeout_ms;
    while (ThreadCount() != threads) {
        if (NowMs() >= deadline) return false;
        usleep(1000);
    }
    return true;
}

// Spawns the test binary as a helper.
fl_process *SpawnHelper(const std::string &mode, const std::vector<std::string> &args) {
    return SpawnQuiet(SelfExe(), HelperArgv(mode, args));
}

// Owns a reactor.
class Reactor {
  public:
    explicit Reactor(int backend) { rc_ = fl_reactor_open(backend, &r_); }
    ~Reactor() { fl_reactor_close(r_); }
    Reactor(const Reactor &) = delete;
    Reactor &operator=(const Reactor &) = delete;
    fl_reactor *get() const { return r_; }
    int rc() const { return rc_; }
    void Close() {
        fl_reactor_close(r_);
        r_ = nullptr;
    }

  private:
    fl_reactor *r_ = nullptr;
    int rc_;
};

// Collects events until `count` have arrived or timeout_ms passed, max_per_wait at a time.
std::vector<fl_reactor_event> Collect(fl_reactor *r, size_t count, int max_per_wait = 16,
                                      int timeout_ms = 10000) {
    std::vector<fl_reactor_event> got;
    std::vector<fl_reactor_event> buf((size_t)max_per_wait);
    int64_t deadline = NowMs() + timeout_ms;
    while (got.size() < count) {
        int64_t left = deadline - NowMs();
        if (left <= 0) break;
        int n = fl_reactor_wait(r, buf.data(), max_per_wait, (int)left);
        if (n == -EINTR) continue;
        EXPECT_GE(n, 0) << ErrName(-n);
        if (n < 0) break;
        EXPECT_LE(n, max_per_wait);
        got.insert(got.end(), buf.begin(), buf.begin() + n);
    }
    EXPECT_EQ(got.size(), count) << "events missing after " << timeout_ms << " ms";
    return got;
}

// fl_reactor_wait, again while it says -EINTR. Not only signal handlers cause that: a thread
// that has submitted to an io_uring (an earlier IoUring case) can have its epoll_wait interrupted
// by the ring's task_work (see reactor_uring.c), and the contract lets the caller retry.
int WaitRetrying(fl_reactor *r, fl_reactor_event *ev, int max, int timeout_ms) {
    int rc;
    do {
        rc = fl_reactor_wait(r, ev, max, timeout_ms);
    } while (rc == -EINTR);
    return rc;
}

fl_reactor_event CollectOne(fl_reactor *r) {
    auto evs = Collect(r, 1);
    return evs.empty() ? fl_reactor_event{} : evs[0];
}

class ReactorContractTest : public LeakCheckedTest, public ::testing::WithParamInterface<Mode> {
  protected:
    // Runs body(backend) in the process the mode needs. forked: in a fork()ed copy even for the
    // modes that need none (for a waitpid(-1) that must not steal the test process's children).
    void Run(const std::function<void(int)> &body, bool forked = false) {
        int backend = FL_REACTOR_EPOLL;
        switch (GetParam()) {
            case Mode::kEpoll:
                break;
            case Mode::kIoUring: {
                // valgrind holds its big lock across io_uring_enter: a wait that another thread
                // must end never ends (ci/sanitize.sh).
                if (UnderValgrind()) GTEST_SKIP() << "io_uring cases do not run under valgrind";
                fl_reactor *r = nullptr;
                int rc = fl_reactor_open(FL_REACTOR_IO_URING, &r);
                if (rc < 0) GTEST_SKIP() << "no io_uring reactor here: " << ErrName(-rc);
                fl_reactor_close(r);
                backend = FL_REACTOR_IO_URING;
                break;
            }
            case Mode::kPidOnly:
                if (UnderValgrind()) GTEST_SKIP() << "seccomp tests do not run under valgrind";
                RunForked([&] {
                    ASSERT_EQ(InstallSeccomp(NoPidfdSeccompRules()), 0);
                    RunSpec s;
                    s.argv = HelperArgv("exit", {"0"});
                    ASSERT_TRUE(RunHelper(s).spawned);
                    ASSERT_EQ(fl_spawn_strategy_current(), FL_STRATEGY_PID_ONLY)
                        << StrategyName(fl_spawn_strategy_current());
                    Checked(body, FL_REACTOR_EPOLL, true);
                });
                return;
        }
        if (forked) {
            RunForked([&] { Checked(body, backend, true); });
        } else {
            Checked(body, backend);
        }
    }

    // body, then: every waiter thread gone, every descriptor it opened closed, and in a forked
    // process of a sanitizer build no memory leaked (it ends with _exit, so LeakSanitizer's own
    // check at exit never runs there).
    static void Checked(const std::function<void(int)> &body, int backend, bool forked = false) {
        int threads = ThreadCount();
        auto fds = OpenFds();
        body(backend);
        EXPECT_TRUE(AwaitThreadCount(threads)) << ThreadCount() << " threads, " << threads
                                               << " before: a waiter thread is left";
        EXPECT_EQ(OpenFds(), fds) << "descriptors leaked or closed";
#ifdef FL_TEST_LSAN
        if (forked) EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0) << "memory leaked (see above)";
#else
        (void)forked;
#endif
    }
};

void ExpectExited(const fl_reactor_event &ev, uint64_t token, int code) {
    EXPECT_EQ(ev.token, token);
    EXPECT_EQ(ev.result, 1) << ErrName(-ev.result);
    EXPECT_EQ(ev.status.kind, FL_EXITED);
    EXPECT_EQ(ev.status.code, code);
}

TEST_P(ReactorContractTest, ExitZero) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        EXPECT_EQ(fl_reactor_backend(r.get()), backend);
        fl_process *p = SpawnHelper("exit", {"0"});
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 7), 0);
        fl_reactor_event ev = CollectOne(r.get());
        ExpectExited(ev, 7, 0);
        // The reactor reaped it into the handle: the owner sees the same status.
        fl_exit_status st{};
        EXPECT_EQ(fl_process_wait(p, 0, &st), 1);
        EXPECT_EQ(st.kind, FL_EXITED);
        EXPECT_EQ(st.code, 0);
        EXPECT_EQ(fl_process_signal(p, 0), -ESRCH);
        fl_process_close(p);
    });
}

TEST_P(ReactorContractTest, Exit42WithItsToken) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        const uint64_t token = 0xfedcba9876543210ull;  // all 64 bits come back
        fl_process *p = SpawnHelper("exit", {"42"});
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, token), 0);
        ExpectExited(CollectOne(r.get()), token, 42);
        fl_process_close(p);
    });
}

TEST_P(ReactorContractTest, KilledBySigkillAndBySigterm) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *a = SpawnSleeper();
        fl_process *b = SpawnSleeper();
        ASSERT_NE(a, nullptr);
        ASSERT_NE(b, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), a, 1), 0);
        ASSERT_EQ(fl_reactor_add(r.get(), b, 2), 0);
        fl_reactor_event ev[2];
        EXPECT_EQ(WaitRetrying(r.get(), ev, 2, 0), 0);  // both still running
        EXPECT_EQ(fl_process_signal(a, SIGKILL), 0);
        EXPECT_EQ(fl_process_signal(b, SIGTERM), 0);
        std::map<uint64_t, fl_reactor_event> by_token;
        for (const auto &e : Collect(r.get(), 2)) by_token[e.token] = e;
        ASSERT_EQ(by_token.size(), 2u);
        EXPECT_EQ(by_token[1].result, 1);
        EXPECT_EQ(by_token[1].status.kind, FL_SIGNALED);
        EXPECT_EQ(by_token[1].status.code, SIGKILL);
        EXPECT_EQ(by_token[2].result, 1);
        EXPECT_EQ(by_token[2].status.kind, FL_SIGNALED);
        EXPECT_EQ(by_token[2].status.code, SIGTERM);
        EXPECT_EQ(by_token[2].status.core_dumped, 0);
        fl_process_close(a);
        fl_process_close(b);
    });
}

TEST_P(ReactorContractTest, ExitedBeforeRegistration) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *p = SpawnHelper("exit", {"3"});
        ASSERT_NE(p, nullptr);
        AwaitExitWithoutReaping(p);  // a zombie, still the handle's
        ASSERT_EQ(fl_reactor_add(r.get(), p, 33), 0);
        ExpectExited(CollectOne(r.get()), 33, 3);
        fl_process_close(p);
    });
}

TEST_P(ReactorContractTest, ReapedByWaitBeforeRegistration) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *p = SpawnHelper("exit", {"4"});
        ASSERT_NE(p, nullptr);
        fl_exit_status st{};
        ASSERT_EQ(fl_process_wait(p, 10000, &st), 1);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 44), 0);
        fl_reactor_event ev = CollectOne(r.get());
        ExpectExited(ev, 44, 4);
        EXPECT_EQ(ev.status.user_usec, st.user_usec);
        EXPECT_EQ(ev.status.system_usec, st.system_usec);
        EXPECT_EQ(ev.status.max_rss_kib, st.max_rss_kib);
        fl_process_close(p);
    });
}

// The owner drops its handle without waiting: the reactor still reports the exit, reaps the
// child and closes its pidfd then (the fixture checks there is no zombie and no descriptor left).
TEST_P(ReactorContractTest, OwnerClosesBeforeTheExit) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        auto fds = OpenFds();
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        int64_t pid = fl_process_pid(p);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 5), 0);
        fl_process_close(p);
        EXPECT_EQ(fl_reap_orphans(), 0) << "a watched child went on the orphan list";
        // Unreaped while the reactor holds it, so the PID is still this child's.
        ASSERT_EQ(kill((pid_t)pid, SIGKILL), 0);
        fl_reactor_event ev = CollectOne(r.get());
        EXPECT_EQ(ev.token, 5u);
        EXPECT_EQ(ev.result, 1);
        EXPECT_EQ(ev.status.kind, FL_SIGNALED);
        EXPECT_EQ(ev.status.code, SIGKILL);
        EXPECT_FALSE(HasWaitableChild()) << "the reactor left a zombie";
        EXPECT_EQ(OpenFds(), fds) << "the pidfd outlived the event";
    });
}

// Same, but the child exits on its own while nobody holds the handle but the reactor.
TEST_P(ReactorContractTest, OwnerClosesAndTheChildExitsLater) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *p = SpawnHelper("sleep", {"50", "6"});
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 6), 0);
        fl_process_close(p);
        ExpectExited(CollectOne(r.get()), 6, 6);
        EXPECT_FALSE(HasWaitableChild());
    });
}

TEST_P(ReactorContractTest, RusageIsFilled) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        // 100 ms of user time, 16 MiB touched, then 30 ms of system time.
        fl_process *p = SpawnHelper("burn", {"100", "16", "30"});
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 8), 0);
        fl_reactor_event ev = CollectOne(r.get());
        ExpectExited(ev, 8, 0);
        EXPECT_GE(ev.status.user_usec, 100000);
        EXPECT_GE(ev.status.system_usec, 30000);
        EXPECT_GE(ev.status.max_rss_kib, 16 * 1024);
        fl_process_close(p);
    });
}

// Many children at once, few events per wait: every token comes exactly once with its own
// status, and exits beyond max stay queued for the next wait. The children are coreutils' sleep
// and false, not the test binary: a sanitizer build's helper needs ~20 ms of start-up each.
TEST_P(ReactorContractTest, ThousandChildren) {
    Run([](int backend) {
        const int n = UnderValgrind() ? 100 : 1000;
        const int max = 7;
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        std::vector<fl_process *> procs;
        auto expected_code = [](int i) { return i % 4 == 3 ? 1 : 0; };
        for (int i = 0; i < n; i++) {
            // Exits staggered over 0..95 ms after the start; every fourth one fails at once.
            fl_process *p = expected_code(i) == 1
                                ? SpawnQuiet("/bin/false", {"false"})
                                : SpawnQuiet("/bin/sleep", {"sleep", "0.0" + std::to_string((i % 20) / 2)});
            if (p == nullptr) break;
            procs.push_back(p);
            ASSERT_EQ(fl_reactor_add(r.get(), p, 1000 + (uint64_t)i), 0);
        }
        ASSERT_EQ((int)procs.size(), n);
        // Spawning takes longer than the longest sleep: by now far more than max are ready.
        usleep(100 * 1000);
        std::vector<int> seen((size_t)n, 0);
        for (const auto &ev : Collect(r.get(), (size_t)n, max, 30000)) {
            ASSERT_GE(ev.token, 1000u);
            ASSERT_LT(ev.token, 1000u + (uint64_t)n);
            int i = (int)(ev.token - 1000);
            seen[(size_t)i]++;
            EXPECT_EQ(ev.result, 1);
            EXPECT_EQ(ev.status.kind, FL_EXITED);
            EXPECT_EQ(ev.status.code, expected_code(i)) << "token " << ev.token;
        }
        int once = 0;
        for (int c : seen) once += c == 1;
        EXPECT_EQ(once, n) << "tokens not reported exactly once";
        fl_reactor_event ev;
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 0), 0);
        for (fl_process *p : procs) fl_process_close(p);
    });
}

TEST_P(ReactorContractTest, WakeFromAnotherThread) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 9), 0);
        fl_reactor_event ev;
        int64_t start = NowMs();
        std::thread waker([&] {
            usleep(50 * 1000);
            EXPECT_EQ(fl_reactor_wake(r.get()), 0);
        });
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, -1), 0);
        EXPECT_GE(NowMs() - start, 40);
        waker.join();
        // A wake-up before the wait makes the next wait return at once.
        EXPECT_EQ(fl_reactor_wake(r.get()), 0);
        EXPECT_EQ(fl_reactor_wake(r.get()), 0);
        start = NowMs();
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 5000), 0);
        EXPECT_LT(NowMs() - start, 1000);
        // ... and only that one: the next times out.
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 20), 0);
        KillAndWait(p);
        fl_reactor_event e = CollectOne(r.get());
        EXPECT_EQ(e.token, 9u);
        EXPECT_EQ(e.status.code, SIGKILL);
        fl_process_close(p);
    });
}

TEST_P(ReactorContractTest, TimeoutReturnsZero) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_reactor_event ev;
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 0), 0);  // nothing registered
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 10), 0);
        int64_t start = NowMs();
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 100), 0);
        EXPECT_GE(NowMs() - start, 95);
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 0), 0);
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 0, 0), -EINVAL);
        fl_process_signal(p, SIGKILL);
        EXPECT_EQ(CollectOne(r.get()).token, 10u);
        fl_process_close(p);
    });
}

// Closing the reactor with children still running neither kills nor leaks them: a handle its
// owner still holds works as before; one its owner closed goes to the orphan list. In PidOnly
// mode their waiter threads are still blocked when the reactor closes, and finish (freeing the
// reactor) only once the children are killed.
TEST_P(ReactorContractTest, CloseWithLiveChildren) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        fl_process *kept1 = SpawnSleeper();
        fl_process *kept2 = SpawnSleeper();
        fl_process *dropped = SpawnSleeper();
        ASSERT_NE(kept1, nullptr);
        ASSERT_NE(kept2, nullptr);
        ASSERT_NE(dropped, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), kept1, 1), 0);
        ASSERT_EQ(fl_reactor_add(r.get(), kept2, 2), 0);
        ASSERT_EQ(fl_reactor_add(r.get(), dropped, 3), 0);
        int64_t dropped_pid = fl_process_pid(dropped);
        fl_process_close(dropped);
        r.Close();
        EXPECT_EQ(fl_process_signal(kept1, 0), 0) << "closing the reactor killed a child";
        EXPECT_EQ(fl_reap_orphans(), 1);
        // The orphan is unreaped, so its PID is still its own.
        ASSERT_EQ(kill((pid_t)dropped_pid, SIGKILL), 0);
        KillAndWait(kept1);
        KillAndWait(kept2);
        fl_process_close(kept1);
        // Kept handles can join another reactor.
        Reactor r2(backend);
        ASSERT_EQ(r2.rc(), 0);
        ASSERT_EQ(fl_reactor_add(r2.get(), kept2, 22), 0);
        fl_reactor_event ev = CollectOne(r2.get());
        EXPECT_EQ(ev.token, 22u);
        EXPECT_EQ(ev.status.code, SIGKILL);
        fl_process_close(kept2);
        int64_t deadline = NowMs() + 5000;
        while (fl_reap_orphans() > 0 && NowMs() < deadline) usleep(1000);
        EXPECT_EQ(fl_reap_orphans(), 0);
        EXPECT_FALSE(HasWaitableChild());
    });
}

TEST_P(ReactorContractTest, SecondAddIsEEXIST) {
    Run([](int backend) {
        Reactor r(backend);
        Reactor other(backend);
        ASSERT_EQ(r.rc(), 0);
        ASSERT_EQ(other.rc(), 0);
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r.get(), p, 1), 0);
        EXPECT_EQ(fl_reactor_add(r.get(), p, 2), -EEXIST);
        EXPECT_EQ(fl_reactor_add(other.get(), p, 3), -EEXIST);
        EXPECT_EQ(fl_reactor_add(r.get(), nullptr, 4), -EINVAL);
        fl_process_signal(p, SIGKILL);
        fl_reactor_event ev = CollectOne(r.get());
        EXPECT_EQ(ev.token, 1u);
        // Once reported it is no longer registered: a new registration reports it again.
        ASSERT_EQ(fl_reactor_add(other.get(), p, 5), 0);
        fl_reactor_event again = CollectOne(other.get());
        EXPECT_EQ(again.token, 5u);
        EXPECT_EQ(again.result, 1);
        EXPECT_EQ(again.status.code, SIGKILL);
        EXPECT_EQ(WaitRetrying(r.get(), &ev, 1, 0), 0);
        fl_process_close(p);
    });
}

// fl_process_wait on another thread races with the reactor for the reap: both get the status.
TEST_P(ReactorContractTest, WaitRacesWithTheReactor) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        for (int round = 0; round < 5; round++) {
            fl_process *p = SpawnHelper("sleep", {"20", "12"});
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(fl_reactor_add(r.get(), p, 12), 0);
            fl_exit_status st{};
            int wrc = 0;
            std::thread waiter([&] { wrc = fl_process_wait(p, 10000, &st); });
            ExpectExited(CollectOne(r.get()), 12, 12);
            waiter.join();
            EXPECT_EQ(wrc, 1);
            EXPECT_EQ(st.code, 12);
            fl_process_close(p);
        }
    });
}

// A waitpid(-1) elsewhere in the process steals the child: the reactor reports -ECHILD.
TEST_P(ReactorContractTest, ReapedBehindOurBackIsECHILD) {
    Run(
        [](int backend) {
            Reactor r(backend);
            ASSERT_EQ(r.rc(), 0);
            // Stolen while registered.
            fl_process *p = SpawnSleeper();
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(fl_reactor_add(r.get(), p, 13), 0);
            ASSERT_EQ(kill((pid_t)fl_process_pid(p), SIGKILL), 0);
            int ws;
            ASSERT_EQ(waitpid(-1, &ws, 0), (pid_t)fl_process_pid(p));
            fl_reactor_event ev = CollectOne(r.get());
            EXPECT_EQ(ev.token, 13u);
            EXPECT_EQ(ev.result, -ECHILD);
            fl_process_close(p);
            // Stolen before the registration.
            p = SpawnHelper("exit", {"1"});
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(waitpid(-1, &ws, 0), (pid_t)fl_process_pid(p));
            ASSERT_EQ(fl_reactor_add(r.get(), p, 14), 0);
            ev = CollectOne(r.get());
            EXPECT_EQ(ev.token, 14u);
            EXPECT_EQ(ev.result, -ECHILD);
            fl_process_close(p);
        },
        /*forked=*/true);
}

// A child this library did not start (java.lang.Process's, say) is never reaped by the reactor,
// however many of its own it reaps meanwhile.
TEST_P(ReactorContractTest, ForeignChildIsNeverReaped) {
    Run([](int backend) {
        Reactor r(backend);
        ASSERT_EQ(r.rc(), 0);
        pid_t foreign = fork();
        ASSERT_GE(foreign, 0);
        if (foreign == 0) _exit(7);
        siginfo_t si;
        memset(&si, 0, sizeof si);
        ASSERT_EQ(waitid(P_PID, (id_t)foreign, &si, WEXITED | WNOWAIT), 0);  // a zombie now
        for (int i = 0; i < 3; i++) {
            fl_process *p = SpawnHelper("exit", {"2"});
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(fl_reactor_add(r.get(), p, 20 + (uint64_t)i), 0);
            ExpectExited(CollectOne(r.get()), 20 + (uint64_t)i, 2);
            fl_process_close(p);
        }
        int ws = 0;
        ASSERT_EQ(waitpid(foreign, &ws, WNOHANG), foreign) << "the foreign child was reaped";
        EXPECT_TRUE(WIFEXITED(ws));
        EXPECT_EQ(WEXITSTATUS(ws), 7);
    });
}

INSTANTIATE_TEST_SUITE_P(Backends, ReactorContractTest,
                         ::testing::Values(Mode::kEpoll, Mode::kIoUring, Mode::kPidOnly),
                         [](const ::testing::TestParamInfo<Mode> &info) -> std::string {
                             switch (info.param) {
                                 case Mode::kEpoll: return "Epoll";
                                 case Mode::kIoUring: return "IoUring";
                                 case Mode::kPidOnly: return "PidOnly";
                             }
                             return "Unknown";
                         });

class ReactorTest : public LeakCheckedTest {};

TEST_F(ReactorTest, BestPicksIoUringElseEpoll) {
    fl_reactor *uring = nullptr;
    int urc = fl_reactor_open(FL_REACTOR_IO_URING, &uring);
    fl_reactor_close(uring);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    EXPECT_EQ(fl_reactor_backend(r), urc == 0 ? FL_REACTOR_IO_URING : FL_REACTOR_EPOLL)
        << "io_uring: " << (urc == 0 ? "opens" : ErrName(-urc));
    fl_reactor_close(r);
}

TEST_F(ReactorTest, InvalidArguments) {
    fl_reactor *r = reinterpret_cast<fl_reactor *>(1);
    EXPECT_EQ(fl_reactor_open(3, &r), -EINVAL);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(fl_reactor_open(-1, &r), -EINVAL);
    EXPECT_EQ(fl_reactor_open(FL_REACTOR_EPOLL, nullptr), -EINVAL);
    fl_reactor_close(nullptr);
    EXPECT_STREQ(fl_reactor_backend_name(FL_REACTOR_EPOLL), "epoll");
    EXPECT_STREQ(fl_reactor_backend_name(FL_REACTOR_IO_URING), "io_uring");
    EXPECT_STREQ(fl_reactor_backend_name(FL_REACTOR_BEST), "unknown");
    EXPECT_STREQ(fl_reactor_backend_name(99), "unknown");
}

}  // namespace
}  // namespace fltest
