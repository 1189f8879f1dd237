// Asynchronous pipes on Windows (pipe_win.c, the descriptor watches of reactor_iocp.c): the
// behaviours the Linux suites check for fl_fd_read/fl_fd_write on non-blocking pipes and for
// fl_reactor_watch_fd (reactor_fd_test.cc, the FdIoTest cases), on the overlapped ends of
// fl_fd_pipe_for_child, with the test binary's helper modes as children that use their end with
// plain synchronous ReadFile/WriteFile.
#include <set>
#include <string>
#include <vector>

#include "test_util_win.h"

using namespace fltest;

namespace {

class PipesWin : public LeakCheckedWinTest {};

struct Pipe {
    fl_fd fds[2] = {-1, -1};
    explicit Pipe(int child_end = -1) { EXPECT_EQ(fl_fd_pipe_for_child(fds, child_end), 0); }
    ~Pipe() {
        for (fl_fd &f : fds) Close(f);
    }
    static void Close(fl_fd &f) {
        if (f != -1) {
            EXPECT_EQ(fl_fd_close(f), 0);
        }
        f = -1;
    }
    fl_fd r() const { return fds[0]; }
    fl_fd w() const { return fds[1]; }
};

// Waits up to timeout_ms for FL_EVENT_FD reports; returns their tokens.
std::vector<uint64_t> WaitFd(fl_reactor *r, int timeout_ms, size_t want = 1) {
    std::vector<uint64_t> got;
    int64_t deadline = NowMs() + timeout_ms;
    do {
        fl_reactor_event ev[64];
        int64_t left = deadline - NowMs();
        int n = fl_reactor_wait(r, ev, 64, left > 0 ? (int)left : 0);
        EXPECT_GE(n, 0);
        for (int i = 0; i < n; i++) {
            EXPECT_EQ(ev[i].kind, FL_EVENT_FD);
            EXPECT_EQ(ev[i].result, 0);
            got.push_back(ev[i].token);
        }
    } while (got.size() < want && NowMs() < deadline);
    return got;
}

fl_process *Spawn(const std::string &mode, const std::vector<std::string> &args,
                  std::vector<fl_fd_map> map) {
    CStrings argv(HelperArgv(mode, args));
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map.data();
    o.nfds = map.size();
    fl_process *p = nullptr;
    fl_spawn_error e{};
    EXPECT_EQ(fl_spawn(&o, &p, &e), 0) << fl_step_name(e.step) << " " << fl_win_last_error();
    return p;
}

// The JVM's overlapped end must never reach a child (undefined there): refused, nothing started,
// nothing leaked (the fixture's handle count).
TEST_F(PipesWin, AnOverlappedEndIsRefusedAsAChildsHandle) {
    fl_fd fds[2] = {-1, -1};
    ASSERT_EQ(fl_fd_pipe_for_child(fds, 1), 0);  // fds[0] is ours (overlapped), fds[1] the child's
    CStrings argv(HelperArgv("exit", {"0"}));
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    fl_fd_map map[1] = {{0, fds[0]}};
    o.fds = map;
    o.nfds = 1;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    EXPECT_EQ(fl_spawn(&o, &p, &e), -EINVAL);
    EXPECT_EQ(e.step, FL_STEP_VALIDATE);
    EXPECT_EQ(p, nullptr);
    map[0] = {1, fds[1]};  // the child's end is fine
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0) << fl_step_name(e.step) << " " << fl_win_last_error();
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
    fl_process_close(p);
    EXPECT_EQ(fl_fd_close(fds[0]), 0);
    EXPECT_EQ(fl_fd_close(fds[1]), 0);
}

TEST_F(PipesWin, EmptyNonBlockingReadIsEagainThenData) {
    Pipe p;
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 1), 0);
    char buf[16];
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), -EAGAIN);
    EXPECT_EQ(fl_fd_write(p.w(), "hi", 2), 2);
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 2);
    EXPECT_EQ(std::string(buf, 2), "hi");
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), -EAGAIN);
    // Blocking again: the write end's blocking write, the read end's blocking read.
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 0), 0);
    EXPECT_EQ(fl_fd_write(p.w(), "abc", 3), 3);
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 3);
}

