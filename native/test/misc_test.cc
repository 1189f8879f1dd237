// The small pieces of the C API: step and errno names, strategy names, descriptor helpers.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <string>

#include "test_util.h"

namespace fltest {
namespace {

class ApiTest : public LeakCheckedTest {};

TEST_F(ApiTest, StepNamesAreDistinctAndOutOfRangeIsUnknown) {
    std::set<std::string> names;
    for (int s = FL_STEP_NONE; s < FL_STEP_COUNT_; s++) {
        const char *n = fl_step_name(s);
        ASSERT_NE(n, nullptr) << s;
        EXPECT_STRNE(n, "") << s;
        EXPECT_STRNE(n, "unknown") << s;
        names.insert(n);
    }
    EXPECT_EQ(names.size(), (size_t)FL_STEP_COUNT_);
    EXPECT_STREQ(fl_step_name(-1), "unknown");
    EXPECT_STREQ(fl_step_name(FL_STEP_COUNT_), "unknown");
    EXPECT_STREQ(fl_step_name(1 << 30), "unknown");
    EXPECT_STREQ(fl_step_name(FL_STEP_CHDIR), "chdir");
    EXPECT_STREQ(fl_step_name(FL_STEP_EXEC), "execve");
}

// The step numbers are mirrored by the JNI layer and Java: they must not move.
TEST_F(ApiTest, StepNumbersAreStable) {
    EXPECT_EQ(FL_STEP_NONE, 0);
    EXPECT_EQ(FL_STEP_VALIDATE, 1);
    EXPECT_EQ(FL_STEP_RESOLVE, 2);
    EXPECT_EQ(FL_STEP_PREPARE, 3);
    EXPECT_EQ(FL_STEP_FORK, 4);
    EXPECT_EQ(FL_STEP_SETSID, 5);
    EXPECT_EQ(FL_STEP_SETPGID, 6);
    EXPECT_EQ(FL_STEP_SETGROUPS, 7);
    EXPECT_EQ(FL_STEP_SETGID, 8);
    EXPECT_EQ(FL_STEP_SETUID, 9);
    EXPECT_EQ(FL_STEP_CHDIR, 10);
    EXPECT_EQ(FL_STEP_SIGNALS, 11);
    EXPECT_EQ(FL_STEP_DUP2, 12);
    EXPECT_EQ(FL_STEP_CLOSE_FDS, 13);
    EXPECT_EQ(FL_STEP_EXEC, 14);
    EXPECT_EQ(FL_STEP_PIDFD, 15);
    EXPECT_EQ(FL_STEP_PDEATHSIG, 16);
}

TEST_F(ApiTest, ErrnoNames) {
    EXPECT_STREQ(fl_errno_name(ENOENT), "ENOENT");
    EXPECT_STREQ(fl_errno_name(EACCES), "EACCES");
    EXPECT_STREQ(fl_errno_name(EMFILE), "EMFILE");
    EXPECT_STREQ(fl_errno_name(ENOEXEC), "ENOEXEC");
    EXPECT_STREQ(fl_errno_name(E2BIG), "E2BIG");
    EXPECT_STREQ(fl_errno_name(EPERM), "EPERM");
    EXPECT_STREQ(fl_errno_name(ESRCH), "ESRCH");
    EXPECT_STREQ(fl_errno_name(EAGAIN), "EAGAIN");
    EXPECT_STREQ(fl_errno_name(ENOTDIR), "ENOTDIR");
    EXPECT_STREQ(fl_errno_name(EBADF), "EBADF");
    EXPECT_STREQ(fl_errno_name(EINVAL), "EINVAL");
    EXPECT_EQ(fl_errno_name(0), nullptr);
    EXPECT_EQ(fl_errno_name(-ENOENT), nullptr);
    EXPECT_EQ(fl_errno_name(100000), nullptr);
}

TEST_F(ApiTest, StrategyIsOneOfTheRungsAfterASpawn) {
    RunSpec s;
    s.argv = HelperArgv("exit", {"0"});
    ASSERT_TRUE(RunHelper(s).spawned);
    int strategy = fl_spawn_strategy_current();
    EXPECT_GE(strategy, FL_STRATEGY_CLONE3);
    EXPECT_LE(strategy, FL_STRATEGY_PID_ONLY);
    // Nothing denied here beyond what the environment denies (valgrind has no clone3).
    EXPECT_EQ(strategy, ExpectedTopStrategy()) << StrategyName(strategy);
}

TEST_F(ApiTest, PipeIsCloexec) {
    fl_fd p[2] = {-1, -1};
    ASSERT_EQ(fl_fd_pipe(p), 0);
    EXPECT_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(fcntl(p[1], F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
    EXPECT_EQ(write(p[1], "x", 1), 1);
    char c = 0;
    EXPECT_EQ(read(p[0], &c, 1), 1);
    EXPECT_EQ(c, 'x');
    EXPECT_EQ(fl_fd_close(p[0]), 0);
    EXPECT_EQ(fl_fd_close(p[1]), 0);
}

TEST_F(ApiTest, OpenFlags) {
    TempDir d;
    std::string path = d.Join("f");
    mode_t mask = umask(0);
    umask(mask);
    fl_fd fd = -1;
    EXPECT_EQ(fl_fd_open(path.c_str(), FL_OPEN_READ, 0, &fd), -ENOENT);
    ASSERT_EQ(fl_fd_open(path.c_str(), FL_OPEN_WRITE | FL_OPEN_CREATE | FL_OPEN_EXCLUSIVE, 0640, &fd),
              0);
    EXPECT_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    EXPECT_EQ(write(fd, "hello", 5), 5);
    EXPECT_EQ(fl_fd_close(fd), 0);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u & ~(unsigned)mask);

    fl_fd again = -1;
    EXPECT_EQ(fl_fd_open(path.c_str(), FL_OPEN_WRITE | FL_OPEN_CREATE | FL_OPEN_EXCLUSIVE, 0640, &again),
              -EEXIST);

    ASSERT_EQ(fl_fd_open(path.c_str(), FL_OPEN_READ | FL_OPEN_WRITE, 0, &fd), 0);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    EXPECT_EQ(fl_fd_close(fd), 0);

    ASSERT_EQ(fl_fd_open(path.c_str(), FL_OPEN_WRITE | FL_OPEN_APPEND, 0, &fd), 0);
    EXPECT_NE(fcntl(fd, F_GETFL) & O_APPEND, 0);
    EXPECT_EQ(write(fd, "!", 1), 1);
    EXPECT_EQ(fl_fd_close(fd), 0);
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 6);

    ASSERT_EQ(fl_fd_open(path.c_str(), FL_OPEN_WRITE | FL_OPEN_TRUNCATE, 0, &fd), 0);
    EXPECT_EQ(fl_fd_close(fd), 0);
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 0);

