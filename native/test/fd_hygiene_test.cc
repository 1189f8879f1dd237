// Descriptor hygiene: the child sees exactly the descriptors of its fd map, each a copy of the
// parent descriptor named, whatever the numbers collide with, and nothing else: not the
// parent's non-CLOEXEC descriptors, not the pidfd, not the spawn's own plumbing.
//
// The helper lists /proc/self/fd after exec (without its own directory descriptor), so "exactly"
// is checked literally. Targets are compared with what /proc says about the parent descriptor
// (memfds carry their name: "/memfd:NAME (deleted)"). Tests that need specific parent numbers
// (0, 1, 3, ...) run in a forked copy of the test process, where clobbering them is harmless.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include "test_util.h"

namespace fltest {
namespace {

class FdHygieneTest : public LeakCheckedTest {};

// A memfd placed exactly at parent descriptor `number`.
int Place(int number, const std::string &name, bool cloexec = true) {
    int fd = MemFd(name, true);
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 600);
    close(fd);
    EXPECT_EQ(dup3(high, number, cloexec ? O_CLOEXEC : 0), number) << strerror(errno);
    close(high);
    return number;
}

// Spawns the "fds" helper with `map` plus its report pipe on child descriptor `report_fd`.
std::map<int, ChildFd> ChildFds(const std::vector<fl_fd_map> &map, int report_fd,
                                RunResult *result = nullptr) {
    RunSpec s;
    s.argv = HelperArgv("fds", {}, report_fd);
    s.map_stderr = false;
    s.out_child_fd = report_fd;
    s.extra = map;
    RunResult r = RunHelper(s);
    EXPECT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, 0);
    if (result != nullptr) *result = r;
    return ParseFdReport(r.out);
}

std::set<int> Keys(const std::map<int, ChildFd> &m) {
    std::set<int> k;
    for (const auto &kv : m) k.insert(kv.first);
    return k;
}

std::string Dump(const std::map<int, ChildFd> &m) {
    std::string s;
    for (const auto &kv : m) s += std::to_string(kv.first) + " -> " + kv.second.target + "\n";
    return s;
}

// child fd -> parent fd: the child's descriptor shows the parent's target.
void ExpectMapped(const std::map<int, ChildFd> &got, int child_fd, int parent_fd) {
    auto it = got.find(child_fd);
    ASSERT_NE(it, got.end()) << "child fd " << child_fd << " missing; child has:\n" << Dump(got);
    EXPECT_EQ(it->second.target, FdTarget(parent_fd))
        << "child fd " << child_fd << " should be parent fd " << parent_fd;
    EXPECT_EQ(it->second.flags & O_CLOEXEC, 0);
}

void ExpectIsReportPipe(const std::map<int, ChildFd> &got, int child_fd) {
    auto it = got.find(child_fd);
    ASSERT_NE(it, got.end());
    EXPECT_EQ(it->second.target.compare(0, 6, "pipe:["), 0) << it->second.target;
    EXPECT_EQ(it->second.flags & O_ACCMODE, O_WRONLY);
}

TEST_F(FdHygieneTest, StdioMappedAndNothingElse) {
    int a = MemFd("stdin-a"), b = MemFd("stdout-b"), c = MemFd("stderr-c");
    auto got = ChildFds({{0, a}, {1, b}, {2, c}}, 3);
    EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 2, 3})) << Dump(got);
    ExpectMapped(got, 0, a);
    ExpectMapped(got, 1, b);
    ExpectMapped(got, 2, c);
    ExpectIsReportPipe(got, 3);
    close(a), close(b), close(c);
}

TEST_F(FdHygieneTest, ExtraDescriptors) {
    std::vector<int> p;
    for (const char *n : {"x0", "x1", "x2", "x3", "x7", "x100"}) p.push_back(MemFd(n));
    auto got = ChildFds({{0, p[0]}, {1, p[1]}, {2, p[2]}, {3, p[3]}, {7, p[4]}, {100, p[5]}}, 50);
    EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 2, 3, 7, 50, 100})) << Dump(got);
    ExpectMapped(got, 0, p[0]);
    ExpectMapped(got, 1, p[1]);
    ExpectMapped(got, 2, p[2]);
    ExpectMapped(got, 3, p[3]);
    ExpectMapped(got, 7, p[4]);
    ExpectMapped(got, 100, p[5]);
    for (int fd : p) close(fd);
}

