// The io_uring backend of the reactor (reactor_uring.c), driven directly through its ops, plus its
// detection: io_uring really taken away by a seccomp filter in a forked process must make it say
// "not here" with the filter's errno, and make fl_reactor_open fall back to epoll.
//
// If io_uring_setup fails on the machine itself (an old kernel, io_uring_disabled, a container
// profile), the backend tests skip with the errno; the seccomp tests still run.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "test_util.h"

extern "C" {
#include "reactor_backend.h"
}

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

namespace fltest {
namespace {

int64_t NowUs() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// valgrind 3.19 runs io_uring_enter while holding its big lock (the wrapper is not marked as one
// that may block), so while one thread sleeps in wait no other thread of the process runs: a
// wake-up or an arm from another thread never comes, and even SIGTERM waits. Tests that need a
// second thread during a wait skip there (and ci/sanitize.sh leaves them out).
#define SKIP_UNDER_VALGRIND_IF_CROSS_THREAD()                                                   \
    do {                                                                                         \
        if (UnderValgrind()) GTEST_SKIP() << "valgrind blocks every thread during io_uring_enter"; \
    } while (0)

class ReactorUringTest : public LeakCheckedTest {
  protected:
    void SetUp() override {
        LeakCheckedTest::SetUp();
        int rc = fl_backend_uring_open(&b_, &ops_);
        if (rc < 0) {
            GTEST_SKIP() << "io_uring is not available here: " << fl_errno_name(-rc) << " ("
                         << strerror(-rc) << ")";
        }
        ASSERT_NE(b_, nullptr);
        ASSERT_NE(ops_, nullptr);
    }
    void TearDown() override {
        for (int fd : fds_) close(fd);
        if (b_ != nullptr) ops_->destroy(b_);
        LeakCheckedTest::TearDown();
    }

    // A pipe whose descriptors the fixture closes.
    void Pipe(int p[2]) {
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0) << strerror(errno);
        fds_.push_back(p[0]);
        fds_.push_back(p[1]);
    }
    // Waits and returns the keys (or the error, as a single negative "key" count in rc).
    std::vector<uint64_t> Wait(int timeout_ms, int max = 64, int *rc_out = nullptr) {
        std::vector<uint64_t> keys((size_t)max);
        int rc = ops_->wait(b_, keys.data(), max, timeout_ms);
        if (rc_out != nullptr) *rc_out = rc;
        EXPECT_GE(rc, 0) << fl_errno_name(-rc);
        keys.resize(rc > 0 ? (size_t)rc : 0);
        return keys;
    }

    fl_backend *b_ = nullptr;
    const fl_backend_ops *ops_ = nullptr;
    std::vector<int> fds_;
};

TEST_F(ReactorUringTest, KindIsIoUring) {
    EXPECT_EQ(ops_->kind, FL_REACTOR_IO_URING);
    EXPECT_STREQ(fl_reactor_backend_name(ops_->kind), "io_uring");
}

// One-shot: a pipe that stays readable is reported once, then again only after rearm.
TEST_F(ReactorUringTest, PipeIsReportedOnceAndAgainAfterRearm) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(ops_->arm(b_, p[0], 7, POLLIN), 0);
    EXPECT_TRUE(Wait(0).empty());
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{7});
    int64_t t0 = NowMs();
    EXPECT_TRUE(Wait(50).empty()) << "a one-shot arming was reported twice";
    EXPECT_GE(NowMs() - t0, 45);

    ASSERT_EQ(ops_->rearm(b_, p[0], 7, POLLIN), 0);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{7});
    EXPECT_TRUE(Wait(0).empty());
    EXPECT_EQ(ops_->disarm(b_, p[0], 7), 0);  // after a report: nothing to do
}

// A key still in flight cannot be armed twice; reserved keys are refused.
TEST_F(ReactorUringTest, DoubleArmIsEexistAndReservedKeysAreRefused) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(ops_->arm(b_, p[0], 1, POLLIN), 0);
    EXPECT_EQ(ops_->arm(b_, p[0], 1, POLLIN), -EEXIST);
    EXPECT_EQ(ops_->arm(b_, p[0], UINT64_MAX, POLLIN), -EINVAL);
    EXPECT_EQ(ops_->arm(b_, p[0], UINT64_MAX - 1, POLLIN), -EINVAL);
    EXPECT_EQ(ops_->arm(b_, -1, 2, POLLIN), -EINVAL);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{1});
}