    ASSERT_EQ(fl_fd_open(path.c_str(), FL_OPEN_READ, 0, &fd), 0);
    EXPECT_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    EXPECT_EQ(fl_fd_close(fd), 0);
}

TEST_F(ApiTest, CloseTwiceIsEBADF) {
    fl_fd p[2];
    ASSERT_EQ(fl_fd_pipe(p), 0);
    EXPECT_EQ(fl_fd_close(p[0]), 0);
    EXPECT_EQ(fl_fd_close(p[0]), -EBADF);
    EXPECT_EQ(fl_fd_close(p[1]), 0);
    EXPECT_EQ(fl_fd_close(-1), -EBADF);
}

}  // namespace
}  // namespace fltest

namespace fltest {
namespace {

// Writable shared anonymous mappings of this process: the child stacks (MAP_SHARED | MAP_ANONYMOUS
// shows as "/dev/zero (deleted)" in /proc/self/maps; the guard page is a line of its own, ---s).
int SharedAnonMappings() {
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == nullptr) return -1;
    int n = 0;
    char line[512];
    while (fgets(line, sizeof line, f) != nullptr) {
        if (strstr(line, " rw-s ") != nullptr && strstr(line, "/dev/zero (deleted)") != nullptr) n++;
    }
    fclose(f);
    return n;
}

class ChildStackTest : public LeakCheckedTest {};

// Each spawning thread keeps one child stack for its later spawns and gives it back when it
// exits: a thread reuses its own, and threads that come and go leave no mappings behind.
TEST_F(ChildStackTest, ThreadsReuseTheirStackAndReleaseItWhenTheyExit) {
    auto spawn_ok = [] {
        RunSpec s;
        s.argv = HelperArgv("exit", {"0"});
        RunResult r = RunHelper(s);
        return r.spawned && r.status.kind == FL_EXITED && r.status.code == 0;
    };
    int before = SharedAnonMappings();
    ASSERT_GE(before, 0);

    int during_first = -1, during_last = -1;
    bool ok = true;
    std::thread lone([&] {
        ok = ok && spawn_ok();
        during_first = SharedAnonMappings();
        for (int i = 0; i < 5; i++) ok = ok && spawn_ok();
        during_last = SharedAnonMappings();
    });
    lone.join();
    EXPECT_TRUE(ok);
    EXPECT_EQ(during_first, before + 1) << "a fresh thread maps one stack";
    EXPECT_EQ(during_last, before + 1) << "and reuses it";
    EXPECT_EQ(SharedAnonMappings(), before) << "and unmaps it when it exits";

    for (int round = 0; round < 3; round++) {
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        for (int t = 0; t < 8; t++) {
            threads.emplace_back([&] {
                for (int i = 0; i < 3; i++) {
                    if (!spawn_ok()) failures++;
                }
            });
        }
        for (auto &t : threads) t.join();
        EXPECT_EQ(failures.load(), 0);
        EXPECT_EQ(SharedAnonMappings(), before) << "round " << round;
    }
}

// Start addresses of the writable shared anonymous mappings (child stacks).
std::set<std::string> SharedAnonStarts() {
    std::set<std::string> starts;
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == nullptr) return starts;
    char line[512];
    while (fgets(line, sizeof line, f) != nullptr) {
        if (strstr(line, " rw-s ") != nullptr && strstr(line, "/dev/zero (deleted)") != nullptr) {
            starts.insert(std::string(line, strcspn(line, "-")));
        }
    }
    fclose(f);
    return starts;
}