TEST_F(FdHygieneTest, HighChildDescriptor) {
    struct rlimit rl;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur <= 1000) GTEST_SKIP() << "RLIMIT_NOFILE " << rl.rlim_cur;
    int a = MemFd("high");
    auto got = ChildFds({{1000, a}}, 1);
    EXPECT_EQ(Keys(got), (std::set<int>{1, 1000})) << Dump(got);
    ExpectMapped(got, 1000, a);
    close(a);
}

// Nothing mapped: the child has no descriptors at all, not even 0, 1, 2. It reports the count
// as its exit code.
TEST_F(FdHygieneTest, NothingMappedMeansNoDescriptorsAtAll) {
    int leaky = MemFd("not-cloexec", false);
    CStrings argv(HelperArgv("fdcount"));
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    fl_process *p = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0) << "the child had " << st.code << " descriptors";
    fl_process_close(p);
    close(leaky);
}

TEST_F(FdHygieneTest, OnlyOneDescriptorMapped) {
    int a = MemFd("only-one");
    CStrings argv(HelperArgv("fdcount"));
    fl_fd_map map[] = {{5, a}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    EXPECT_EQ(st.code, 1);
    fl_process_close(p);
    close(a);
}

// A descriptor opened without O_CLOEXEC (by code that forgot, or by a library) must not leak.
TEST_F(FdHygieneTest, NonCloexecParentDescriptorsDoNotLeak) {
    RunForked([] {
        Place(4, "leaky-low", false);
        Place(1500, "leaky-high", false);
        int leaky_pipe[2];
        ASSERT_EQ(pipe(leaky_pipe), 0);  // no O_CLOEXEC
        int a = MemFd("wanted");
        auto got = ChildFds({{0, a}}, 1);
        EXPECT_EQ(Keys(got), (std::set<int>{0, 1})) << Dump(got);
        ExpectMapped(got, 0, a);
        for (const auto &kv : got) EXPECT_EQ(kv.second.target.find("leaky"), std::string::npos);
        // ...and they are still open (and still not CLOEXEC) here.
        EXPECT_EQ(fcntl(4, F_GETFD), 0);
        EXPECT_EQ(fcntl(leaky_pipe[0], F_GETFD), 0);
    });
}

// Collisions: child 1 <- parent 3 while child 3 <- parent 1. A naive "dup2 in order" would copy
// parent 3 onto 1 and then copy that (not the original 1) onto 3.
TEST_F(FdHygieneTest, CrossedNumbers) {
    RunForked([] {
        Place(1, "parent-one");
        Place(3, "parent-three");
        auto got = ChildFds({{1, 3}, {3, 1}}, 9);
        EXPECT_EQ(Keys(got), (std::set<int>{1, 3, 9})) << Dump(got);
        ExpectMapped(got, 1, 3);
        ExpectMapped(got, 3, 1);
        ExpectIsReportPipe(got, 9);
    });
}

TEST_F(FdHygieneTest, SwappedStdinAndStdout) {
    RunForked([] {
        Place(0, "parent-zero");
        Place(1, "parent-one");
        auto got = ChildFds({{0, 1}, {1, 0}}, 9);
        EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 9})) << Dump(got);
        ExpectMapped(got, 0, 1);
        ExpectMapped(got, 1, 0);
    });
}

TEST_F(FdHygieneTest, RotatedNumbers) {
    RunForked([] {
        Place(3, "three");
        Place(4, "four");
        Place(5, "five");
        auto got = ChildFds({{3, 4}, {4, 5}, {5, 3}}, 9);
        EXPECT_EQ(Keys(got), (std::set<int>{3, 4, 5, 9})) << Dump(got);
        ExpectMapped(got, 3, 4);
        ExpectMapped(got, 4, 5);
        ExpectMapped(got, 5, 3);
    });
}

