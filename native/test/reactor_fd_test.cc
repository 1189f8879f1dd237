// Descriptor watches of the reactor (fl_reactor_watch_fd / fl_reactor_unwatch_fd), on real pipes,
// against both backends: Epoll, and IoUring where fl_reactor_open allows it (skipped, saying why,
// where it does not, and under valgrind, which blocks every other thread while one is in
// io_uring_enter; see ci/sanitize.sh). Each case also checks, through the fixture, that no
// descriptor or child outlived it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace fltest {
namespace {

enum class Backend { kEpoll, kIoUring };

std::string ErrName(int err) {
    const char *n = fl_errno_name(err);
    return n != nullptr ? n : std::to_string(err);
}

class ReactorFdTest : public LeakCheckedTest, public ::testing::WithParamInterface<Backend> {
  protected:
    void SetUp() override {
        LeakCheckedTest::SetUp();
        backend_ = GetParam() == Backend::kEpoll ? FL_REACTOR_EPOLL : FL_REACTOR_IO_URING;
        if (backend_ == FL_REACTOR_IO_URING && UnderValgrind()) {
            GTEST_SKIP() << "io_uring cases do not run under valgrind";
        }
        int rc = fl_reactor_open(backend_, &r_);
        if (rc < 0 && backend_ == FL_REACTOR_IO_URING) {
            GTEST_SKIP() << "no io_uring reactor here: " << ErrName(-rc);
        }
        ASSERT_EQ(rc, 0) << ErrName(-rc);
    }
    void TearDown() override {
        fl_reactor_close(r_);
        for (int fd : fds_) close(fd);
        LeakCheckedTest::TearDown();
    }

    // A pipe the fixture closes (unless the test closes an end first, with CloseFd).
    void Pipe(int p[2]) {
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0) << strerror(errno);
        fds_.push_back(p[0]);
        fds_.push_back(p[1]);
    }
    void CloseFd(int fd) {
        fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
        close(fd);
    }

    // One wait (again on -EINTR, which io_uring task_work can cause; see reactor_test.cc).
    std::vector<fl_reactor_event> WaitOnce(int timeout_ms, int max = 16) {
        std::vector<fl_reactor_event> ev((size_t)max);
        int n;
        do {
            n = fl_reactor_wait(r_, ev.data(), max, timeout_ms);
        } while (n == -EINTR);
        EXPECT_GE(n, 0) << ErrName(-n);
        ev.resize(n > 0 ? (size_t)n : 0);
        return ev;
    }

    // Waits until `count` events have arrived (10 s at most), max_per_wait at a time.
    std::vector<fl_reactor_event> Collect(size_t count, int max_per_wait = 16) {
        std::vector<fl_reactor_event> got;
        int64_t deadline = NowMs() + 10000;
        while (got.size() < count && NowMs() < deadline) {
            auto ev = WaitOnce((int)std::max<int64_t>(1, deadline - NowMs()), max_per_wait);
            EXPECT_LE(ev.size(), (size_t)max_per_wait);
            got.insert(got.end(), ev.begin(), ev.end());
        }
        EXPECT_EQ(got.size(), count) << "events missing";
        return got;
    }

    void ExpectFdEvent(const fl_reactor_event &ev, uint64_t token) {
        EXPECT_EQ(ev.kind, FL_EVENT_FD);
        EXPECT_EQ(ev.token, token);
        EXPECT_EQ(ev.result, 0);
        EXPECT_EQ(ev.status.kind, 0);
    }

    int backend_ = 0;
    fl_reactor *r_ = nullptr;
    std::vector<int> fds_;
};

// Fills a pipe through its non-blocking write end until it takes no more.
void Fill(int wfd) {
    ASSERT_EQ(fl_fd_set_nonblocking(wfd, 1), 0);
    static const std::string chunk(65536, 'f');
    int64_t n;
    while ((n = fl_fd_write(wfd, chunk.data(), chunk.size())) > 0) {
    }
    ASSERT_EQ(n, -EAGAIN);
}

void Drain(int rfd) {
    ASSERT_EQ(fl_fd_set_nonblocking(rfd, 1), 0);
    char buf[65536];
    int64_t n;
    while ((n = fl_fd_read(rfd, buf, sizeof buf)) > 0) {
    }
    ASSERT_EQ(n, -EAGAIN);
}