// A process that fork()s must not share the forking thread's child stack with its copy (the
// mapping is MAP_SHARED): the copy gets a stack of its own, and both can spawn at the same time.
TEST_F(ChildStackTest, AForkedCopyDoesNotShareTheStack) {
    RunSpec warm;
    warm.argv = HelperArgv("exit", {"0"});
    ASSERT_TRUE(RunHelper(warm).spawned);  // this thread now has its stack
    std::set<std::string> parent = SharedAnonStarts();
    ASSERT_FALSE(parent.empty());

    // Spawn in a loop here while a forked copy does the same; a shared stack would have two
    // children running on the same pages and some would crash or exit with the wrong code.
    pid_t copy = fork();
    ASSERT_GE(copy, 0);
    if (copy == 0) {
        int bad = 0;
        for (const std::string &start : SharedAnonStarts()) bad += parent.count(start) ? 1 : 0;
        if (bad != 0) _exit(3);  // still mapped in the copy: the handler did not run
        for (int i = 0; i < 300; i++) {
            RunSpec s;
            s.argv = HelperArgv("exit", {std::to_string(i % 200)});
            RunResult r = RunHelper(s);
            if (!r.spawned || r.status.kind != FL_EXITED || r.status.code != i % 200) _exit(4);
        }
        _exit(0);
    }
    // This (the forking) thread spawns until the copy is done, on the stack it had before.
    int failures = 0, st = 0;
    pid_t done = 0;
    for (int i = 0; done == 0 && i < 5000; i++) {
        RunSpec s;
        s.argv = HelperArgv("exit", {std::to_string(i % 100 + 1)});
        RunResult r = RunHelper(s);
        if (!r.spawned || r.status.kind != FL_EXITED || r.status.code != i % 100 + 1) failures++;
        done = waitpid(copy, &st, WNOHANG);
    }
    if (done == 0) done = waitpid(copy, &st, 0);
    ASSERT_EQ(done, copy);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
        << "forked copy: " << (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st))
        << " (3: the parent's stack is still mapped there, 4: a spawn went wrong)";
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(SharedAnonStarts(), parent) << "the parent keeps its own stack";
}

}  // namespace
}  // namespace fltest
