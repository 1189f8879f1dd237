// argv, envp, cwd and program lookup reach the child exactly: bytes are bytes (empty strings,
// spaces, newlines, invalid UTF-8), sizes are large, and PATH comes from the place forkless.h says
// (envp's PATH if envp sets one, else this process's, else "/bin:/usr/bin"), with relative entries
// and relative programs taken from the child's cwd.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "test_util.h"

extern char **environ;

namespace fltest {
namespace {

class ArgsEnvTest : public LeakCheckedTest {};

std::vector<std::string> OwnEnviron() {
    std::vector<std::string> v;
    for (char **e = environ; *e != nullptr; e++) v.push_back(*e);
    return v;
}

// The strings of `of` that `in` lacks, for a readable failure message.
std::string Missing(const std::vector<std::string> &in, const std::vector<std::string> &of) {
    std::string out;
    for (const auto &s : of) {
        if (std::find(in.begin(), in.end(), s) == in.end()) out += "\n  " + s;
    }
    return out;
}

std::string RealPath(const std::string &p) {
    char buf[PATH_MAX];
    return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

TEST_F(ArgsEnvTest, ArgvPassedExactly) {
    RunSpec s;
    s.argv = HelperArgv("argv",
                        {"", "", " ", "  two  spaces  ", "tab\there", "new\nline", "quote\"'`$HOME",
                         "\xff\xfe\xfd", "\xc3\x28", "caf\xc3\xa9", "\xe2\x82\xac", "*", "-", "--",
                         std::string(5000, 'L'), "="},
                        1, "custom argv0 \xff");
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(SplitNul(r.out), s.argv);
    EXPECT_EQ(r.status.code, 0);
}

TEST_F(ArgsEnvTest, EmptyArgvZero) {
    RunSpec s;
    s.argv = HelperArgv("argv", {"x"}, 1, "");
    s.argv[0] = "";
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(SplitNul(r.out), s.argv);
}

// argv == NULL means { program, NULL }. The helper learns its mode from the environment then.
TEST_F(ArgsEnvTest, NullArgvMeansJustTheProgram) {
    std::vector<std::string> env = {"FL_TEST_HELPER=argv"};
    RunSpec s;
    s.argv_null = true;
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(SplitNul(r.out), std::vector<std::string>{SelfExe()});
}

TEST_F(ArgsEnvTest, TenThousandArguments) {
    std::vector<std::string> args;
    for (int i = 0; i < 10000; i++) {
        args.push_back(i % 97 == 0 ? std::string() : "arg " + std::to_string(i) + "\xff");
    }
    RunSpec s;
    s.argv = HelperArgv("argv", args);
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    std::vector<std::string> got = SplitNul(r.out);
    ASSERT_EQ(got.size(), s.argv.size());
    EXPECT_TRUE(got == s.argv);
}

// About 1.5 MiB of arguments in total, each below MAX_ARG_STRLEN.
TEST_F(ArgsEnvTest, LargeArgumentBlock) {
    std::vector<std::string> args;
    for (int i = 0; i < 12; i++) args.push_back(std::string(128 * 1024 - 1, (char)('a' + i)));
    RunSpec s;
    s.argv = HelperArgv("argv", args);
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_TRUE(SplitNul(r.out) == s.argv);
}

TEST_F(ArgsEnvTest, EnvironmentPassedExactly) {
    std::vector<std::string> env = {"A=1",
                                    "EMPTY=",
                                    "SPACES=  a  b  ",
                                    "NEWLINE=x\ny",
                                    "EQUALS=a=b=c",
                                    "BYTES=\xff\xfe",
                                    "UTF8=caf\xc3\xa9",
                                    "A=second A, kept as given",
                                    "PATH=/nonexistent-fl-path",
                                    "LONG=" + std::string(100000, 'v')};
    RunSpec s;
    s.argv = HelperArgv("env");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(SplitNul(r.out), env);
}

// envp = { NULL }: no environment at all.
TEST_F(ArgsEnvTest, EmptyEnvironment) {
    std::vector<std::string> env;
    RunSpec s;
    s.argv = HelperArgv("env");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.status.code, 0);
}

// envp = NULL inherits this process's environ, in order, as it is at spawn time.
TEST_F(ArgsEnvTest, NullEnvironmentInherits) {
    RunForked([] {
        ASSERT_EQ(setenv("FL_INHERITED", "yes \xff", 1), 0);
        ASSERT_EQ(unsetenv("TZ"), 0);
        RunSpec s;
        s.argv = HelperArgv("env");
        RunResult r = RunHelper(s);
        ASSERT_TRUE(r.spawned);
        std::vector<std::string> got = SplitNul(r.out), want = OwnEnviron();
        if (UnderValgrind()) {
            // valgrind rewrites LD_PRELOAD (its own preloads) in the environment of an execve.
            auto drop = [](std::vector<std::string> &v) {
                v.erase(std::remove_if(v.begin(), v.end(),
                                       [](const std::string &e) { return e.rfind("LD_PRELOAD=", 0) == 0; }),
                        v.end());
            };
            drop(got);
            drop(want);
        }
        EXPECT_TRUE(got == want) << "only in the child:" << Missing(want, got)
                                 << "\nonly here:" << Missing(got, want);
    });
}

TEST_F(ArgsEnvTest, CwdIsUsed) {
    TempDir d;
    std::string sub = d.MkDir("sub dir \xff");
    RunSpec s;
    s.argv = HelperArgv("cwd");
    s.cwd = sub.c_str();
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.out, RealPath(sub));
}

TEST_F(ArgsEnvTest, NullCwdInherits) {
    char buf[PATH_MAX];
    ASSERT_NE(getcwd(buf, sizeof buf), nullptr);
    RunSpec s;
    s.argv = HelperArgv("cwd");
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.out, buf);
}