TEST_P(ReactorFdTest, ReadReadiness) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 5), 0);
    EXPECT_TRUE(WaitOnce(0).empty());
    EXPECT_TRUE(WaitOnce(30).empty());
    ASSERT_EQ(write(p[1], "x", 1), 1);
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 5);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 5), 0);
}

// A full pipe is watched for room; draining it makes the report come.
TEST_P(ReactorFdTest, WriteReadiness) {
    int p[2];
    Pipe(p);
    ASSERT_NO_FATAL_FAILURE(Fill(p[1]));
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[1], FL_WATCH_WRITE, 6), 0);
    EXPECT_TRUE(WaitOnce(50).empty()) << "a full pipe was reported writable";
    ASSERT_NO_FATAL_FAILURE(Drain(p[0]));
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 6);
    EXPECT_GT(fl_fd_write(p[1], "y", 1), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[1], 6), 0);
}

// A pipe that stays readable is reported once per watch, never again without one.
TEST_P(ReactorFdTest, OneShot) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 7), 0);
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 7);
    EXPECT_TRUE(WaitOnce(50).empty()) << "reported twice";
    // Watched again (epoll: a member already, so ADD then MOD), with another token.
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 8), 0);
    ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 8);
    EXPECT_TRUE(WaitOnce(50).empty()) << "reported twice";
    // The other direction on the same descriptor after the report.
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[1], FL_WATCH_WRITE, 9), 0);
    ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 9);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 8), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[1], 9), 0);
}

// Probes without reading or writing (either would make an armed poll fire, which also ends it).
short Revents(int fd, short events) {
    struct pollfd pfd = {fd, events, 0};
    return poll(&pfd, 1, 0) == 1 ? pfd.revents : 0;
}

// Unwatching an armed descriptor and closing it: no report, and the kernel no longer holds the
// pipe end open (an io_uring poll keeps a reference to its file until it is removed), so the
// other end sees it gone: the writer POLLERR (then EPIPE), the reader POLLHUP (then EOF).
TEST_P(ReactorFdTest, UnwatchArmedThenCloseReleasesThePipe) {
    int p[2], q[2];
    Pipe(p);
    Pipe(q);
    ASSERT_NO_FATAL_FAILURE(Fill(q[1]));
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 10), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r_, q[1], FL_WATCH_WRITE, 11), 0);
    EXPECT_TRUE(WaitOnce(0).empty());  // the polls are in the kernel now (io_uring submits here)
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 10), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, q[1], 11), 0);
    CloseFd(p[0]);
    CloseFd(q[1]);
    bool reader_gone = false, writer_gone = false;
    int64_t deadline = NowMs() + 5000;
    while (!(reader_gone && writer_gone) && NowMs() < deadline) {
        EXPECT_TRUE(WaitOnce(10).empty()) << "an unwatched descriptor was reported";
        reader_gone = (Revents(p[1], POLLOUT) & POLLERR) != 0;
        writer_gone = (Revents(q[0], POLLIN) & POLLHUP) != 0;
    }
    EXPECT_TRUE(reader_gone) << "the closed read end is still referenced";
    EXPECT_TRUE(writer_gone) << "the closed write end is still referenced";
    EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
}

// Hang-up on a read watch (the writer closed) and error on a write watch (the reader closed) are
// reported; the next read or write tells which.
TEST_P(ReactorFdTest, HangupAndReaderGoneAreReported) {
    int p[2], q[2];
    Pipe(p);
    Pipe(q);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 11), 0);
    ASSERT_NO_FATAL_FAILURE(Fill(q[1]));
    ASSERT_EQ(fl_reactor_watch_fd(r_, q[1], FL_WATCH_WRITE, 12), 0);
    EXPECT_TRUE(WaitOnce(30).empty());
    CloseFd(p[1]);
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 11);
    char c;
    EXPECT_EQ(fl_fd_read(p[0], &c, 1), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 11), 0);
    CloseFd(q[0]);
    ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 12);
    EXPECT_EQ(fl_fd_write(q[1], "x", 1), -EPIPE);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, q[1], 12), 0);
}

