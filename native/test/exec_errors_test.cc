// Spawn failures: each step reports itself with the exact errno, and a failed spawn leaves
// nothing behind (no child, no zombie, no descriptor).
//
// Assumptions worth stating:
// - A bare program name is resolved in the parent (FL_STEP_RESOLVE): "not found anywhere" is
//   RESOLVE/ENOENT and "only non-executable candidates" is RESOLVE/EACCES.
// - A path with a '/' is not searched; whatever execve says about it is FL_STEP_EXEC.
// - The tests run as root, which bypasses permission bits except that execve needs at least one
//   execute bit: a 0644 file is EACCES for root too.
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "test_util.h"

namespace fltest {
namespace {

class ExecFailureTest : public LeakCheckedTest {};

std::string ErrName(int err) {
    const char *n = fl_errno_name(err);
    return n ? n : std::to_string(err);
}

// Spawns with the options and expects failure at `step` with `err`, leaving nothing behind.
void ExpectSpawnFails(const fl_spawn_options &o, int step, int err) {
    auto fds = OpenFds();
    fl_process *p = nullptr;
    fl_spawn_error e{-1, -1};
    int rc = fl_spawn(&o, &p, &e);
    EXPECT_EQ(rc, -err) << "expected -" << ErrName(err) << ", got " << rc << " (" << ErrName(-rc) << ")";
    EXPECT_EQ(e.step, step) << "expected step " << fl_step_name(step) << ", got "
                            << fl_step_name(e.step);
    EXPECT_EQ(e.err, err) << "expected " << ErrName(err) << ", got " << ErrName(e.err);
    if (rc == 0) {
        fl_exit_status st{};
        fl_process_signal(p, SIGKILL);
        fl_process_wait(p, -1, &st);
        fl_process_close(p);
        ADD_FAILURE() << "the spawn succeeded; the child ended with kind " << st.kind << " code "
                      << st.code;
        return;
    }
    ExpectNothingLeft(fds);
}

// Options for running the helper (or `program`) with fd 1 and 2 on this process's stderr.
struct Opts {
    explicit Opts(const std::string &program_, const std::vector<std::string> &argv_ = {})
        : program(program_), argv(argv_.empty() ? std::vector<std::string>{program_} : argv_) {
        memset(&o, 0, sizeof o);
        Sync();
    }
    fl_spawn_options &Sync() {
        o.program = program.c_str();
        o.argv = argv.get();
        o.fds = map;
        o.nfds = 2;
        if (env_set) o.envp = envp.get();
        return o;
    }
    void SetEnv(const std::vector<std::string> &e) {
        envp = CStrings(e);
        env_set = true;
        Sync();
    }
    std::string program;
    CStrings argv;
    CStrings envp;
    bool env_set = false;
    fl_fd_map map[2] = {{1, 2}, {2, 2}};
    fl_spawn_options o;
};

// Drops this (forked) process to nobody if it runs as root, so changing credentials is denied.
void DropPrivileges() {
    if (geteuid() != 0) return;
    ASSERT_EQ(setgroups(0, nullptr), 0) << strerror(errno);
    ASSERT_EQ(setresgid(65534, 65534, 65534), 0) << strerror(errno);
    ASSERT_EQ(setresuid(65534, 65534, 65534), 0) << strerror(errno);
}

// --- resolve -----------------------------------------------------------------------------------

TEST_F(ExecFailureTest, ProgramNotFoundInPath) {
    TempDir d1, d2;
    Opts o("fl-no-such-program");
    o.SetEnv({"PATH=" + d1.path() + ":" + d2.path()});
    ExpectSpawnFails(o.o, FL_STEP_RESOLVE, ENOENT);
}

// envp NULL: this process's PATH is searched. (A PATH entry this user may not search, like
// /root/bin for nobody, makes the answer EACCES, as with execvp: hence a PATH of our own.)
TEST_F(ExecFailureTest, ProgramNotFoundInThisProcessPath) {
    RunForked([] {
        TempDir d1, d2;
        ASSERT_EQ(setenv("PATH", (d1.path() + ":" + d2.path()).c_str(), 1), 0);
        Opts o("fl-no-such-program-anywhere-7f3a");
        ExpectSpawnFails(o.o, FL_STEP_RESOLVE, ENOENT);
    });
}

// A PATH directory that cannot be searched counts as EACCES (execvp does the same: execve says
// EACCES for a path through it), unless a later entry has the program.
TEST_F(ExecFailureTest, UnsearchablePathDirectoryIsEACCES) {
    TempDir d1, d2;  // out here: removed by this process, not by the unprivileged fork
    std::string locked = d1.MkDir("locked");
    ASSERT_EQ(chmod(locked.c_str(), 0), 0);
    RunForked([&] {
        DropPrivileges();  // root searches anything
        Opts o("fl-behind-a-locked-dir");
        o.SetEnv({"PATH=" + locked + ":" + d2.path()});
        ExpectSpawnFails(o.o, FL_STEP_RESOLVE, EACCES);
    });
}

TEST_F(ExecFailureTest, OnlyANonExecutableFileInPathIsEACCES) {
    TempDir d1, d2;
    d1.WriteFile("prog", "#!/bin/sh\nexit 0\n", 0644);
    Opts o("prog");
    o.SetEnv({"PATH=" + d1.path() + ":" + d2.path()});
    ExpectSpawnFails(o.o, FL_STEP_RESOLVE, EACCES);
}

// execvp semantics: a non-executable candidate is remembered, the search goes on, and a later
// executable entry wins.
TEST_F(ExecFailureTest, LaterExecutablePathEntryWinsOverEarlierNonExecutable) {
    TempDir d1, d2;
    d1.WriteFile("prog", "#!/bin/sh\nexit 99\n", 0644);
    d2.LinkSelf("prog");
    std::vector<std::string> env = {"PATH=" + d1.path() + ":" + d2.path()};
    RunSpec s;
    s.program = "prog";
    s.argv = HelperArgv("exit", {"7"}, 1, "prog");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, 7);
}

TEST_F(ExecFailureTest, DirectoryInPathIsSkipped) {
    TempDir d1, d2;
    d1.MkDir("prog");
    d2.LinkSelf("prog");
    std::vector<std::string> env = {"PATH=" + d1.path() + ":" + d2.path()};
    RunSpec s;
    s.program = "prog";
    s.argv = HelperArgv("exit", {"8"}, 1, "prog");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 8);
}

