// fl_spawn_detached: the double fork. This binary is a subreaper (main.cc), so a detached process
// comes back to it as an orphan: its parent is then this process, never the intermediate, which
// must have been reaped before fl_spawn_detached returned. Each test kills and reaps what it
// started; the fixture checks that nothing else (no intermediate, no fd) is left.
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace fltest {
namespace {

class DetachedTest : public LeakCheckedTest {};

struct StatIds {
    long ppid = -1, pgrp = -1, session = -1;
};

bool ReadStat(long pid, StatIds *ids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return false;
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string state;
    rest >> state >> ids->ppid >> ids->pgrp >> ids->session;
    return !rest.fail();
}

struct Options {
    std::vector<std::string> argv_s;
    CStrings argv;
    std::vector<fl_fd_map> fds;
    fl_spawn_options o{};
    explicit Options(const std::vector<std::string> &argv_in) : argv_s(argv_in), argv(argv_s) {
        o.program = argv_s[0].c_str();
        o.argv = argv.get();
    }
    const fl_spawn_options *get() {
        o.fds = fds.empty() ? nullptr : fds.data();
        o.nfds = fds.size();
        return &o;
    }
};

void KillAndReap(int64_t pid) {
    ASSERT_GT(pid, 0);
    EXPECT_EQ(kill((pid_t)pid, SIGKILL), 0);
    int st = 0;
    EXPECT_EQ(waitpid((pid_t)pid, &st, 0), (pid_t)pid) << strerror(errno);
}

TEST_F(DetachedTest, SleeperRunsInANewSessionAndIsNotOurChild) {
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(null_fd, 0);
    Options opts(HelperArgv("sleep", {}, 1, SelfExe()));
    opts.o.program = SelfExe().c_str();
    opts.fds = {{0, null_fd}, {1, null_fd}, {2, null_fd}};
    int64_t pid = 0;
    fl_spawn_error err{};
    ASSERT_EQ(fl_spawn_detached(opts.get(), &pid, &err), 0)
        << fl_step_name(err.step) << " " << fl_errno_name(err.err);
    close(null_fd);
    ASSERT_GT(pid, 0);

    // The intermediate is gone (reaped): the only child left is the orphan that came back to this
    // subreaper.
    std::vector<int> kids = ChildPids();
    ASSERT_EQ(kids.size(), 1u);
    EXPECT_EQ(kids[0], pid);
    EXPECT_FALSE(HasWaitableChild());

    StatIds ids;
    ASSERT_TRUE(ReadStat(pid, &ids));
    EXPECT_EQ(ids.ppid, getpid());            // re-parented: we are the subreaper
    EXPECT_NE(ids.session, getsid(0));        // a new session...
    EXPECT_NE(ids.session, pid);              // ...that it does not lead (no controlling tty)
    EXPECT_EQ(ids.pgrp, pid);                 // leads a group of its own

    // Exactly the three descriptors, all /dev/null: the report pipe closed at execve. Looked at
    // until it settles: right after the exec the dynamic loader briefly holds a library open on a
    // descriptor of its own (seen once: libgcc_s.so.1 on fd 3).
    std::map<int, std::string> want = {{0, "/dev/null"}, {1, "/dev/null"}, {2, "/dev/null"}};
    std::map<int, std::string> fds;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd/";
    for (int64_t deadline = NowMs() + 5000;;) {
        fds.clear();
        for (int fd = 0; fd < 64; fd++) {
            char target[256];
            ssize_t n = readlink((dir + std::to_string(fd)).c_str(), target, sizeof target - 1);
            if (n > 0) fds[fd] = std::string(target, (size_t)n);
        }
        if (fds == want || NowMs() > deadline) break;
        usleep(2000);
    }
    EXPECT_EQ(fds, want);
    KillAndReap(pid);
}

TEST_F(DetachedTest, ExecFailureIsReportedWithStep) {
    Options opts({"/nonexistent/forkless-detached-test"});
    int64_t pid = 7;
    fl_spawn_error err{};
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -ENOENT);
    EXPECT_EQ(err.step, FL_STEP_EXEC);
    EXPECT_EQ(err.err, ENOENT);
    EXPECT_EQ(pid, 0);
    ExpectNothingLeft(fds_before_);
}

TEST_F(DetachedTest, ChdirFailureIsReportedWithStep) {
    Options opts(HelperArgv("exit", {"0"}, 1, SelfExe()));
    opts.o.program = SelfExe().c_str();
    opts.o.cwd = "/nonexistent-forkless-dir";
    int64_t pid = 0;
    fl_spawn_error err{};
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -ENOENT);
    EXPECT_EQ(err.step, FL_STEP_CHDIR);
    EXPECT_EQ(err.err, ENOENT);
    ExpectNothingLeft(fds_before_);
}