// Exits and descriptor reports come out of the same wait, each with its kind.
TEST_P(ReactorFdTest, MixedExitsAndDescriptors) {
    int p[2];
    Pipe(p);
    fl_process *child = SpawnQuiet(SelfExe(), HelperArgv("exit", {"7"}));
    ASSERT_NE(child, nullptr);
    ASSERT_EQ(fl_reactor_add(r_, child, 100), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 200), 0);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    auto ev = Collect(2, 1);
    std::map<uint64_t, fl_reactor_event> by;
    for (const auto &e : ev) by[e.token] = e;
    ASSERT_EQ(by.size(), 2u);
    EXPECT_EQ(by[100].kind, FL_EVENT_EXIT);
    EXPECT_EQ(by[100].result, 1);
    EXPECT_EQ(by[100].status.kind, FL_EXITED);
    EXPECT_EQ(by[100].status.code, 7);
    ExpectFdEvent(by[200], 200);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 200), 0);
    fl_process_close(child);
}

// Watches and unwatches from other threads while one thread sleeps in an endless wait.
TEST_P(ReactorFdTest, WatchFromOtherThreadsWhileOneWaits) {
    int p[2], q[2], s[2];
    Pipe(p);
    Pipe(q);
    Pipe(s);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    std::vector<uint64_t> seen;
    std::thread waiter([&] {
        while (std::find(seen.begin(), seen.end(), 12u) == seen.end()) {
            fl_reactor_event ev[4];
            int n = fl_reactor_wait(r_, ev, 4, -1);
            if (n == -EINTR) continue;
            ASSERT_GE(n, 0) << ErrName(-n);
            for (int i = 0; i < n; i++) {
                EXPECT_EQ(ev[i].kind, FL_EVENT_FD);
                seen.push_back(ev[i].token);
            }
        }
    });
    usleep(50 * 1000);
    EXPECT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 11), 0);  // ready: reported
    usleep(50 * 1000);
    EXPECT_EQ(fl_reactor_watch_fd(r_, s[0], FL_WATCH_READ, 13), 0);  // not ready
    usleep(20 * 1000);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, s[0], 13), 0);
    ASSERT_EQ(write(s[1], "x", 1), 1);  // too late: unwatched
    usleep(50 * 1000);
    std::thread([&] { EXPECT_EQ(fl_reactor_watch_fd(r_, q[1], FL_WATCH_WRITE, 12), 0); }).join();
    waiter.join();
    EXPECT_EQ(seen, (std::vector<uint64_t>{11, 12}));
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 11), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, q[1], 12), 0);
}

TEST_P(ReactorFdTest, ArgumentsAndTokens) {
    int p[2];
    Pipe(p);
    EXPECT_EQ(fl_reactor_watch_fd(r_, p[0], 0, 1), -EINVAL);
    EXPECT_EQ(fl_reactor_watch_fd(r_, p[0], 3, 1), -EINVAL);
    EXPECT_EQ(fl_reactor_watch_fd(r_, -1, FL_WATCH_READ, 1), -EINVAL);
    EXPECT_EQ(fl_reactor_watch_fd(nullptr, p[0], FL_WATCH_READ, 1), -EINVAL);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, -1, 1), -EINVAL);
    // Not watched at all: nothing to do.
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 1), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, 1000000, 1), 0);

    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 1), 0);
    EXPECT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 1), -EEXIST);
    EXPECT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_WRITE, 2), -EEXIST);
    // Another token does not name this watch: it stays, and reports.
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 2), -ENOENT);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 1);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 1), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 1), 0);

    // Tokens are the caller's, all 64 bits of them, and need not be unique.
    int q[2];
    Pipe(q);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, UINT64_MAX), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r_, q[1], FL_WATCH_WRITE, UINT64_MAX), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[1], FL_WATCH_WRITE, UINT64_C(1) << 63), 0);
    ev = Collect(3);
    std::multiset<uint64_t> tokens;
    for (const auto &e : ev) tokens.insert(e.token);
    EXPECT_EQ(tokens, (std::multiset<uint64_t>{UINT64_C(1) << 63, UINT64_MAX, UINT64_MAX}));
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], UINT64_MAX), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, q[1], UINT64_MAX), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[1], UINT64_C(1) << 63), 0);
}