// PATH entries that are missing, not directories, or empty-named files are passed over.
TEST_F(ExecFailureTest, UnusablePathEntriesAreSkipped) {
    TempDir d1, d2;
    std::string file = d1.WriteFile("not-a-dir", "", 0644);
    d2.LinkSelf("prog");
    std::vector<std::string> env = {"PATH=" + d1.Join("missing") + ":" + file + ":" + d2.path()};
    RunSpec s;
    s.program = "prog";
    s.argv = HelperArgv("exit", {"10"}, 1, "prog");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 10);
}

TEST_F(ExecFailureTest, EarlierExecutablePathEntryWins) {
    TempDir d1, d2;
    d1.LinkSelf("prog");
    d2.WriteFile("prog", "#!/bin/sh\nexit 99\n", 0755);
    std::vector<std::string> env = {"PATH=" + d1.path() + ":" + d2.path()};
    RunSpec s;
    s.program = "prog";
    s.argv = HelperArgv("exit", {"9"}, 1, "prog");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 9);
}

// --- exec --------------------------------------------------------------------------------------

TEST_F(ExecFailureTest, AbsolutePathMissing) {
    TempDir d;
    Opts o(d.Join("missing"));
    ExpectSpawnFails(o.o, FL_STEP_EXEC, ENOENT);
}

TEST_F(ExecFailureTest, AbsolutePathNotExecutable) {
    TempDir d;
    Opts o(d.WriteFile("plain", "#!/bin/sh\nexit 0\n", 0644));
    ExpectSpawnFails(o.o, FL_STEP_EXEC, EACCES);
}

TEST_F(ExecFailureTest, DirectoryAsProgram) {
    TempDir d;
    Opts o(d.MkDir("subdir"));
    ExpectSpawnFails(o.o, FL_STEP_EXEC, EACCES);
}

TEST_F(ExecFailureTest, PathThroughAFile) {
    TempDir d;
    Opts o(d.WriteFile("file", "x", 0755) + "/prog");
    ExpectSpawnFails(o.o, FL_STEP_EXEC, ENOTDIR);
}