TEST_F(PipesWin, SynchronousPipesCannotBeNonBlocking) {
    fl_fd fds[2];
    ASSERT_EQ(fl_fd_pipe(fds), 0);
    EXPECT_EQ(fl_fd_set_nonblocking(fds[0], 1), -ENOTSUP);
    EXPECT_EQ(fl_fd_set_nonblocking(fds[0], 0), 0);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    EXPECT_EQ(fl_reactor_watch_fd(r, fds[0], FL_WATCH_READ, 1), -ENOTSUP);
    EXPECT_EQ(fl_reactor_watch_fd(r, fds[0], 3, 1), -EINVAL);
    fl_reactor_close(r);
    EXPECT_EQ(fl_fd_close(fds[0]), 0);
    // A reader gone: -EPIPE from a synchronous pipe too.
    EXPECT_EQ(fl_fd_write(fds[1], "x", 1), -EPIPE);
    EXPECT_EQ(fl_fd_close(fds[1]), 0);
    fl_fd bad[2];
    EXPECT_EQ(fl_fd_pipe_for_child(bad, 2), -EINVAL);
}

TEST_F(PipesWin, OnePortPerEndAndFilesAreAlwaysNonBlocking) {
    Pipe p;
    fl_reactor *r1 = nullptr, *r2 = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r1), 0);
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r2), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r1, p.r(), FL_WATCH_READ, 1), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r1, p.r(), 1), 0);
    EXPECT_EQ(fl_reactor_watch_fd(r2, p.r(), FL_WATCH_READ, 1), -EINVAL);
    fl_reactor_close(r2);
    fl_reactor_close(r1);
    // Also when a new reactor's port gets the closed one's handle value.
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r1), 0);
        EXPECT_EQ(fl_reactor_watch_fd(r1, p.r(), FL_WATCH_READ, 1), -EINVAL);
        fl_reactor_close(r1);
    }
    TempDir dir;
    fl_fd f = -1;
    ASSERT_EQ(fl_fd_open(dir.Join("f").c_str(), FL_OPEN_WRITE | FL_OPEN_CREATE, 0644, &f), 0);
    EXPECT_EQ(fl_fd_set_nonblocking(f, 1), 0);
    EXPECT_EQ(fl_fd_write(f, "abc", 3), 3);
    EXPECT_EQ(fl_fd_close(f), 0);
}

TEST_F(PipesWin, WatchReadReportsOnceWhenDataArrives) {
    Pipe p;
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 1), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 7), 0);
    EXPECT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 8), -EEXIST);
    EXPECT_TRUE(WaitFd(r, 100).empty());
    EXPECT_EQ(fl_fd_write(p.w(), "abc", 3), 3);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{7});
    EXPECT_TRUE(WaitFd(r, 100).empty()) << "one-shot";
    char buf[16];
    ASSERT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 3);
    EXPECT_EQ(std::string(buf, 3), "abc");
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), -EAGAIN);
    // Data there already: reported at once.
    EXPECT_EQ(fl_fd_write(p.w(), "de", 2), 2);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 9), 0);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{9});
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 8), -ENOENT);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 9), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 9), 0);
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 2);
    fl_reactor_close(r);
}

TEST_F(PipesWin, EndOfFileReadsZero) {
    Pipe p;
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 1), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 1), 0);
    EXPECT_EQ(fl_fd_write(p.w(), "z", 1), 1);
    Pipe::Close(p.fds[1]);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{1});
    char buf[4];
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 1);
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 2), 0);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{2});
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 0), 0);
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 2), 0);
    fl_reactor_close(r);
}

TEST_F(PipesWin, WriteToClosedReaderIsEpipe) {
    for (int nonblocking = 0; nonblocking < 2; nonblocking++) {
        Pipe p;
        ASSERT_EQ(fl_fd_set_nonblocking(p.w(), nonblocking), 0);
        Pipe::Close(p.fds[0]);
        EXPECT_EQ(fl_fd_write(p.w(), "x", 1), -EPIPE) << "nonblocking " << nonblocking;
    }
}