// The report pipe's parent number is one of the child's target numbers too.
TEST_F(FdHygieneTest, MappedOntoTheNumbersOfOtherMappedSources) {
    RunForked([] {
        // Parent 6 -> child 7, parent 7 -> child 8, parent 8 -> child 6, plus the same parent
        // descriptor (6) twice more.
        Place(6, "six");
        Place(7, "seven");
        Place(8, "eight");
        auto got = ChildFds({{7, 6}, {8, 7}, {6, 8}, {0, 6}, {20, 6}}, 2);
        EXPECT_EQ(Keys(got), (std::set<int>{0, 2, 6, 7, 8, 20})) << Dump(got);
        ExpectMapped(got, 7, 6);
        ExpectMapped(got, 8, 7);
        ExpectMapped(got, 6, 8);
        ExpectMapped(got, 0, 6);
        ExpectMapped(got, 20, 6);
    });
}

TEST_F(FdHygieneTest, SameParentDescriptorTwice) {
    int x = MemFd("twice");
    auto got = ChildFds({{4, x}, {5, x}}, 1);
    EXPECT_EQ(Keys(got), (std::set<int>{1, 4, 5})) << Dump(got);
    ExpectMapped(got, 4, x);
    ExpectMapped(got, 5, x);
    close(x);
}

// Source == target: dup2(5, 5) does nothing, so a CLOEXEC source would vanish at exec unless
// the child clears the flag. The parent's own flag must stay as it was.
TEST_F(FdHygieneTest, SourceEqualsTargetSurvivesExec) {
    RunForked([] {
        Place(5, "same-number-cloexec", true);
        Place(6, "same-number-plain", false);
        auto got = ChildFds({{5, 5}, {6, 6}}, 1);
        EXPECT_EQ(Keys(got), (std::set<int>{1, 5, 6})) << Dump(got);
        ExpectMapped(got, 5, 5);
        ExpectMapped(got, 6, 6);
        EXPECT_EQ(fcntl(5, F_GETFD), FD_CLOEXEC) << "the parent's CLOEXEC flag changed";
        EXPECT_EQ(fcntl(6, F_GETFD), 0);
    });
}

TEST_F(FdHygieneTest, StdioSourceEqualsTarget) {
    RunForked([] {
        Place(0, "zero-in", true);
        Place(2, "two-err", true);
        auto got = ChildFds({{0, 0}, {2, 2}}, 1);
        EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 2})) << Dump(got);
        ExpectMapped(got, 0, 0);
        ExpectMapped(got, 2, 2);
    });
}

// Many descriptors in a scrambled permutation over the same numbers they come from.
TEST_F(FdHygieneTest, ScrambledPermutationOfManyDescriptors) {
    RunForked([] {
        const int base = 3, n = 64;
        for (int i = 0; i < n; i++) Place(base + i, "perm-" + std::to_string(i), i % 2 == 0);
        std::vector<fl_fd_map> map;
        for (int i = 0; i < n; i++) map.push_back({base + i, base + (i * 37 + 11) % n});
        auto got = ChildFds(map, 200);
        EXPECT_EQ(got.size(), (size_t)n + 1) << Dump(got);
        for (const auto &m : map) ExpectMapped(got, m.child_fd, m.parent_fd);
    });
}

// Thousands of open non-CLOEXEC descriptors in the parent: all closed in the child.
TEST_F(FdHygieneTest, ManyOpenParentDescriptorsAreAllClosed) {
    RunForked([] {
        struct rlimit rl;
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur < 6000) {
            rl.rlim_cur = rl.rlim_max < 6000 ? rl.rlim_max : 6000;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        int null = open("/dev/null", O_RDONLY);  // no O_CLOEXEC
        ASSERT_GE(null, 0);
        for (int fd = 10; fd < (int)rl.rlim_cur - 10 && fd < 5000; fd += 1) {
            if (fcntl(fd, F_GETFD) < 0) dup2(null, fd);
        }
        int a = MemFd("among-many");
        int64_t t0 = NowMs();
        auto got = ChildFds({{0, a}}, 1);
        EXPECT_LT(NowMs() - t0, 5000);
        EXPECT_EQ(Keys(got), (std::set<int>{0, 1})) << Dump(got);
    });
}