// A pidfd: silent while the child runs, reported when it exits (then the caller reaps).
TEST_F(ReactorUringTest, PidfdIsReportedWhenTheChildExits) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    ASSERT_GE(p->pidfd, 0) << "this test needs a pidfd";
    ASSERT_EQ(ops_->arm(b_, p->pidfd, 42, POLLIN), 0);
    EXPECT_TRUE(Wait(100).empty());
    ASSERT_EQ(fl_process_signal(p, SIGKILL), 0);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{42});
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 0, &st), 1);
    EXPECT_EQ(st.kind, FL_SIGNALED);
    EXPECT_EQ(ops_->disarm(b_, p->pidfd, 42), 0);
    fl_process_close(p);
}

// A child that exited before arming is reported at once.
TEST_F(ReactorUringTest, PidfdOfAnExitedChildIsReportedAtOnce) {
    fl_process *p = SpawnSleeper(0);
    ASSERT_NE(p, nullptr);
    ASSERT_GE(p->pidfd, 0) << "this test needs a pidfd";
    AwaitExitWithoutReaping(p);
    ASSERT_EQ(ops_->arm(b_, p->pidfd, 43, POLLIN), 0);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{43});
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 0, &st), 1);
    fl_process_close(p);
}

// disarm on a key still armed removes the request: its completion is never reported, and the
// key may be armed again once that completion has gone by.
TEST_F(ReactorUringTest, DisarmOfAnArmedKeySwallowsItsCompletion) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(ops_->arm(b_, p[0], 5, POLLIN), 0);
    EXPECT_EQ(ops_->disarm(b_, p[0], 5), 0);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_TRUE(Wait(50).empty());

    ASSERT_EQ(ops_->arm(b_, p[0], 5, POLLIN), 0);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{5});

    // Completed but not yet taken off the ring when disarmed: swallowed as well.
    ASSERT_EQ(ops_->rearm(b_, p[0], 6, POLLIN), 0);
    usleep(20 * 1000);
    EXPECT_EQ(ops_->disarm(b_, p[0], 6), 0);
    EXPECT_TRUE(Wait(50).empty());
}

TEST_F(ReactorUringTest, TimeoutsZeroAndFiftyMs) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(ops_->arm(b_, p[0], 9, POLLIN), 0);
    int64_t t0 = NowUs();
    EXPECT_TRUE(Wait(0).empty());
    EXPECT_LT(NowUs() - t0, 20000);
    for (int i = 0; i < 3; i++) {
        t0 = NowUs();
        int rc = 1;
        EXPECT_TRUE(Wait(50, 64, &rc).empty());
        EXPECT_EQ(rc, 0);
        int64_t took = NowUs() - t0;
        EXPECT_GE(took, 49000);
        EXPECT_LT(took, 1000000);
    }
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(Wait(0), std::vector<uint64_t>{9});
}

// wake from another thread ends wait(-1) with 0 keys; a wake-up is consumed, not sticky.
TEST_F(ReactorUringTest, WakeFromAnotherThreadEndsAnEndlessWait) {
    SKIP_UNDER_VALGRIND_IF_CROSS_THREAD();
    std::vector<int64_t> latency_us;
    for (int round = 0; round < 20; round++) {
        std::atomic<int64_t> woke_at{0};
        std::thread t([&] {
            usleep(5 * 1000);
            woke_at = NowUs();
            EXPECT_EQ(ops_->wake(b_), 0);
        });
        int rc = 1;
        EXPECT_TRUE(Wait(-1, 64, &rc).empty());
        int64_t back = NowUs();
        EXPECT_EQ(rc, 0);
        t.join();
        latency_us.push_back(back - woke_at.load());
    }
    std::sort(latency_us.begin(), latency_us.end());
    RecordProperty("wake_latency_p50_us", (int)latency_us[latency_us.size() / 2]);
    printf("wake-up latency (write -> wait returns): p50 %lld us, max %lld us\n",
           (long long)latency_us[latency_us.size() / 2], (long long)latency_us.back());

    // Several wake-ups before a wait: it returns at once, and the next wait sleeps its time.
    EXPECT_EQ(ops_->wake(b_), 0);
    EXPECT_EQ(ops_->wake(b_), 0);
    EXPECT_TRUE(Wait(-1).empty());
    int64_t t0 = NowMs();
    EXPECT_TRUE(Wait(50).empty());
    EXPECT_GE(NowMs() - t0, 45) << "a wake-up was reported twice";
}

// A wake-up does not hide keys that are ready at the same time.
TEST_F(ReactorUringTest, WakeAndKeysTogether) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(ops_->arm(b_, p[0], 11, POLLIN), 0);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(ops_->wake(b_), 0);
    std::vector<uint64_t> got;
    for (int i = 0; i < 3 && got.empty(); i++) got = Wait(1000);
    EXPECT_EQ(got, std::vector<uint64_t>{11});
}

