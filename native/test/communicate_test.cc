// fl_communicate and the descriptor helpers under it (fl_fd_read, fl_fd_write,
// fl_fd_set_nonblocking), with real children on real pipes: the "pump" helper (this binary), cat,
// /bin/sh. Each conversation runs to the end and the fixture checks that no descriptor, child or
// grandchild outlived it.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"

namespace fltest {
namespace {

// A child with its stdin, stdout and stderr on pipes; the parent's ends are ours to close.
struct Piped {
    fl_process *p = nullptr;
    int in = -1, out = -1, err = -1;

    Piped() = default;
    Piped(const Piped &) = delete;
    Piped &operator=(const Piped &) = delete;
    ~Piped() {
        CloseAll();
        if (p != nullptr) {
            fl_process_signal(p, SIGKILL);
            fl_process_wait(p, 10000, nullptr);
            fl_process_close(p);
        }
    }
    void CloseAll() {
        for (int *fd : {&in, &out, &err}) {
            if (*fd >= 0) close(*fd);
            *fd = -1;
        }
    }
    // Waits for the exit and releases the handle.
    fl_exit_status Wait() {
        fl_exit_status st{};
        EXPECT_EQ(fl_process_wait(p, 15000, &st), 1);
        fl_process_close(p);
        p = nullptr;
        return st;
    }
};

// Spawns program with fds 0, 1 and 2 on fresh pipes. Fails the test if it cannot.
void SpawnPiped(Piped *c, const std::string &program, const std::vector<std::string> &argv,
                unsigned flags = 0) {
    int in[2], out[2], err[2];
    ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
    fl_fd_map map[] = {{0, in[0]}, {1, out[1]}, {2, err[1]}};
    CStrings args(argv);
    fl_spawn_options o;
    memset(&o, 0, sizeof o);
    o.program = program.c_str();
    o.argv = args.get();
    o.fds = map;
    o.nfds = 3;
    o.flags = flags;
    fl_spawn_error e{};
    int rc = fl_spawn(&o, &c->p, &e);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    c->in = in[1];
    c->out = out[0];
    c->err = err[0];
    ASSERT_EQ(rc, 0) << program << ": " << fl_step_name(e.step) << " " << e.err;
}

struct Conversation {
    std::string out, err;   // what arrived (unless a sink took it)
    size_t written = 0;     // input bytes written
    int in_err = 0, out_err = 0, err_err = 0;
    bool exited = false;    // FL_IO_EXITED was reported
    bool finished = false;  // every stream done before the deadline
    int calls = 0;
};

// Runs fl_communicate until every stream is done: feeds `input`, collects the outputs through
// buffers of `room` bytes (drained after every call, so FL_IO_FULL is routine), closes the input
// when it is done. sink, when given, takes the output bytes instead of the strings.
Conversation Converse(Piped *c, const std::string &input, size_t room, int exit_fd = -1,
                      const std::function<void(int, const char *, size_t)> &sink = nullptr,
                      int limit_ms = 60000) {
    Conversation conv;
    std::vector<char> ob(room), eb(room);
    fl_io in{c->in, const_cast<char *>(input.data()), input.size(), 0, 0, 0};
    fl_io out{c->out, ob.data(), room, 0, 0, 0};
    fl_io err{c->err, eb.data(), room, 0, 0, 0};
    int64_t deadline = NowMs() + limit_ms;
    auto drain = [&](fl_io *io, int stream, std::string *to) {
        if (io->pos == 0) return;
        if (sink) sink(stream, static_cast<const char *>(io->buf), io->pos);
        else to->append(static_cast<const char *>(io->buf), io->pos);
        io->pos = 0;
    };
    for (;;) {
        int rc = fl_communicate(&in, &out, &err, exit_fd, 1000);
        conv.calls++;
        if (rc == -EINTR) continue;
        EXPECT_GE(rc, 0) << fl_errno_name(-rc);
        if (rc < 0) break;
        if (rc & FL_IO_INPUT_DONE) {
            EXPECT_TRUE(in.done);
            close(c->in);
            c->in = -1;
        }
        if (rc & FL_IO_EXITED) {
            conv.exited = true;
            exit_fd = -1;
        }
        if (rc & FL_IO_FULL) {
            EXPECT_TRUE(out.pos == out.len || err.pos == err.len);
        }
        drain(&out, 1, &conv.out);
        drain(&err, 2, &conv.err);
        if (in.done && out.done && err.done) {
            conv.finished = true;
            break;
        }
        if (NowMs() > deadline) {
            ADD_FAILURE() << "conversation not finished after " << limit_ms << " ms";
            break;
        }
    }
    conv.written = in.pos;
    conv.in_err = in.err;
    conv.out_err = out.err;
    conv.err_err = err.err;
    return conv;
}

std::string RandomBytes(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = (char)(gen() & 0xff);
    return s;
}

std::string ErrName(int err) {
    const char *n = fl_errno_name(err);
    return n != nullptr ? n : std::to_string(err);
}

class CommunicateTest : public LeakCheckedTest {};

// 64 MiB out (32 on stdout, 32 on stderr, in alternating chunks) while 8 MiB go in, through
// 1 MiB buffers: neither side may wait for the other. Every byte is checked where it lands.
TEST_F(CommunicateTest, PumpsBothOutputsWhileFeedingStdin) {
    const uint64_t kib = UnderValgrind() ? 4096 : 32768;
    const std::string input = RandomBytes(8u << 20, 1);
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, SelfExe(), HelperArgv("pump", {std::to_string(kib)})));
    uint64_t seen[3] = {0, 0, 0};
    uint64_t bad[3] = {0, 0, 0};
    std::string trailer;
    Conversation conv = Converse(&c, input, 1u << 20, -1, [&](int stream, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++, seen[stream]++) {
            if (stream == 2 && seen[2] >= kib * 1024) {
                trailer.push_back(p[i]);
            } else if ((unsigned char)p[i] != PumpByte(stream, seen[stream])) {
                bad[stream]++;
            }
        }
    });
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.written, input.size());
    EXPECT_EQ(conv.in_err, 0) << ErrName(conv.in_err);
    EXPECT_EQ(conv.out_err, 0);
    EXPECT_EQ(conv.err_err, 0);
    EXPECT_EQ(seen[1], kib * 1024);
    EXPECT_EQ(seen[2] - trailer.size(), kib * 1024);
    EXPECT_EQ(bad[1], 0u);
    EXPECT_EQ(bad[2], 0u);
    char want[96];
    snprintf(want, sizeof want, "\nin=%zu fnv=%llx\n", input.size(),
             (unsigned long long)Fnv(FnvStart(), input.data(), input.size()));
    EXPECT_EQ(trailer, want);
    fl_exit_status st = c.Wait();
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
}