// The race CLOEXEC cannot close: another thread creates descriptors without O_CLOEXEC (a
// library calling pipe(), or a JNI library) while we spawn. They must still not reach the child.
TEST_F(FdHygieneTest, DescriptorsOpenedConcurrentlyWithoutCloexecNeverLeak) {
    std::atomic<bool> stop{false};
    std::thread opener([&] {
        while (!stop.load()) {
            int p[2];
            if (pipe(p) == 0) {
                close(p[0]);
                close(p[1]);
            }
            // A blocking point: under valgrind (one thread runs at a time) a loop of pipe/close
            // alone never hands the CPU back to the spawning thread.
            sched_yield();
        }
    });
    for (int i = 0; i < 150; i++) {
        auto got = ChildFds({}, 1);
        ASSERT_EQ(Keys(got), (std::set<int>{1})) << "spawn " << i << ":\n" << Dump(got);
    }
    stop = true;
    opener.join();
}

// Access modes and status flags belong to the open file description the child shares.
TEST_F(FdHygieneTest, AccessModesArePreserved) {
    int in[2];
    ASSERT_EQ(fl_fd_pipe(in), 0);
    int app = -1;
    TempDir d;
    ASSERT_EQ(fl_fd_open(d.Join("log").c_str(), FL_OPEN_WRITE | FL_OPEN_CREATE | FL_OPEN_APPEND,
                         0644, &app),
              0);
    auto got = ChildFds({{0, in[0]}, {4, in[1]}, {5, app}}, 1);
    EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 4, 5})) << Dump(got);
    EXPECT_EQ(got[0].flags & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(got[4].flags & O_ACCMODE, O_WRONLY);
    EXPECT_EQ(got[5].flags & O_ACCMODE, O_WRONLY);
    EXPECT_NE(got[5].flags & O_APPEND, 0);
    fl_fd_close(in[0]);
    fl_fd_close(in[1]);
    fl_fd_close(app);
}

// The parent's descriptors come out of a spawn as they went in: open, same flags, same status.
TEST_F(FdHygieneTest, ParentDescriptorsUnchanged) {
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    int plain = MemFd("parent-plain", false);
    int fl0 = fcntl(p[1], F_GETFL), fd0 = fcntl(p[1], F_GETFD), pl0 = fcntl(plain, F_GETFD);
    auto got = ChildFds({{0, plain}, {3, p[1]}}, 1);
    EXPECT_EQ(Keys(got), (std::set<int>{0, 1, 3})) << Dump(got);
    EXPECT_EQ(fcntl(p[1], F_GETFL), fl0);
    EXPECT_EQ(fcntl(p[1], F_GETFD), fd0);
    EXPECT_EQ(fcntl(plain, F_GETFD), pl0);
    close(p[0]);
    close(p[1]);
    close(plain);
}

// Bytes flow through mapped pipes both ways, exactly (NULs and invalid UTF-8 included).
TEST_F(FdHygieneTest, DataFlowsThroughMappedPipes) {
    int in[2];
    ASSERT_EQ(fl_fd_pipe(in), 0);
    std::string payload;
    for (int i = 0; i < 300000; i++) payload.push_back((char)(i * 7 + i / 256));
    std::thread writer([&] {
        // If the child died early, the write fails with EPIPE; keep SIGPIPE off this process.
        sigset_t pipe_sig;
        sigemptyset(&pipe_sig);
        sigaddset(&pipe_sig, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_sig, nullptr);
        EXPECT_TRUE(WriteAll(in[1], payload));
        close(in[1]);
    });
    RunSpec s;
    s.argv = HelperArgv("cat");
    s.extra = {{0, in[0]}};
    RunResult r = RunHelper(s);
    close(in[0]);  // the writer may still be blocked only if the child died early
    writer.join();
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 0);
    EXPECT_EQ(r.out.size(), payload.size());
    EXPECT_TRUE(r.out == payload);
}

}  // namespace
}  // namespace fltest