// Many keys, max smaller than the ready count: each key once, in any order, none lost.
TEST_F(ReactorUringTest, ManyKeysDrainedInSmallBatches) {
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    int n = 500;
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)(2 * n + 64) > rl.rlim_cur) n = (int)(rl.rlim_cur - 64) / 2;
    ASSERT_GT(n, 10);
    std::vector<int> rd;
    for (int i = 0; i < n; i++) {
        int p[2];
        Pipe(p);
        rd.push_back(p[0]);
        ASSERT_EQ(ops_->arm(b_, p[0], 1000 + (uint64_t)i, POLLIN), 0);
        if (i % 2 == 0) {
            ASSERT_EQ(write(p[1], "x", 1), 1);  // half ready before the wait
        }
    }
    for (int i = 1; i < n; i += 2) ASSERT_EQ(write(fds_[2 * (size_t)i + 1], "x", 1), 1);

    std::multiset<uint64_t> seen;
    int64_t deadline = NowMs() + 10000;
    while ((int)seen.size() < n && NowMs() < deadline) {
        std::vector<uint64_t> got = Wait(1000, 7);
        EXPECT_LE(got.size(), 7u);
        seen.insert(got.begin(), got.end());
    }
    ASSERT_EQ((int)seen.size(), n);
    for (int i = 0; i < n; i++) EXPECT_EQ(seen.count(1000 + (uint64_t)i), 1u) << i;
    EXPECT_TRUE(Wait(20).empty());
}

// Four threads arm while one thread waits: every key is reported exactly once.
TEST_F(ReactorUringTest, ConcurrentArmFromFourThreadsWhileWaiting) {
    SKIP_UNDER_VALGRIND_IF_CROSS_THREAD();
    const int kThreads = 4, kPerThread = 100;
    std::vector<std::array<int, 2>> pipes(kThreads * kPerThread);
    for (auto &p : pipes) Pipe(p.data());

    std::multiset<uint64_t> seen;
    std::atomic<bool> stop{false};
    std::thread waiter([&] {
        int64_t deadline = NowMs() + 15000;
        while (!stop && (int)seen.size() < kThreads * kPerThread && NowMs() < deadline) {
            uint64_t keys[32];
            int rc = ops_->wait(b_, keys, 32, -1);
            ASSERT_GE(rc, 0) << fl_errno_name(-rc);
            seen.insert(keys, keys + rc);
        }
    });
    std::vector<std::thread> armers;
    for (int t = 0; t < kThreads; t++) {
        armers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; i++) {
                size_t k = (size_t)(t * kPerThread + i);
                if (i % 3 == 0) {
                    ASSERT_EQ(write(pipes[k][1], "x", 1), 1);  // ready at arming
                }
                ASSERT_EQ(ops_->arm(b_, pipes[k][0], k, POLLIN), 0);
                if (i % 3 != 0) {
                    ASSERT_EQ(write(pipes[k][1], "x", 1), 1);
                }
            }
        });
    }
    for (auto &t : armers) t.join();
    // The waiter ends by itself once it has them all; the wake-up covers a failure above.
    int64_t deadline = NowMs() + 10000;
    while ((int)seen.size() < kThreads * kPerThread && NowMs() < deadline) usleep(1000);
    stop = true;
    ops_->wake(b_);
    waiter.join();
    ASSERT_EQ(seen.size(), (size_t)(kThreads * kPerThread));
    for (size_t k = 0; k < pipes.size(); k++) EXPECT_EQ(seen.count(k), 1u) << k;
}

// The thread that armed a key has exited by the time the descriptor becomes readable (the
// completion is task_work of the submitting thread; the kernel must still deliver it).
TEST_F(ReactorUringTest, ArmedByAThreadThatHasExited) {
    int p[2];
    Pipe(p);
    std::thread([&] { EXPECT_EQ(ops_->arm(b_, p[0], 77, POLLIN), 0); }).join();
    usleep(10 * 1000);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{77});
}