// A child that never reads its stdin and exits: the input ends with EPIPE (and no SIGPIPE kills
// this process), not with a hang.
TEST_F(CommunicateTest, ChildThatNeverReadsStdin) {
    const std::string input(1u << 20, 'x');
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, SelfExe(), HelperArgv("sleep", {"200", "4"})));
    Conversation conv = Converse(&c, input, 4096);
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.in_err, EPIPE) << ErrName(conv.in_err);
    EXPECT_LT(conv.written, input.size());
    EXPECT_GT(conv.written, 0u) << "the pipe's buffer takes some before the child exits";
    EXPECT_EQ(conv.out, "");
    fl_exit_status st = c.Wait();
    EXPECT_EQ(st.code, 4);
}

// The child closes its stdin at once and goes on writing: input EPIPE, outputs complete.
TEST_F(CommunicateTest, ChildClosesStdinEarly) {
    const std::string input(256u << 10, 'y');
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(
        &c, "/bin/sh", {"sh", "-c", "exec 0<&-; sleep 0.1; echo out; echo err >&2; exit 5"}));
    Conversation conv = Converse(&c, input, 4096);
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.in_err, EPIPE) << ErrName(conv.in_err);
    EXPECT_EQ(conv.out, "out\n");
    EXPECT_EQ(conv.err, "err\n");
    EXPECT_EQ(c.Wait().code, 5);
}