// One argument longer than MAX_ARG_STRLEN (128 KiB): the kernel refuses it in execve.
TEST_F(ExecFailureTest, ArgumentTooLongIsE2BIG) {
    Opts o(SelfExe(), HelperArgv("exit", {std::string(200 * 1024, 'x')}));
    ExpectSpawnFails(o.o, FL_STEP_EXEC, E2BIG);
}

// A script without "#!" that is executable: execve says ENOEXEC and the spawn retries with
// /bin/sh (execvp / JDK behaviour), passing the arguments through.
TEST_F(ExecFailureTest, ScriptWithoutShebangRunsWithBinSh) {
    TempDir d;
    std::string script = d.WriteFile("noshebang", "printf '%s|' \"$@\"\nexit 3\n", 0755);
    RunSpec s;
    s.program = script;
    s.argv = {script, "a b", "", "\xff"};
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.out, "a b||\xff|");
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, 3);
}

TEST_F(ExecFailureTest, ScriptWithoutShebangFoundInPath) {
    TempDir d;
    d.WriteFile("noshebang-in-path", "printf '%s' \"$1\"\n", 0755);
    std::vector<std::string> env = {"PATH=" + d.path()};
    RunSpec s;
    s.program = "noshebang-in-path";
    s.argv = {"noshebang-in-path", "ok"};
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.out, "ok");
    EXPECT_EQ(r.status.code, 0);
}

// --- chdir -------------------------------------------------------------------------------------

TEST_F(ExecFailureTest, CwdMissing) {
    TempDir d;
    std::string cwd = d.Join("missing");
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.o.cwd = cwd.c_str();
    ExpectSpawnFails(o.o, FL_STEP_CHDIR, ENOENT);
}

TEST_F(ExecFailureTest, CwdIsAFile) {
    TempDir d;
    std::string cwd = d.WriteFile("file", "", 0644);
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.o.cwd = cwd.c_str();
    ExpectSpawnFails(o.o, FL_STEP_CHDIR, ENOTDIR);
}

// --- process group, credentials ------------------------------------------------------------------

// setpgid(0, pgid) with a pgid that names no process group of this session: EPERM.
TEST_F(ExecFailureTest, SetpgidToANonexistentGroup) {
    int pgid = 0;
    for (int candidate = 4000000; candidate > 3000000; candidate -= 7919) {
        if (kill(-candidate, 0) != 0 && errno == ESRCH && getpgid(candidate) < 0) {
            pgid = candidate;
            break;
        }
    }
    ASSERT_NE(pgid, 0);
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.o.flags = FL_SPAWN_NEW_PROCESS_GROUP;
    o.o.pgid = pgid;
    ExpectSpawnFails(o.o, FL_STEP_SETPGID, EPERM);
}

TEST_F(ExecFailureTest, SetuidDenied) {
    RunForked([] {
        DropPrivileges();
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        o.o.flags = FL_SPAWN_SET_UID;
        o.o.uid = 0;
        ExpectSpawnFails(o.o, FL_STEP_SETUID, EPERM);
    });
}

TEST_F(ExecFailureTest, SetgidDenied) {
    RunForked([] {
        DropPrivileges();
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        o.o.flags = FL_SPAWN_SET_GID;
        o.o.gid = 0;
        ExpectSpawnFails(o.o, FL_STEP_SETGID, EPERM);
    });
}

TEST_F(ExecFailureTest, SetgroupsDenied) {
    RunForked([] {
        DropPrivileges();
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        uint32_t groups[] = {0};
        o.o.flags = FL_SPAWN_SET_GROUPS;
        o.o.groups = groups;
        o.o.ngroups = 1;
        ExpectSpawnFails(o.o, FL_STEP_SETGROUPS, EPERM);
    });
}