// A regular file is always ready: epoll refuses it (EPERM), io_uring reports it at once.
TEST_P(ReactorFdTest, RegularFile) {
    TempDir dir;
    int fd = open(dir.WriteFile("f", "data", 0600).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    fds_.push_back(fd);
    int rc = fl_reactor_watch_fd(r_, fd, FL_WATCH_READ, 3);
    if (backend_ == FL_REACTOR_EPOLL) {
        EXPECT_EQ(rc, -EPERM);
        EXPECT_EQ(fl_reactor_watch_fd(r_, fd, FL_WATCH_READ, 3), -EPERM) << "not EEXIST";
    } else {
        ASSERT_EQ(rc, 0);
        auto ev = Collect(1);
        if (ev.size() == 1) ExpectFdEvent(ev[0], 3);
    }
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, fd, 3), 0);
}

// A report that is ready but not yet collected when the watch goes is never returned, also when
// the same descriptor is watched again at once (the generation tells the reports apart).
TEST_P(ReactorFdTest, ReportOfAnUnwatchedWatchIsDropped) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 21), 0);
    usleep(10 * 1000);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 21), 0);
    EXPECT_TRUE(WaitOnce(50).empty());
    // Same again, with the wait thread having submitted the poll before the unwatch.
    EXPECT_TRUE(WaitOnce(0).empty());
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 22), 0);
    usleep(10 * 1000);
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 22), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 23), 0);
    auto ev = Collect(1);
    if (ev.size() == 1) ExpectFdEvent(ev[0], 23);
    EXPECT_TRUE(WaitOnce(50).empty());
    EXPECT_EQ(fl_reactor_unwatch_fd(r_, p[0], 23), 0);
}

// Many watches at once, collected a few per wait: each reported exactly once.
TEST_P(ReactorFdTest, ManyWatchesInSmallBatches) {
    const int n = 150;
    std::vector<std::array<int, 2>> pipes((size_t)n);
    for (auto &p : pipes) ASSERT_NO_FATAL_FAILURE(Pipe(p.data()));
    for (int i = 0; i < n; i++) {
        int fd = pipes[(size_t)i][0];
        ASSERT_EQ(fl_reactor_watch_fd(r_, fd, FL_WATCH_READ, 1000 + (uint64_t)i), 0);
    }
    for (auto &p : pipes) ASSERT_EQ(write(p[1], "x", 1), 1);
    auto ev = Collect((size_t)n, 7);
    std::map<uint64_t, int> count;
    for (const auto &e : ev) {
        EXPECT_EQ(e.kind, FL_EVENT_FD);
        count[e.token]++;
    }
    EXPECT_EQ(count.size(), (size_t)n);
    for (const auto &kv : count) EXPECT_EQ(kv.second, 1) << kv.first;
    EXPECT_TRUE(WaitOnce(20).empty());
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(fl_reactor_unwatch_fd(r_, pipes[(size_t)i][0], 1000 + (uint64_t)i), 0);
    }
}

// Closing the reactor with a watch still armed: the backend lets go of the descriptor (io_uring:
// closing the ring cancels the poll and drops its file reference), so closing the read end
// afterwards shows the writer EPIPE.
TEST_P(ReactorFdTest, CloseWithAnArmedWatch) {
    int p[2];
    Pipe(p);
    ASSERT_EQ(fl_reactor_watch_fd(r_, p[0], FL_WATCH_READ, 30), 0);
    EXPECT_TRUE(WaitOnce(0).empty());
    fl_reactor_close(r_);
    r_ = nullptr;
    CloseFd(p[0]);
    bool reader_gone = false;
    int64_t deadline = NowMs() + 5000;
    while (!reader_gone && NowMs() < deadline) {
        reader_gone = (Revents(p[1], POLLOUT) & POLLERR) != 0;
        if (!reader_gone) usleep(1000);
    }
    EXPECT_TRUE(reader_gone) << "the closed read end is still referenced";
    EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
}

INSTANTIATE_TEST_SUITE_P(Backends, ReactorFdTest,
                         ::testing::Values(Backend::kEpoll, Backend::kIoUring),
                         [](const ::testing::TestParamInfo<Backend> &info) -> std::string {
                             return info.param == Backend::kEpoll ? "Epoll" : "IoUring";
                         });

}  // namespace
}  // namespace fltest