// Nothing to write: the input is done on the first call, and closing it ends cat.
TEST_F(CommunicateTest, EmptyInputIsDoneAtOnce) {
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, "/bin/cat", {"cat"}));
    char ob[16], eb[16];
    fl_io in{c.in, nullptr, 0, 0, 0, 0};
    fl_io out{c.out, ob, sizeof ob, 0, 0, 0};
    fl_io err{c.err, eb, sizeof eb, 0, 0, 0};
    EXPECT_EQ(fl_communicate(&in, &out, &err, -1, 5000), FL_IO_INPUT_DONE);
    EXPECT_EQ(in.done, 1);
    EXPECT_EQ(in.err, 0);
    close(c.in);
    c.in = -1;
    EXPECT_EQ(fl_communicate(&in, &out, &err, -1, 5000), FL_IO_OUTPUTS_DONE);
    EXPECT_TRUE(out.done && err.done);
    EXPECT_EQ(out.pos, 0u);
    // Nothing live and no exit descriptor: done at once, every time.
    EXPECT_EQ(fl_communicate(&in, &out, &err, -1, -1), FL_IO_OUTPUTS_DONE);
    EXPECT_EQ(fl_communicate(nullptr, nullptr, nullptr, -1, -1), FL_IO_OUTPUTS_DONE);
    EXPECT_EQ(c.Wait().code, 0);
}

// 3 MiB of random bytes, NULs included, through cat and back unchanged.
TEST_F(CommunicateTest, BinaryRoundTripThroughCat) {
    const std::string input = RandomBytes(3u << 20, 2);
    ASSERT_NE(input.find('\0'), std::string::npos);
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, "/bin/cat", {"cat"}));
    Conversation conv = Converse(&c, input, 65536);
    EXPECT_TRUE(conv.finished);
    EXPECT_EQ(conv.written, input.size());
    EXPECT_EQ(conv.in_err, 0);
    EXPECT_TRUE(conv.out == input) << conv.out.size() << " bytes back of " << input.size();
    EXPECT_EQ(conv.err, "");
    EXPECT_EQ(c.Wait().code, 0);
}

// A 7-byte buffer: FL_IO_FULL each time it fills; a full buffer at entry is reported at once,
// without reading; draining it lets the conversation go on, and nothing is lost.
TEST_F(CommunicateTest, FullBufferStopsAndContinues) {
    std::string input;
    for (int i = 0; i < 500; i++) input += std::to_string(i) + ",";
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, "/bin/cat", {"cat"}));
    char ob[7], eb[7];
    fl_io in{c.in, &input[0], input.size(), 0, 0, 0};
    fl_io out{c.out, ob, sizeof ob, 0, 0, 0};
    fl_io err{c.err, eb, sizeof eb, 0, 0, 0};
    std::string got;
    int fulls = 0;
    int64_t deadline = NowMs() + 20000;
    while (!(out.done && err.done) && NowMs() < deadline) {
        int rc = fl_communicate(&in, &out, &err, -1, 5000);
        ASSERT_GE(rc, 0) << ErrName(-rc);
        if (rc & FL_IO_INPUT_DONE) {
            close(c.in);
            c.in = -1;
        }
        if (rc & FL_IO_FULL) {
            ASSERT_EQ(out.pos, sizeof ob);
            fulls++;
            if (fulls == 3) {
                // Not drained: the same answer at once, and nothing moves.
                size_t in_pos = in.pos;
                EXPECT_EQ(fl_communicate(&in, &out, &err, -1, 5000), FL_IO_FULL);
                EXPECT_EQ(in.pos, in_pos);
            }
            got.append(ob, out.pos);
            out.pos = 0;
        }
    }
    got.append(ob, out.pos);
    EXPECT_TRUE(out.done && err.done);
    EXPECT_EQ(got, input);
    EXPECT_GE(fulls, (int)(input.size() / sizeof ob));
    EXPECT_EQ(c.Wait().code, 0);
}