// The working case: as root, the child becomes nobody/nogroup with exactly the groups asked for.
// The child is /bin/cat reading its own /proc/self/status: a system binary nobody may execute
// wherever this test binary lives (a 0700 temporary directory would refuse the helper).
TEST_F(ExecFailureTest, CredentialsAreAppliedWhenAllowed) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    RunSpec s;
    s.program = "/bin/cat";
    s.argv = {"cat", "/proc/self/status"};
    s.flags = FL_SPAWN_SET_UID | FL_SPAWN_SET_GID | FL_SPAWN_SET_GROUPS;
    s.uid = 65534;
    s.gid = 65533;
    s.groups = {65532, 65531};
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    ASSERT_EQ(r.status.kind, FL_EXITED);
    ASSERT_EQ(r.status.code, 0) << r.out;
    auto line = [&](const char *key) {
        size_t at = r.out.find(std::string("\n") + key);
        if (at == std::string::npos) return std::string();
        size_t end = r.out.find('\n', at + 1);
        return r.out.substr(at + 1, end - at - 1);
    };
    // Real, effective, saved and filesystem ids: all four changed.
    EXPECT_EQ(line("Uid:"), "Uid:\t65534\t65534\t65534\t65534") << r.out;
    EXPECT_EQ(line("Gid:"), "Gid:\t65533\t65533\t65533\t65533") << r.out;
    // The kernel keeps supplementary groups sorted.
    EXPECT_EQ(line("Groups:"), "Groups:\t65531 65532 ") << r.out;
}

// --- descriptors -------------------------------------------------------------------------------

// A child number at or above RLIMIT_NOFILE can never be made: refused before anything starts.
TEST_F(ExecFailureTest, ChildFdAboveTheDescriptorLimitIsRefusedUpFront) {
    RunForked([] {
        struct rlimit rl;
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = 64;
        ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
        int fd = MemFd("dup2-target");
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        o.map[1] = {100, fd};
        ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EBADF);
        close(fd);
    });
}

// The child itself fails to move a colliding source out of the way: parent fd 63 must become
// child fd 0 while child fd 63 takes parent fd 0, so 63 has to move above every number in the
// map (64), which RLIMIT_NOFILE = 64 forbids.
TEST_F(ExecFailureTest, Dup2FailsWhenACollidingSourceCannotMove) {
    RunForked([] {
        struct rlimit rl;
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = 64;
        ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
        int mem = MemFd("dup2-collision");
        ASSERT_EQ(dup3(mem, 63, O_CLOEXEC), 63);
        close(mem);
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        o.map[0] = {0, 63};
        o.map[1] = {63, 0};
        // The kernel answers F_DUPFD at the limit with EINVAL; valgrind, which keeps descriptors
        // of its own near the limit, answers EMFILE. Either way the step is dup2.
        fl_process *p = nullptr;
        fl_spawn_error e{-1, -1};
        int rc = fl_spawn(&o.o, &p, &e);
        EXPECT_TRUE(rc == -EINVAL || rc == -EMFILE) << "got " << rc << " (" << ErrName(-rc) << ")";
        EXPECT_EQ(e.step, FL_STEP_DUP2) << "got step " << fl_step_name(e.step);
        EXPECT_EQ(e.err, -rc);
        if (rc == 0) fl_process_close(p);
        close(63);
    });
}

// No descriptor left for the pidfd (or anything else): the spawn fails with EMFILE, and that
// answer is not cached as "no pidfd support" (see DESIGN.md: never cache EMFILE).
TEST_F(ExecFailureTest, DescriptorExhaustionIsEMFILEAndNotCached) {
    RunForked([] {
        // Learn the strategy first, with descriptors to spare.
        RunSpec ok;
        ok.argv = HelperArgv("exit", {"0"});
        ASSERT_TRUE(RunHelper(ok).spawned);
        int strategy = fl_spawn_strategy_current();

        struct rlimit rl;
        ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = 256;
        ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
        std::vector<int> filler;
        for (;;) {
            int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) break;
            filler.push_back(fd);
        }
        ASSERT_EQ(errno, EMFILE);
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        fl_process *p = nullptr;
        fl_spawn_error e{-1, -1};
        int rc = fl_spawn(&o.o, &p, &e);
        EXPECT_EQ(rc, -EMFILE);
        EXPECT_EQ(e.err, EMFILE);
        EXPECT_NE(e.step, FL_STEP_NONE) << "step " << fl_step_name(e.step);
        EXPECT_FALSE(HasWaitableChild());
        if (rc == 0) {
            fl_exit_status st{};
            fl_process_wait(p, -1, &st);
            fl_process_close(p);
        }
        for (int i = 0; i < 16 && !filler.empty(); i++) {
            close(filler.back());
            filler.pop_back();
        }
        EXPECT_TRUE(ChildPids().empty());  // needs a descriptor to read /proc
        EXPECT_EQ(fl_spawn_strategy_current(), strategy) << "EMFILE moved the ladder down";
        RunResult again = RunHelper(ok);
        EXPECT_TRUE(again.spawned);
        EXPECT_EQ(again.status.code, 0);
        EXPECT_EQ(fl_spawn_strategy_current(), strategy);
        for (int fd : filler) close(fd);
    });
}