TEST_F(ArgsEnvTest, RelativeCwdIsTakenFromOurs) {
    RunForked([] {
        TempDir d;
        d.MkDir("rel");
        ASSERT_EQ(chdir(d.path().c_str()), 0);
        RunSpec s;
        s.argv = HelperArgv("cwd");
        s.cwd = "rel";
        RunResult r = RunHelper(s);
        EXPECT_EQ(r.out, RealPath(d.Join("rel")));
    });
}

// --- program lookup ----------------------------------------------------------------------------

TEST_F(ArgsEnvTest, PathFromEnvpIsUsedForTheSearch) {
    TempDir d;
    std::string bin = d.MkDir("bin");
    std::string link = bin + "/fl-envp-prog";
    ASSERT_EQ(symlink(SelfExe().c_str(), link.c_str()), 0);
    std::vector<std::string> env = {"FIRST=1", "PATH=/nonexistent-a:" + bin + ":/nonexistent-b"};
    RunSpec s;
    s.program = "fl-envp-prog";
    s.argv = HelperArgv("exit", {"21"}, 1, "fl-envp-prog");
    s.envp = &env;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 21);
}

// envp's PATH wins over ours even when ours would find the program.
TEST_F(ArgsEnvTest, PathFromEnvpOverridesOurs) {
    RunForked([] {
        TempDir d;
        d.LinkSelf("fl-only-in-our-path");
        ASSERT_EQ(setenv("PATH", d.path().c_str(), 1), 0);
        std::vector<std::string> env = {"PATH=/nonexistent-fl"};
        CStrings envp(env);
        CStrings argv(HelperArgv("exit", {"0"}));
        fl_fd_map map[] = {{2, 2}};
        fl_spawn_options o{};
        o.program = "fl-only-in-our-path";
        o.argv = argv.get();
        o.envp = envp.get();
        o.fds = map;
        o.nfds = 1;
        fl_process *p = nullptr;
        fl_spawn_error e{};
        EXPECT_EQ(fl_spawn(&o, &p, &e), -ENOENT);
        EXPECT_EQ(e.step, FL_STEP_RESOLVE);
        if (p != nullptr && e.step == FL_STEP_NONE) {
            fl_exit_status st{};
            fl_process_wait(p, -1, &st);
            fl_process_close(p);
        }
    });
}