// The child exits but a grandchild it left in the background keeps stdout and stderr open: the
// exit descriptor says so (FL_IO_EXITED) while the outputs stay alive, which only the caller can
// decide about. Here it kills the grandchild through the process group, and the outputs end.
TEST_F(CommunicateTest, ExitReportedWhileAGrandchildHoldsTheOutputs) {
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, "/bin/sh",
                                       {"sh", "-c", "sleep 100 & echo started; exit 3"},
                                       FL_SPAWN_NEW_PROCESS_GROUP));
    int exit_fd = fl_process_fd(c.p);
    if (exit_fd < 0) GTEST_SKIP() << "no pidfd here (PID-only spawning)";
    pid_t pgid = (pid_t)fl_process_pid(c.p);
    close(c.in);
    c.in = -1;
    char ob[64], eb[64];
    fl_io out{c.out, ob, sizeof ob, 0, 0, 0};
    fl_io err{c.err, eb, sizeof eb, 0, 0, 0};
    int seen = 0;
    int64_t deadline = NowMs() + 10000;
    while (!(seen & FL_IO_EXITED) && NowMs() < deadline) {
        int rc = fl_communicate(nullptr, &out, &err, exit_fd, 10000);
        ASSERT_GE(rc, 0) << ErrName(-rc);
        seen |= rc;
    }
    ASSERT_TRUE(seen & FL_IO_EXITED);
    EXPECT_FALSE(out.done || err.done) << "the grandchild holds them open";
    EXPECT_EQ(std::string(ob, out.pos), "started\n");
    EXPECT_EQ(c.Wait().code, 3);
    // Without the exit descriptor: nothing happens until the timeout.
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 100), 0);
    EXPECT_GE(NowMs() - t0, 95);
    ASSERT_EQ(kill(-pgid, SIGKILL), 0) << strerror(errno);
    int rc = fl_communicate(nullptr, &out, &err, -1, 10000);
    EXPECT_EQ(rc, FL_IO_OUTPUTS_DONE);
    // This process is a child subreaper (main.cc): the orphaned sleep is ours to reap.
    while (waitpid(-pgid, nullptr, 0) > 0 || errno == EINTR) {
    }
}

// A child killed while it writes (and while we still have input for it): the outputs end, the
// input ends with EPIPE, and what arrived is intact.
TEST_F(CommunicateTest, ChildKilledMidWrite) {
    const std::string input(4u << 20, 'z');
    Piped c;
    ASSERT_NO_FATAL_FAILURE(SpawnPiped(&c, SelfExe(), HelperArgv("pump", {"10000000"})));
    uint64_t seen = 0, bad = 0;
    bool killed = false;
    Conversation conv = Converse(&c, input, 65536, -1, [&](int stream, const char *p, size_t n) {
        if (stream != 1) return;
        for (size_t i = 0; i < n; i++, seen++) bad += (unsigned char)p[i] != PumpByte(1, seen);
        if (!killed && seen >= (1u << 20)) {
            killed = true;
            EXPECT_EQ(fl_process_signal(c.p, SIGKILL), 0);
        }
    });
    EXPECT_TRUE(conv.finished);
    EXPECT_TRUE(killed);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(conv.in_err, EPIPE) << ErrName(conv.in_err);
    EXPECT_EQ(conv.out_err, 0);
    fl_exit_status st = c.Wait();
    EXPECT_EQ(st.kind, FL_SIGNALED);
    EXPECT_EQ(st.code, SIGKILL);
}

// timeout 0 is one pass; a positive timeout elapses with 0; the structs keep what happened.
TEST_F(CommunicateTest, TimeoutZeroAndElapsing) {
    Piped c;
    ASSERT_NO_FATAL_FAILURE(
        SpawnPiped(&c, "/bin/sh", {"sh", "-c", "echo early; exec sleep 100"}));
    close(c.in);
    c.in = -1;
    char ob[64], eb[64];
    fl_io out{c.out, ob, sizeof ob, 0, 0, 0};
    fl_io err{c.err, eb, sizeof eb, 0, 0, 0};
    int64_t deadline = NowMs() + 10000;
    while (out.pos < 6 && NowMs() < deadline) {
        EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 0), 0);
        usleep(1000);
    }
    EXPECT_EQ(std::string(ob, out.pos), "early\n");
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 0), 0);
    EXPECT_LT(NowMs() - t0, 50);
    t0 = NowMs();
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 150), 0);
    EXPECT_GE(NowMs() - t0, 145);
    EXPECT_FALSE(out.done);
    fl_process_signal(c.p, SIGKILL);
    EXPECT_EQ(fl_communicate(nullptr, &out, &err, -1, 10000), FL_IO_OUTPUTS_DONE);
    EXPECT_EQ(c.Wait().code, SIGKILL);
}