TEST_F(PipesWin, FullPipeIsEagainUntilTheReaderDrains) {
    Pipe p;
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(p.w(), 1), 0);
    std::string chunk = Pattern(65536);
    size_t written = 0;
    int64_t n = 0;
    for (int i = 0; i < 64 && (n = fl_fd_write(p.w(), chunk.data(), chunk.size())) > 0; i++) {
        written += (size_t)n;
    }
    ASSERT_EQ(n, -EAGAIN) << "after " << written << " bytes";
    printf("accepted %zu bytes before EAGAIN\n", written);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.w(), FL_WATCH_WRITE, 5), 0);
    EXPECT_TRUE(WaitFd(r, 200).empty());
    // The peer drains everything (blocking reads).
    std::string got;
    char buf[65536];
    while (got.size() < written) {
        int64_t k = fl_fd_read(p.r(), buf, sizeof buf);
        ASSERT_GT(k, 0);
        got.append(buf, (size_t)k);
    }
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{5});
    EXPECT_GT(fl_fd_write(p.w(), "more", 4), 0);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.w(), 5), 0);
    fl_reactor_close(r);
}

TEST_F(PipesWin, WatchWriteReportsAReaderGone) {
    Pipe p;
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(p.w(), 1), 0);
    std::string chunk = Pattern(65536);
    int64_t n = 0;
    for (int i = 0; i < 64 && (n = fl_fd_write(p.w(), chunk.data(), chunk.size())) > 0; i++) {
    }
    ASSERT_EQ(n, -EAGAIN);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.w(), FL_WATCH_WRITE, 6), 0);
    EXPECT_TRUE(WaitFd(r, 100).empty());
    Pipe::Close(p.fds[0]);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{6});
    EXPECT_EQ(fl_fd_write(p.w(), "x", 1), -EPIPE);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.w(), 6), 0);
    fl_reactor_close(r);
}

// A read-ahead that fl_communicate started before the end was associated with the reactor's
// port: the watch still hears of its completion.
TEST_F(PipesWin, WatchAfterCommunicateStartedAReadAhead) {
    Pipe p;
    char buf[8];
    fl_io out{p.r(), buf, sizeof buf, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &out, nullptr, -1, 0), 0);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 12), 0);
    EXPECT_TRUE(WaitFd(r, 100).empty());
    ASSERT_EQ(fl_fd_write(p.w(), "hey", 3), 3);
    EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{12});
    EXPECT_EQ(fl_fd_read(p.r(), buf, sizeof buf), 3);
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 12), 0);
    fl_reactor_close(r);
}

TEST_F(PipesWin, UnwatchThenClose) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    {
        Pipe p;
        ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 3), 0);
        EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 3), 0);
    }
    {
        // A new pipe may get the same handle values: no report of the old watch reaches it.
        Pipe p;
        ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 1), 0);
        ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 4), 0);
        EXPECT_TRUE(WaitFd(r, 100).empty());
        ASSERT_EQ(fl_fd_write(p.w(), "q", 1), 1);
        EXPECT_EQ(WaitFd(r, 5000), std::vector<uint64_t>{4});
        char c;
        EXPECT_EQ(fl_fd_read(p.r(), &c, 1), 1);
        EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 4), 0);
    }
    EXPECT_TRUE(WaitFd(r, 50).empty());
    fl_reactor_close(r);
}

TEST_F(PipesWin, ManyPipesAtOnce) {
    const int kPipes = 200;
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    std::vector<Pipe> pipes(kPipes);
    for (int i = 0; i < kPipes; i++) {
        ASSERT_EQ(fl_fd_set_nonblocking(pipes[i].r(), 1), 0);
        ASSERT_EQ(fl_reactor_watch_fd(r, pipes[i].r(), FL_WATCH_READ, 1000 + i), 0);
    }
    std::set<uint64_t> want;
    for (int i = 1; i < kPipes; i += 2) {
        ASSERT_EQ(fl_fd_write(pipes[i].w(), "x", 1), 1);
        want.insert(1000 + i);
    }
    std::vector<uint64_t> got = WaitFd(r, 10000, want.size());
    EXPECT_EQ(std::set<uint64_t>(got.begin(), got.end()), want);
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(WaitFd(r, 100).empty());
    for (int i = 0; i < kPipes; i++) {
        char c;
        EXPECT_EQ(fl_fd_read(pipes[i].r(), &c, 1), i % 2 ? 1 : -EAGAIN);
        EXPECT_EQ(fl_reactor_unwatch_fd(r, pipes[i].r(), 1000 + i), 0);
    }
    fl_reactor_close(r);
}

