// Signal state across a spawn: handlers are not inherited (not even for the instant between
// clone and execve), the mask is cleared, SIGPIPE is back to default, SIG_IGN of other signals is
// inherited as POSIX says, and the parent's own state is untouched. See contract.h for details.
#include "contract.h"
#include "test_util.h"

namespace fltest {
namespace {

class SignalStateTest : public LeakCheckedTest {};

TEST_F(SignalStateTest, HandlersMaskAndIgnoredSignalsInTheChild) {
    RunForked([] { CheckSignalDispositionsInChild(); });
}

// Needs shared memory between parent and child to observe anything: under valgrind a
// CLONE_VM|CLONE_VFORK clone runs as a plain fork, so the check would be vacuous.
TEST_F(SignalStateTest, NoParentHandlerRunsInTheChildBeforeExec) {
    if (UnderValgrind()) GTEST_SKIP() << "valgrind turns CLONE_VM|CLONE_VFORK into fork";
    RunForked([] { CheckNoParentHandlerRunsInChild(); });
}

}  // namespace
}  // namespace fltest