// RLIMIT_NPROC reached: clone fails with EAGAIN at FL_STEP_FORK, and the ladder stays put.
TEST_F(ExecFailureTest, ProcessLimitIsEAGAINAtFork) {
    RunForked([] {
        RunSpec ok;
        ok.argv = HelperArgv("exit", {"0"});
        ASSERT_TRUE(RunHelper(ok).spawned);
        int strategy = fl_spawn_strategy_current();
        DropPrivileges();  // root ignores RLIMIT_NPROC
        struct rlimit rl = {0, 0};
        ASSERT_EQ(setrlimit(RLIMIT_NPROC, &rl), 0);
        Opts o(SelfExe(), HelperArgv("exit", {"0"}));
        ExpectSpawnFails(o.o, FL_STEP_FORK, EAGAIN);
        EXPECT_EQ(fl_spawn_strategy_current(), strategy) << "EAGAIN moved the ladder down";
    });
}

// --- validation --------------------------------------------------------------------------------

TEST_F(ExecFailureTest, NullProgramIsEINVAL) {
    Opts o(SelfExe());
    o.o.program = nullptr;
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EINVAL);
}

TEST_F(ExecFailureTest, DuplicateChildFdIsEINVAL) {
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.map[0] = {2, 2};
    o.map[1] = {2, 2};
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EINVAL);
}

TEST_F(ExecFailureTest, NegativeChildFdIsEINVAL) {
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.map[0] = {-1, 2};
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EINVAL);
}

TEST_F(ExecFailureTest, NegativeParentFdIsEBADF) {
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.map[0] = {1, -1};
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EBADF);
}

TEST_F(ExecFailureTest, ClosedParentFdIsEBADF) {
    int fd = MemFd("closed");
    ASSERT_EQ(close(fd), 0);
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.map[0] = {1, fd};
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EBADF);
}

TEST_F(ExecFailureTest, DescriptorCountWithoutMapIsEINVAL) {
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.o.fds = nullptr;
    o.o.nfds = 2;
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EINVAL);
}

TEST_F(ExecFailureTest, GroupCountWithoutGroupsIsEINVAL) {
    Opts o(SelfExe(), HelperArgv("exit", {"0"}));
    o.o.flags = FL_SPAWN_SET_GROUPS;
    o.o.groups = nullptr;
    o.o.ngroups = 3;
    ExpectSpawnFails(o.o, FL_STEP_VALIDATE, EINVAL);
}

TEST_F(ExecFailureTest, ErrorPointerMayBeNull) {
    auto fds = OpenFds();
    TempDir d;
    std::string missing = d.Join("missing");
    Opts o(missing);
    fl_process *p = nullptr;
    EXPECT_EQ(fl_spawn(&o.o, &p, nullptr), -ENOENT);
    ExpectNothingLeft(fds);
}

// An empty program name names no file (execvp says ENOENT); which step says so is the
// implementation's choice.
TEST_F(ExecFailureTest, EmptyProgramIsENOENT) {
    auto fds = OpenFds();
    Opts o("");
    fl_process *p = nullptr;
    fl_spawn_error e{-1, -1};
    EXPECT_EQ(fl_spawn(&o.o, &p, &e), -ENOENT);
    EXPECT_EQ(e.err, ENOENT);
    EXPECT_NE(e.step, FL_STEP_NONE);
    ExpectNothingLeft(fds);
}

// Many failures in a row leave nothing behind either (a leak of one fd per failure shows here
// even if a single test would miss it in noise).
TEST_F(ExecFailureTest, RepeatedFailuresLeakNothing) {
    auto fds = OpenFds();
    TempDir d;
    std::string missing = d.Join("missing");
    std::string cwd = d.Join("no-dir");
    for (int i = 0; i < 200; i++) {
        Opts o(i % 2 ? missing : SelfExe(), HelperArgv("exit", {"0"}));
        if (i % 2 == 0) o.o.cwd = cwd.c_str();
        fl_process *p = nullptr;
        fl_spawn_error e{};
        ASSERT_EQ(fl_spawn(&o.o, &p, &e), -ENOENT);
    }
    ExpectNothingLeft(fds);
}

}  // namespace
}  // namespace fltest
