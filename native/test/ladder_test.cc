// The fallback ladder, each rung exercised by really denying the system calls above it with a
// seccomp filter in a forked test process:
//
//   clone3 ENOSYS (kernel < 5.3, or a filter)      -> FL_STRATEGY_CLONE_PIDFD
//   clone3 EPERM  (older container profiles)       -> FL_STRATEGY_CLONE_PIDFD
//   clone3 EINVAL                                  -> FL_STRATEGY_CLONE_PIDFD
//   ... and clone() with CLONE_PIDFD -> EINVAL     -> FL_STRATEGY_PIDFD_OPEN
//   ... and pidfd_open, pidfd_send_signal ENOSYS   -> FL_STRATEGY_PID_ONLY
//
// The filter checks the architecture, and matches clone() on its flags, which x86_64 passes as
// the first argument (clone(flags, stack, parent_tid, child_tid, tls)). The parent spawns once
// before forking, so the forked process starts with "clone3 works" cached and must move down when
// the rung fails at spawn time. Every rung then runs the whole contract (contract.h), including
// the check that no parent handler runs in the child: without CLONE_CLEAR_SIGHAND the child has
// to reset handlers itself.
//
// Not run under valgrind: it emulates clone3 as ENOSYS and CLONE_VM|CLONE_VFORK as fork, and its
// own system calls pass through the filter.
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>

#include <set>
#include <string>

#include "contract.h"
#include "test_util.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace fltest {
namespace {

class LadderTest : public LeakCheckedTest {
  protected:
    void SetUp() override {
        LeakCheckedTest::SetUp();
        if (UnderValgrind()) GTEST_SKIP() << "seccomp ladder tests do not run under valgrind";
        // Warm the cache: the forked process inherits whatever this process learned.
        RunSpec s;
        s.argv = HelperArgv("exit", {"0"});
        ASSERT_TRUE(RunHelper(s).spawned);
    }

    void RunRung(const std::vector<SeccompRule> &rules, int expected) {
        RunForked([&] {
            ASSERT_EQ(InstallSeccomp(rules), 0);
            CheckSpawnContract(expected);
            CheckSignalDispositionsInChild();
            CheckNoParentHandlerRunsInChild();
        });
    }
};

const SeccompRule kClone3Enosys{SYS_clone3, ENOSYS};
const SeccompRule kClonePidfdEinval{SYS_clone, EINVAL, false, true, CLONE_PIDFD};
const SeccompRule kPidfdOpenEnosys{SYS_pidfd_open, ENOSYS};
const SeccompRule kPidfdSendSignalEnosys{SYS_pidfd_send_signal, ENOSYS};

// No filter: the top rung this kernel (and container) allows, clone3 on Linux >= 5.5.
TEST_F(LadderTest, TopRungWithoutFilter) {
    RunForked([] {
        CheckSpawnContract(ExpectedTopStrategy());
        CheckSignalDispositionsInChild();
        CheckNoParentHandlerRunsInChild();
    });
}

TEST_F(LadderTest, Clone3EnosysFallsBackToClonePidfd) {
    RunRung({kClone3Enosys}, FL_STRATEGY_CLONE_PIDFD);
}

TEST_F(LadderTest, Clone3EpermFallsBackToClonePidfd) {
    RunRung({{SYS_clone3, EPERM}}, FL_STRATEGY_CLONE_PIDFD);
}

TEST_F(LadderTest, Clone3EinvalFallsBackToClonePidfd) {
    RunRung({{SYS_clone3, EINVAL}}, FL_STRATEGY_CLONE_PIDFD);
}

TEST_F(LadderTest, ClonePidfdEinvalFallsBackToPidfdOpen) {
    RunRung({kClone3Enosys, kClonePidfdEinval}, FL_STRATEGY_PIDFD_OPEN);
}

TEST_F(LadderTest, NoPidfdAtAllFallsBackToPidOnly) {
    RunRung({kClone3Enosys, kClonePidfdEinval, kPidfdOpenEnosys, kPidfdSendSignalEnosys},
            FL_STRATEGY_PID_ONLY);
}

// pidfd_open works but pidfd_send_signal does not (a profile that predates it): a pidfd that
// cannot be signalled is no use, so the ladder must not settle on a pidfd rung that then fails
// every fl_process_signal with ENOSYS.
TEST_F(LadderTest, PidfdWithoutSendSignalStillSignals) {
    RunForked([] {
        ASSERT_EQ(InstallSeccomp({kClone3Enosys, kClonePidfdEinval, kPidfdSendSignalEnosys}), 0);
        fl_process *p = SpawnSleeper();
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(fl_process_signal(p, 0), 0);
        EXPECT_EQ(fl_process_signal(p, SIGTERM), 0);
        fl_exit_status st{};
        ASSERT_EQ(fl_process_wait(p, 10000, &st), 1);
        EXPECT_EQ(st.kind, FL_SIGNALED);
        EXPECT_EQ(st.code, SIGTERM);
        fl_process_close(p);
    });
}

// A rung learned in a forked child stays in that child: the parent keeps its own answer.
TEST_F(LadderTest, StrategyLearnedInAForkedChildStaysThere) {
    int before = fl_spawn_strategy_current();
    RunForked([] {
        ASSERT_EQ(InstallSeccomp({kClone3Enosys}), 0);
        RunSpec s;
        s.argv = HelperArgv("exit", {"5"});
        RunResult r = RunHelper(s);
        EXPECT_EQ(r.status.code, 5);
        EXPECT_EQ(fl_spawn_strategy_current(), FL_STRATEGY_CLONE_PIDFD);
    });
    EXPECT_EQ(fl_spawn_strategy_current(), before);
    RunSpec s;
    s.argv = HelperArgv("exit", {"6"});
    EXPECT_EQ(RunHelper(s).status.code, 6);
    EXPECT_EQ(fl_spawn_strategy_current(), before);
}

TEST_F(LadderTest, StrategyNames) {
    std::set<std::string> names;
    for (int s = FL_STRATEGY_CLONE3; s <= FL_STRATEGY_PID_ONLY; s++) {
        const char *n = fl_spawn_strategy_name(s);
        ASSERT_NE(n, nullptr);
        EXPECT_STRNE(n, "");
        names.insert(n);
    }
    EXPECT_EQ(names.size(), 4u);
}

}  // namespace
}  // namespace fltest
