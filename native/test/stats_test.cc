// fl_process_stats: live figures of a running child, and never those of a recycled PID.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "test_util.h"

namespace fltest {
namespace {

class StatsTest : public LeakCheckedTest {};

TEST_F(StatsTest, SleepingChild) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    fl_stats st;
    // Right after the spawn the child may still be exec'ing (state R or D): wait for its sleep.
    int64_t deadline = NowMs() + 5000;
    int rc;
    while ((rc = fl_process_stats(p, &st)) == 0 && st.state != 'S' && NowMs() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(rc, 0);
    EXPECT_EQ(st.state, 'S');
    EXPECT_GE(st.threads, 1);
    EXPECT_GT(st.rss_kib, 0);
    EXPECT_GE(st.user_usec, 0);
    EXPECT_GE(st.system_usec, 0);
    KillAndWait(p);
    EXPECT_EQ(fl_process_stats(p, &st), -ESRCH);
    EXPECT_EQ(st.state, 0); // zeroed on failure
    fl_process_close(p);
}

TEST_F(StatsTest, BusyChildAccumulatesCpuTime) {
    fl_process *p = SpawnQuiet("/bin/sh", {"sh", "-c", "while :; do :; done"});
    ASSERT_NE(p, nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    fl_stats st;
    ASSERT_EQ(fl_process_stats(p, &st), 0);
    EXPECT_EQ(st.state, 'R');
    EXPECT_GE(st.user_usec + st.system_usec, 100000) << "400 ms of spinning, at least 100 ms of CPU";
    KillAndWait(p);
    fl_process_close(p);
}

// An exited child that nobody has reaped yet is still "ours" in procfs (a zombie): its figures are
// not reported as those of a running process.
TEST_F(StatsTest, ZombieIsReportedAsExited) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(fl_process_signal(p, SIGKILL), 0);
    AwaitExitWithoutReaping(p);
    fl_stats st;
    EXPECT_EQ(fl_process_stats(p, &st), -ESRCH);
    fl_exit_status status;
    ASSERT_EQ(fl_process_wait(p, -1, &status), 1);
    EXPECT_EQ(fl_process_stats(p, &st), -ESRCH);
    fl_process_close(p);
}

TEST_F(StatsTest, NullArguments) {
    fl_stats st;
    EXPECT_EQ(fl_process_stats(nullptr, &st), -EINVAL);
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_process_stats(p, nullptr), -EINVAL);
    KillAndWait(p);
    fl_process_close(p);
}

}  // namespace
}  // namespace fltest