// The exit descriptor alone: a wait for the exit with a timeout.
TEST_F(CommunicateTest, ExitDescriptorAlone) {
    fl_process *p = SpawnSleeper(100);
    ASSERT_NE(p, nullptr);
    int exit_fd = fl_process_fd(p);
    if (exit_fd >= 0) {
        EXPECT_EQ(fl_communicate(nullptr, nullptr, nullptr, exit_fd, 0), 0);
        EXPECT_EQ(fl_communicate(nullptr, nullptr, nullptr, exit_fd, 10000), FL_IO_EXITED);
    }
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
    fl_process_close(p);
}

TEST_F(CommunicateTest, InvalidArgumentsAndNonBlockingMode) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    char buf[8];
    fl_io out{p[0], buf, sizeof buf, 9, 0, 0};  // pos > len
    EXPECT_EQ(fl_communicate(nullptr, &out, nullptr, -1, 0), -EINVAL);
    fl_io nobuf{p[0], nullptr, 8, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &nobuf, nullptr, -1, 0), -EINVAL);
    // Left alone when done, so its fields do not matter then.
    nobuf.done = 1;
    EXPECT_EQ(fl_communicate(nullptr, &nobuf, nullptr, -1, 0), FL_IO_OUTPUTS_DONE);
    // A full output at entry: reported at once, and the descriptor is not even touched.
    fl_io full{p[0], buf, sizeof buf, sizeof buf, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &full, nullptr, -1, -1), FL_IO_FULL);
    EXPECT_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    // A live stream is made non-blocking.
    fl_io live{p[0], buf, sizeof buf, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &live, nullptr, -1, 0), 0);
    EXPECT_NE(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    // A descriptor that is not open: making it non-blocking fails first.
    int dead = dup(p[0]);
    close(dead);
    fl_io bad{dead, buf, sizeof buf, 0, 0, 0};
    EXPECT_EQ(fl_communicate(nullptr, &bad, nullptr, -1, 0), -EBADF);
    close(p[0]);
    close(p[1]);
}

// An output whose writer has gone while data is still buffered: the data comes first, then EOF.
TEST_F(CommunicateTest, HangupAfterDataDeliversTheDataFirst) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    ASSERT_EQ(write(p[1], "tail", 4), 4);
    close(p[1]);
    char buf[2];
    fl_io out{p[0], buf, sizeof buf, 0, 0, 0};
    std::string got;
    int rc;
    while ((rc = fl_communicate(nullptr, &out, nullptr, -1, 1000)) == FL_IO_FULL) {
        got.append(buf, out.pos);
        out.pos = 0;
    }
    got.append(buf, out.pos);
    EXPECT_EQ(rc, FL_IO_OUTPUTS_DONE);
    EXPECT_EQ(got, "tail");
    EXPECT_EQ(out.err, 0);
    close(p[0]);
}

class FdIoTest : public LeakCheckedTest {};