TEST_F(PipesWin, ChildWritesMebibytesReadThroughWatches) {
    const size_t kBytes = 4u << 20;
    Pipe p(1);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    fl_process *child = Spawn("bigout", {std::to_string(kBytes)}, {{1, p.w()}});
    ASSERT_NE(child, nullptr);
    Pipe::Close(p.fds[1]);
    ASSERT_EQ(fl_fd_set_nonblocking(p.r(), 1), 0);
    std::string got;
    std::vector<char> buf(100000);
    int watches = 0;
    int64_t deadline = NowMs() + 60000;
    for (;;) {
        int64_t n = fl_fd_read(p.r(), buf.data(), buf.size());
        if (n > 0) {
            got.append(buf.data(), (size_t)n);
            continue;
        }
        if (n == 0) break;
        ASSERT_EQ(n, -EAGAIN);
        ASSERT_LT(NowMs(), deadline);
        ASSERT_EQ(fl_reactor_watch_fd(r, p.r(), FL_WATCH_READ, 11), 0);
        watches++;
        std::vector<uint64_t> ev = WaitFd(r, 10000);
        ASSERT_EQ(ev, std::vector<uint64_t>{11});
    }
    printf("%zu bytes, %d watches\n", got.size(), watches);
    EXPECT_EQ(got.size(), kBytes);
    EXPECT_TRUE(got == Pattern(kBytes)) << "content differs";
    EXPECT_EQ(fl_reactor_unwatch_fd(r, p.r(), 11), 0);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(child, 30000, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
    fl_process_close(child);
    fl_reactor_close(r);
}

TEST_F(PipesWin, ChildReadsWhatWeWriteThroughWatches) {
    // stdin: we write (child end 0); stdout: we read (child end 1); the child is "cat".
    const size_t kBytes = 2u << 20;
    Pipe in(0), out(1);
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    fl_process *child = Spawn("cat", {}, {{0, in.r()}, {1, out.w()}});
    ASSERT_NE(child, nullptr);
    Pipe::Close(in.fds[0]);
    Pipe::Close(out.fds[1]);
    ASSERT_EQ(fl_fd_set_nonblocking(in.w(), 1), 0);
    ASSERT_EQ(fl_fd_set_nonblocking(out.r(), 1), 0);
    std::string data = Pattern(kBytes, 7), got;
    size_t pos = 0;
    std::vector<char> buf(65536);
    bool in_armed = false, out_armed = false;
    int64_t deadline = NowMs() + 60000;
    while (!(out.r() == -1)) {
        ASSERT_LT(NowMs(), deadline);
        while (in.w() != -1 && !in_armed) {
            if (pos == data.size()) {
                Pipe::Close(in.fds[1]);
                break;
            }
            int64_t n = fl_fd_write(in.w(), data.data() + pos, data.size() - pos);
            if (n == -EAGAIN) {
                ASSERT_EQ(fl_reactor_watch_fd(r, in.w(), FL_WATCH_WRITE, 1), 0);
                in_armed = true;
            } else {
                ASSERT_GT(n, 0);
                pos += (size_t)n;
            }
        }
        while (!out_armed) {
            int64_t n = fl_fd_read(out.r(), buf.data(), buf.size());
            if (n == -EAGAIN) {
                ASSERT_EQ(fl_reactor_watch_fd(r, out.r(), FL_WATCH_READ, 2), 0);
                out_armed = true;
            } else if (n == 0) {
                EXPECT_EQ(fl_reactor_unwatch_fd(r, out.r(), 2), 0);
                Pipe::Close(out.fds[0]);
                break;
            } else {
                ASSERT_GT(n, 0);
                got.append(buf.data(), (size_t)n);
            }
        }
        if (out.r() == -1) break;
        for (uint64_t t : WaitFd(r, 10000)) {
            if (t == 1) in_armed = false;
            if (t == 2) out_armed = false;
        }
    }
    EXPECT_EQ(pos, data.size());
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data) << "content differs";
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(child, 30000, &st), 1);
    EXPECT_EQ(st.code, 0);
    fl_process_close(child);
    fl_reactor_close(r);
}

// ---- fl_communicate (communicate_win.c) ----------------------------------------------------

class CommunicateWin : public LeakCheckedWinTest {};