// The report pipe must survive a descriptor plan that dup2s onto many low numbers.
TEST_F(DetachedTest, FailureAfterABusyFdMapIsStillReported) {
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(null_fd, 0);
    Options opts({"/nonexistent/forkless-detached-test"});
    for (int fd = 0; fd < 40; fd++) opts.fds.push_back({fd, null_fd});
    int64_t pid = 0;
    fl_spawn_error err{};
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -ENOENT);
    EXPECT_EQ(err.step, FL_STEP_EXEC);
    close(null_fd);
    ExpectNothingLeft(fds_before_);
}

TEST_F(DetachedTest, ResolveFailureIsReported) {
    Options opts({"forkless-no-such-program-anywhere"});
    int64_t pid = 0;
    fl_spawn_error err{};
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -ENOENT);
    EXPECT_EQ(err.step, FL_STEP_RESOLVE);
    ExpectNothingLeft(fds_before_);
}

TEST_F(DetachedTest, MeaninglessFlagsAreRejected) {
    Options opts({"/bin/true"});
    int64_t pid = 0;
    fl_spawn_error err{};
    opts.o.flags = FL_SPAWN_DIE_WITH_PARENT;
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -EINVAL);
    EXPECT_EQ(err.step, FL_STEP_VALIDATE);
    opts.o.flags = FL_SPAWN_NEW_PROCESS_GROUP;
    opts.o.pgid = getpgid(0);
    EXPECT_EQ(fl_spawn_detached(opts.get(), &pid, &err), -EINVAL);
    EXPECT_EQ(err.step, FL_STEP_VALIDATE);
    EXPECT_EQ(fl_spawn_detached(nullptr, &pid, &err), -EINVAL);
    opts.o.flags = 0;
    EXPECT_EQ(fl_spawn_detached(opts.get(), nullptr, &err), -EINVAL);
    ExpectNothingLeft(fds_before_);
}

// A detached process that exits is not our business: with no subreaper it would go to init; here
// it comes back as our zombie, and the PID we were given names it until we reap it.
TEST_F(DetachedTest, ManySpawnsLeaveOnlyTheDetachedProcesses) {
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(null_fd, 0);
    std::vector<int64_t> pids;
    for (int i = 0; i < 5; i++) {
        Options opts(HelperArgv("exit", {"3"}, 1, SelfExe()));
        opts.o.program = SelfExe().c_str();
        opts.fds = {{0, null_fd}, {1, null_fd}, {2, null_fd}};
        int64_t pid = 0;
        ASSERT_EQ(fl_spawn_detached(opts.get(), &pid, nullptr), 0);
        pids.push_back(pid);
    }
    close(null_fd);
    for (int64_t pid : pids) {
        int st = 0;
        ASSERT_EQ(waitpid((pid_t)pid, &st, 0), (pid_t)pid);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 3) << st;
    }
}

// The checks of a detached sleeper, for the variants below (run in a forked copy that made itself
// a subreaper: PR_SET_CHILD_SUBREAPER is not inherited across fork).
void CheckDetachedSleeper(unsigned flags) {
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    Options opts(HelperArgv("sleep", {}, 1, SelfExe()));
    opts.o.program = SelfExe().c_str();
    opts.o.flags = flags;
    opts.o.uid = getuid();
    opts.o.gid = getgid();
    int64_t pid = 0;
    fl_spawn_error err{};
    ASSERT_EQ(fl_spawn_detached(opts.get(), &pid, &err), 0)
        << fl_step_name(err.step) << " " << fl_errno_name(err.err);
    std::vector<int> kids = ChildPids();
    ASSERT_EQ(kids.size(), 1u);
    EXPECT_EQ(kids[0], pid);
    StatIds ids;
    ASSERT_TRUE(ReadStat(pid, &ids));
    EXPECT_EQ(ids.ppid, getpid());
    EXPECT_NE(ids.session, getsid(0));
    EXPECT_EQ(ids.pgrp, pid);
    KillAndReap(pid);
    Options bad({"/nonexistent/forkless-detached-test"});
    bad.o.flags = flags;
    bad.o.uid = getuid();
    bad.o.gid = getgid();
    EXPECT_EQ(fl_spawn_detached(bad.get(), &pid, &err), -ENOENT);
    EXPECT_EQ(err.step, FL_STEP_EXEC);
    EXPECT_TRUE(ChildPids().empty());
    EXPECT_FALSE(HasWaitableChild());
}

// The bottom rung of the ladder: no pidfd anywhere (the intermediate is reaped by PID).
TEST_F(DetachedTest, WorksWithoutPidfds) {
    RunForked([] {
        ASSERT_EQ(InstallSeccomp(NoPidfdSeccompRules()), 0);
        CheckDetachedSleeper(0);
        EXPECT_EQ(fl_spawn_strategy_current(), FL_STRATEGY_PID_ONLY);
    });
}

// Credentials (here: our own) drop CLONE_VM: the intermediate has a copy of memory too, and its
// report must still arrive through the shared page.
TEST_F(DetachedTest, WorksWithACopiedIntermediate) {
    RunForked([] { CheckDetachedSleeper(FL_SPAWN_SET_UID | FL_SPAWN_SET_GID); });
}

}  // namespace
}  // namespace fltest