// A poll's completion is delivered to the thread that submitted it, interrupting it like a signal
// (epoll_wait fails with EINTR there). The backend submits from the waiter's thread, so a caller
// that armed a key and went on to sleep elsewhere is not disturbed when the key fires.
TEST_F(ReactorUringTest, ArmingThreadIsNotInterruptedWhenItsKeyFires) {
    SKIP_UNDER_VALGRIND_IF_CROSS_THREAD();
    int p[2];
    Pipe(p);
    std::atomic<bool> armed{false};
    int ep_rc = 1, ep_errno = 0;
    std::thread t([&] {
        int ep = epoll_create1(EPOLL_CLOEXEC);
        ASSERT_GE(ep, 0);
        EXPECT_EQ(ops_->arm(b_, p[0], 88, POLLIN), 0);
        armed = true;
        struct epoll_event ev;
        ep_rc = epoll_wait(ep, &ev, 1, 300);  // nothing in the set: a 300 ms sleep
        ep_errno = errno;
        close(ep);
    });
    while (!armed) usleep(1000);
    usleep(20 * 1000);  // the armer is asleep in epoll_wait now
    ASSERT_EQ(write(p[1], "x", 1), 1);
    EXPECT_EQ(Wait(5000), std::vector<uint64_t>{88});
    t.join();
    EXPECT_EQ(ep_rc, 0) << "the arming thread's epoll_wait was interrupted: " << strerror(ep_errno);
}

void NoOp(int) {}

// A signal handler installed without SA_RESTART interrupts wait(-1): -EINTR is passed up.
TEST_F(ReactorUringTest, SignalInterruptsAnEndlessWait) {
    SKIP_UNDER_VALGRIND_IF_CROSS_THREAD();
    RunForked([] {
        // A ring of its own: the forked copy shares the fixture's rings with the parent.
        fl_backend *b = nullptr;
        const fl_backend_ops *ops = nullptr;
        ASSERT_EQ(fl_backend_uring_open(&b, &ops), 0);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = NoOp;  // no SA_RESTART
        ASSERT_EQ(sigaction(SIGUSR1, &sa, nullptr), 0);
        pthread_t self = pthread_self();
        std::thread t([&] {
            usleep(50 * 1000);
            pthread_kill(self, SIGUSR1);
        });
        uint64_t keys[4];
        int rc = ops->wait(b, keys, 4, -1);
        t.join();
        EXPECT_EQ(rc, -EINTR);
        ops->destroy(b);
    });
}

// ---- io_uring taken away --------------------------------------------------------------------

class ReactorUringUnavailableTest : public LeakCheckedTest {
  protected:
    void Deny(int err) {
        // valgrind 3.19 does not implement seccomp(2) (and would filter its own calls).
        if (UnderValgrind()) GTEST_SKIP() << "seccomp tests do not run under valgrind";
        RunForked([err] {
            std::map<int, std::string> before = OpenFds();
            ASSERT_EQ(InstallSeccomp({SeccompRule{SYS_io_uring_setup, err}}), 0);

            fl_backend *b = reinterpret_cast<fl_backend *>(1);
            const fl_backend_ops *ops = reinterpret_cast<const fl_backend_ops *>(1);
            EXPECT_EQ(fl_backend_uring_open(&b, &ops), -err);
            EXPECT_EQ(b, nullptr);
            EXPECT_EQ(ops, nullptr);
            EXPECT_EQ(OpenFds(), before) << "a failed open left a descriptor behind";

            fl_reactor *r = reinterpret_cast<fl_reactor *>(1);
            EXPECT_EQ(fl_reactor_open(FL_REACTOR_IO_URING, &r), -err);
            EXPECT_EQ(r, nullptr);
            EXPECT_EQ(OpenFds(), before);

            r = nullptr;
            ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
            ASSERT_NE(r, nullptr);
            EXPECT_EQ(fl_reactor_backend(r), FL_REACTOR_EPOLL);
            fl_reactor_close(r);
            EXPECT_EQ(OpenFds(), before);
        });
    }
};

TEST_F(ReactorUringUnavailableTest, SeccompEnosysIsDetectedAndBestFallsBackToEpoll) { Deny(ENOSYS); }

TEST_F(ReactorUringUnavailableTest, SeccompEpermIsDetectedAndBestFallsBackToEpoll) { Deny(EPERM); }

// Without a filter, on this machine: BEST is io_uring whenever the backend opens.
TEST_F(ReactorUringUnavailableTest, BestIsIoUringWhereItWorks) {
    fl_backend *b = nullptr;
    const fl_backend_ops *ops = nullptr;
    int rc = fl_backend_uring_open(&b, &ops);
    if (rc < 0) GTEST_SKIP() << "io_uring is not available here: " << fl_errno_name(-rc);
    ops->destroy(b);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    EXPECT_EQ(fl_reactor_backend(r), FL_REACTOR_IO_URING);
    fl_reactor_close(r);
}

}  // namespace
}  // namespace fltest