// A child with stdin, stdout and stderr on fl_fd_pipe_for_child pipes (our ends overlapped).
struct Piped {
    fl_process *p = nullptr;
    fl_fd in = -1, out = -1, err = -1;
    Piped(const std::string &mode, const std::vector<std::string> &args) {
        fl_fd i[2], o[2], e[2];
        EXPECT_EQ(fl_fd_pipe_for_child(i, 0), 0);
        EXPECT_EQ(fl_fd_pipe_for_child(o, 1), 0);
        EXPECT_EQ(fl_fd_pipe_for_child(e, 1), 0);
        p = Spawn(mode, args, {{0, i[0]}, {1, o[1]}, {2, e[1]}});
        fl_fd_close(i[0]);
        fl_fd_close(o[1]);
        fl_fd_close(e[1]);
        in = i[1];
        out = o[0];
        err = e[0];
    }
    ~Piped() {
        for (fl_fd *f : {&in, &out, &err}) {
            if (*f != -1) fl_fd_close(*f);
        }
        if (p != nullptr) {
            fl_process_signal(p, 9);
            fl_exit_status st{};
            fl_process_wait(p, 10000, &st);
            fl_process_close(p);
        }
    }
    fl_exit_status Wait() {
        fl_exit_status st{};
        EXPECT_EQ(fl_process_wait(p, 30000, &st), 1);
        return st;
    }
};

struct Conversation {
    std::string out, err;
    size_t written = 0;
    int in_err = 0, calls = 0;
    bool exited = false, finished = false;
};

// Talks to c until all three streams are done, through output buffers of `room` bytes.
Conversation Converse(Piped *c, const std::string &input, size_t room, bool use_exit = true) {
    Conversation conv;
    std::vector<char> ob(room), eb(room);
    fl_io in{c->in, const_cast<char *>(input.data()), input.size(), 0, 0, 0};
    fl_io out{c->out, ob.data(), room, 0, 0, 0};
    fl_io err{c->err, eb.data(), room, 0, 0, 0};
    fl_fd exit_fd = use_exit ? fl_process_fd(c->p) : -1;
    int64_t deadline = NowMs() + 60000;
    for (;;) {
        int rc = fl_communicate(&in, &out, &err, exit_fd, 1000);
        conv.calls++;
        EXPECT_GE(rc, 0) << (rc < 0 ? fl_errno_name(-rc) : "");
        if (rc < 0) break;
        if (rc & FL_IO_INPUT_DONE) {
            EXPECT_TRUE(in.done);
            EXPECT_EQ(fl_fd_close(c->in), 0);
            c->in = -1;
        }
        if (rc & FL_IO_EXITED) {
            conv.exited = true;
            exit_fd = -1;
        }
        if (rc & FL_IO_FULL) {
            EXPECT_TRUE(out.pos == out.len || err.pos == err.len);
        }
        conv.out.append(ob.data(), out.pos);
        out.pos = 0;
        conv.err.append(eb.data(), err.pos);
        err.pos = 0;
        if ((in.done || in.fd < 0) && out.done && err.done) {
            conv.finished = true;
            break;
        }
        if (NowMs() > deadline) {
            ADD_FAILURE() << "conversation not finished after 60 s";
            break;
        }
    }
    conv.written = in.pos;
    conv.in_err = in.err;
    EXPECT_EQ(out.err, 0);
    EXPECT_EQ(err.err, 0);
    return conv;
}

// 3 MiB of binary data (NULs included) in, and back on both stdout and stderr: the child writes
// each chunk to stdout then stderr, so neither output may wait for the other or for the input.
TEST_F(CommunicateWin, BothWaysMebibytes) {
    const std::string input = Pattern(3u << 20, 3);
    Piped c("tee2", {});
    ASSERT_NE(c.p, nullptr);
    Conversation conv = Converse(&c, input, 1u << 20);
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.in_err, 0);
    EXPECT_EQ(conv.written, input.size());
    EXPECT_EQ(conv.out.size(), input.size());
    EXPECT_TRUE(conv.out == input) << "stdout differs";
    EXPECT_TRUE(conv.err == input) << "stderr differs";
    printf("%d calls\n", conv.calls);
    EXPECT_EQ(c.Wait().code, 0);
}