TEST_F(FdIoTest, ReadWriteAndNonBlocking) {
    int p[2];
    ASSERT_EQ(fl_fd_pipe(p), 0);
    EXPECT_EQ(fl_fd_set_nonblocking(p[0], 1), 0);
    EXPECT_NE(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    EXPECT_EQ(fl_fd_set_nonblocking(p[0], 1), 0);  // already so
    char buf[16];
    EXPECT_EQ(fl_fd_read(p[0], buf, sizeof buf), -EAGAIN);
    EXPECT_EQ(fl_fd_write(p[1], "abc", 3), 3);
    EXPECT_EQ(fl_fd_read(p[0], buf, sizeof buf), 3);
    EXPECT_EQ(memcmp(buf, "abc", 3), 0);
    EXPECT_EQ(fl_fd_set_nonblocking(p[0], 0), 0);
    EXPECT_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
    // A full non-blocking pipe: a partial write, then EAGAIN.
    EXPECT_EQ(fl_fd_set_nonblocking(p[1], 1), 0);
    std::string big(1u << 20, 'q');
    int64_t n = fl_fd_write(p[1], big.data(), big.size());
    EXPECT_GT(n, 0);
    EXPECT_LT(n, (int64_t)big.size());
    EXPECT_EQ(fl_fd_write(p[1], big.data(), big.size()), -EAGAIN);
    close(p[1]);
    EXPECT_EQ(fl_fd_set_nonblocking(p[0], 1), 0);
    int64_t total = 0, r;
    while ((r = fl_fd_read(p[0], buf, sizeof buf)) > 0) total += r;
    EXPECT_EQ(r, 0) << "EOF after the data";
    EXPECT_EQ(total, n);
    close(p[0]);
    EXPECT_EQ(fl_fd_set_nonblocking(p[0], 1), -EBADF);
    EXPECT_EQ(fl_fd_read(p[0], buf, 1), -EBADF);
    EXPECT_EQ(fl_fd_write(p[0], buf, 1), -EBADF);
}

// fl_fd_pipe_for_child: on POSIX an ordinary pipe whatever end the child gets (only Windows
// must know it); a child_end other than -1, 0, 1 is EINVAL.
TEST_F(FdIoTest, PipeForChild) {
    for (int child_end = -1; child_end <= 1; child_end++) {
        int p[2];
        ASSERT_EQ(fl_fd_pipe_for_child(p, child_end), 0);
        EXPECT_NE(fcntl(p[0], F_GETFD) & FD_CLOEXEC, 0);
        EXPECT_NE(fcntl(p[1], F_GETFD) & FD_CLOEXEC, 0);
        EXPECT_EQ(fl_fd_set_nonblocking(p[0], 1), 0);
        char c;
        EXPECT_EQ(fl_fd_read(p[0], &c, 1), -EAGAIN);
        EXPECT_EQ(fl_fd_write(p[1], "x", 1), 1);
        EXPECT_EQ(fl_fd_read(p[0], &c, 1), 1);
        close(p[0]);
        close(p[1]);
    }
    int p[2];
    EXPECT_EQ(fl_fd_pipe_for_child(p, 2), -EINVAL);
    EXPECT_EQ(fl_fd_pipe_for_child(p, -2), -EINVAL);
}

// fl_fd_write to a pipe without a reader, in a process that does not ignore SIGPIPE: -EPIPE, the
// process lives, nothing is left pending, and the thread's mask is as it was. A SIGPIPE that was
// pending before the write (blocked by the caller) is not taken.
TEST_F(FdIoTest, EpipeWithoutSigpipe) {
    RunForked([] {
        ASSERT_NE(signal(SIGPIPE, SIG_DFL), SIG_ERR);
        sigset_t none, mask, pending;
        sigemptyset(&none);
        ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &none, nullptr), 0);
        int p[2];
        ASSERT_EQ(fl_fd_pipe(p), 0);
        close(p[0]);
        EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
        EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
        pthread_sigmask(SIG_SETMASK, nullptr, &mask);
        EXPECT_EQ(sigismember(&mask, SIGPIPE), 0) << "the mask was not restored";
        sigpending(&pending);
        EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);

        // The caller blocks SIGPIPE itself and one is pending already: it stays pending, and the
        // mask stays blocked.
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr), 0);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGPIPE), 0);
        EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
        pthread_sigmask(SIG_SETMASK, nullptr, &mask);
        EXPECT_EQ(sigismember(&mask, SIGPIPE), 1);
        sigpending(&pending);
        EXPECT_EQ(sigismember(&pending, SIGPIPE), 1) << "someone else's SIGPIPE was taken";
        int sig = 0;
        EXPECT_EQ(sigwait(&pipe_only, &sig), 0);
        // Blocked by the caller and nothing pending: ours is taken, not left for the caller.
        EXPECT_EQ(fl_fd_write(p[1], "x", 1), -EPIPE);
        sigpending(&pending);
        EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
        close(p[1]);
    });
}

// fl_communicate's input on a pipe whose reader has gone, SIGPIPE at its default: EPIPE, alive.
TEST_F(FdIoTest, CommunicateInputEpipeWithoutSigpipe) {
    RunForked([] {
        ASSERT_NE(signal(SIGPIPE, SIG_DFL), SIG_ERR);
        int p[2];
        ASSERT_EQ(fl_fd_pipe(p), 0);
        close(p[0]);
        std::string data(100000, 'd');
        fl_io in{p[1], &data[0], data.size(), 0, 0, 0};
        EXPECT_EQ(fl_communicate(&in, nullptr, nullptr, -1, 5000), FL_IO_INPUT_DONE);
        EXPECT_EQ(in.done, 1);
        EXPECT_EQ(in.err, EPIPE);
        EXPECT_EQ(in.pos, 0u);
        close(p[1]);
    });
}

}  // namespace
}  // namespace fltest