// envp without PATH: our PATH is searched.
TEST_F(ArgsEnvTest, OurPathWhenEnvpHasNone) {
    RunForked([] {
        TempDir d;
        d.LinkSelf("fl-in-our-path");
        ASSERT_EQ(setenv("PATH", d.path().c_str(), 1), 0);
        std::vector<std::string> env = {"X=1"};
        RunSpec s;
        s.program = "fl-in-our-path";
        s.argv = HelperArgv("exit", {"22"}, 1, "fl-in-our-path");
        s.envp = &env;
        RunResult r = RunHelper(s);
        EXPECT_EQ(r.status.code, 22);
    });
}

// No PATH anywhere: "/bin:/usr/bin".
TEST_F(ArgsEnvTest, DefaultPathWhenNoneIsSet) {
    RunForked([] {
        ASSERT_EQ(unsetenv("PATH"), 0);
        std::vector<std::string> env;
        RunSpec s;
        s.program = "sh";
        s.argv = {"sh", "-c", "exit 23"};
        s.envp = &env;
        RunResult r = RunHelper(s);
        EXPECT_EQ(r.status.code, 23);
    });
}

// A relative PATH entry is taken from the child's cwd, not ours.
TEST_F(ArgsEnvTest, RelativePathEntryIsTakenFromTheChildsCwd) {
    TempDir d;
    d.MkDir("relbin");
    d.LinkSelf("relbin/fl-rel-prog");
    std::vector<std::string> env = {"PATH=/nonexistent-fl:relbin"};
    RunSpec s;
    s.program = "fl-rel-prog";
    s.argv = HelperArgv("exit", {"24"}, 1, "fl-rel-prog");
    s.envp = &env;
    s.cwd = d.path().c_str();
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 24);
}

// An empty PATH entry means the current directory (execvp): here the child's cwd.
TEST_F(ArgsEnvTest, EmptyPathEntryMeansTheChildsCwd) {
    TempDir d;
    d.LinkSelf("fl-cwd-prog");
    std::vector<std::string> env = {"PATH=/nonexistent-fl::/nonexistent-fl-2"};
    RunSpec s;
    s.program = "fl-cwd-prog";
    s.argv = HelperArgv("exit", {"25"}, 1, "fl-cwd-prog");
    s.envp = &env;
    s.cwd = d.path().c_str();
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 25);
}

// A program with a '/' is not searched; a relative one is taken from the child's cwd.
TEST_F(ArgsEnvTest, RelativeProgramIsTakenFromTheChildsCwd) {
    TempDir d;
    d.MkDir("bin");
    d.LinkSelf("bin/fl-prog");
    for (const char *prog : {"./bin/fl-prog", "bin/fl-prog"}) {
        RunSpec s;
        s.program = prog;
        s.argv = HelperArgv("exit", {"26"}, 1, prog);
        s.cwd = d.path().c_str();
        RunResult r = RunHelper(s);
        ASSERT_TRUE(r.spawned) << prog;
        EXPECT_EQ(r.status.code, 26) << prog;
    }
}

// FL_SPAWN_NO_PATH_SEARCH: a bare name is used as given, i.e. relative to the child's cwd.
TEST_F(ArgsEnvTest, NoPathSearchUsesTheNameAsAPath) {
    TempDir d;
    d.LinkSelf("fl-bare");
    RunSpec s;
    s.program = "fl-bare";
    s.argv = HelperArgv("exit", {"27"}, 1, "fl-bare");
    s.cwd = d.path().c_str();
    s.flags = FL_SPAWN_NO_PATH_SEARCH;
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 27);
}

TEST_F(ArgsEnvTest, ProgramPathWithSpacesAndInvalidUtf8) {
    TempDir d;
    std::string link = d.LinkSelf("my prog \xff\xfe");
    RunSpec s;
    s.program = link;
    s.argv = HelperArgv("exit", {"28"}, 1, link);
    RunResult r = RunHelper(s);
    ASSERT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 28);
}

}  // namespace
}  // namespace fltest