// Small buffers: FL_IO_FULL whenever one fills, and the conversation goes on after the drain.
TEST_F(CommunicateWin, FullBufferStopsAndContinues) {
    const size_t kBytes = 1u << 20;
    Piped c("bigout", {std::to_string(kBytes)});
    ASSERT_NE(c.p, nullptr);
    EXPECT_EQ(fl_fd_close(c.in), 0);
    c.in = -1;
    Conversation conv = Converse(&c, "", 10000);
    EXPECT_TRUE(conv.finished);
    EXPECT_TRUE(conv.out == Pattern(kBytes)) << conv.out.size() << " bytes";
    EXPECT_GE(conv.calls, (int)(kBytes / 10000));
    // A full output at entry: reported at once, nothing read.
    char b[4];
    fl_fd p[2];
    ASSERT_EQ(fl_fd_pipe_for_child(p, -1), 0);
    fl_io full{p[0], b, sizeof b, sizeof b, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &full, nullptr, -1, -1), FL_IO_FULL);
    fl_fd_close(p[0]);
    fl_fd_close(p[1]);
    EXPECT_EQ(c.Wait().code, 0);
}

// The child exits without reading its stdin: the input ends with EPIPE, its output arrives.
TEST_F(CommunicateWin, ChildThatNeverReadsStdin) {
    const std::string input(4u << 20, 'x');
    Piped c("noread", {"1000"});
    ASSERT_NE(c.p, nullptr);
    Conversation conv = Converse(&c, input, 4096);
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.in_err, EPIPE) << conv.in_err;
    EXPECT_LT(conv.written, input.size());
    EXPECT_TRUE(conv.out == Pattern(1000));
    EXPECT_EQ(c.Wait().code, 0);
}

TEST_F(CommunicateWin, TimeoutZeroElapsingAndExit) {
    Piped c("sleep", {"100000"});
    ASSERT_NE(c.p, nullptr);
    EXPECT_EQ(fl_fd_close(c.in), 0);
    c.in = -1;
    char ob[64], eb[64];
    fl_io out{c.out, ob, sizeof ob, 0, 0, 0};
    fl_io err{c.err, eb, sizeof eb, 0, 0, 0};
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 0), 0);
    EXPECT_LT(NowMs() - t0, 50);
    t0 = NowMs();
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, fl_process_fd(c.p), 150), 0);
    EXPECT_GE(NowMs() - t0, 140);
    EXPECT_FALSE(out.done);
    ASSERT_EQ(fl_process_signal(c.p, 9), 0);
    int rc = fl_communicate(nullptr, &out, &err, fl_process_fd(c.p), 10000);
    EXPECT_TRUE(rc & (FL_IO_EXITED | FL_IO_OUTPUTS_DONE)) << rc;
    int64_t deadline = NowMs() + 10000;
    while (!(out.done && err.done) && NowMs() < deadline) {
        rc = fl_communicate(nullptr, &out, &err, -1, 1000);
        EXPECT_GE(rc, 0);
    }
    EXPECT_TRUE(out.done && err.done);
    EXPECT_EQ(out.pos, 0u);
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 10000), FL_IO_OUTPUTS_DONE);
    EXPECT_EQ(c.Wait().kind, FL_SIGNALED);
    // The exit handle alone.
    EXPECT_EQ(fl_communicate(nullptr, nullptr, nullptr, fl_process_fd(c.p), 0), FL_IO_EXITED);
}

TEST_F(CommunicateWin, InvalidArgumentsAndSynchronousPipes) {
    fl_fd p[2];
    ASSERT_EQ(fl_fd_pipe(p), 0);
    char buf[8];
    fl_io out{p[0], buf, sizeof buf, 9, 0, 0};  // pos > len
    EXPECT_EQ(fl_communicate(nullptr, &out, nullptr, -1, 0), -EINVAL);
    fl_io nobuf{p[0], nullptr, 8, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &nobuf, nullptr, -1, 0), -EINVAL);
    nobuf.done = 1;
    EXPECT_EQ(fl_communicate(nullptr, &nobuf, nullptr, -1, 0), FL_IO_OUTPUTS_DONE);
    // A synchronous (anonymous) pipe cannot be waited on: -ENOTSUP, nothing read.
    fl_io sync{p[0], buf, sizeof buf, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &sync, nullptr, -1, 0), -ENOTSUP);
    // Empty input: done at once.
    fl_io in{p[1], buf, 0, 0, 0, 0};
    EXPECT_EQ(fl_communicate(&in, nullptr, nullptr, -1, 0), FL_IO_INPUT_DONE);
    EXPECT_EQ(fl_fd_close(p[0]), 0);
    EXPECT_EQ(fl_fd_close(p[1]), 0);
}

}  // namespace
