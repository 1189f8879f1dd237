// fl_process_stats and fl_process_signal_group: acting on a child through procfs and its process
// group, never on a recycled PID.
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
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

namespace fltest {
namespace {

class GroupSignalTest : public LeakCheckedTest {};

static fl_process *SpawnGroupLeader(const char *script) {
    fl_process *p = nullptr;
    EXPECT_EQ(SpawnQuietWith("/bin/sh", {"sh", "-c", script}, FL_SPAWN_NEW_PROCESS_GROUP, -1, &p, nullptr), 0);
    return p;
}

// Counts the live (not zombie) members of a process group, from /proc/<pid>/stat.
static int GroupSize(pid_t pgid) {
    int n = 0;
    DIR *d = opendir("/proc");
    if (d == nullptr) return -1;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        if (f == nullptr) continue;
        char buf[512];
        if (fgets(buf, sizeof buf, f) != nullptr) {
            char *close = strrchr(buf, ')');
            char state = 0;
            long ppid = 0, pgrp = 0;
            if (close != nullptr && sscanf(close + 2, "%c %ld %ld", &state, &ppid, &pgrp) == 3 && pgrp == pgid
                && state != 'Z') {
                n++;
            }
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

TEST_F(GroupSignalTest, KillsEveryMemberWhileTheLeaderIsUnreaped) {
    fl_process *p = SpawnGroupLeader("sleep 30 & sleep 30 & wait");
    ASSERT_NE(p, nullptr);
    pid_t pgid = (pid_t)fl_process_pid(p);
    int64_t deadline = NowMs() + 5000;
    while (GroupSize(pgid) < 3 && NowMs() < deadline) usleep(10000);
    ASSERT_EQ(GroupSize(pgid), 3);
    EXPECT_EQ(fl_process_signal_group(p, SIGKILL), 0);
    fl_exit_status st;
    ASSERT_EQ(fl_process_wait(p, -1, &st), 1);
    // The killed sleeps were re-parented to this process (a subreaper, see main.cc) when the
    // shell died, before its reap: reap them here.
    while (waitpid(-pgid, nullptr, 0) > 0 || errno == EINTR) {
    }
    EXPECT_EQ(GroupSize(pgid), 0);
    EXPECT_EQ(fl_process_signal_group(p, SIGKILL), -ESRCH) << "reaped: the group can no longer be named";
    fl_process_close(p);
}

TEST_F(GroupSignalTest, RefusesAChildThatDoesNotLeadAGroup) {
    fl_process *p = SpawnSleeper();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_process_signal_group(p, SIGKILL), -EINVAL);
    EXPECT_EQ(fl_process_signal_group(p, 65), -EINVAL);
    EXPECT_EQ(fl_process_signal_group(nullptr, SIGKILL), -EINVAL);
    KillAndWait(p);
    fl_process_close(p);
}

class DieWithParentTest : public LeakCheckedTest {};

// A process spawns a sleeper with FL_SPAWN_DIE_WITH_PARENT and is killed with SIGKILL (as a JVM
// may be) while the sleeper's holder thread waits: the sleeper is killed by the kernel. This test
// process is a subreaper (main.cc), so the orphan comes back to it and its status shows the SIGKILL.
// (A SIGKILL from outside also keeps valgrind's exit-time leak check, which would count the live
// holder thread's memory, out of the middle process.)
TEST_F(DieWithParentTest, ChildIsKilledWhenItsParentExits) {
    int pp[2];
    ASSERT_EQ(pipe2(pp, O_CLOEXEC), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = fork();
    ASSERT_GE(parent, 0);
    if (parent == 0) {
        // The middle process: spawns the sleeper, reports its PID and waits to be killed.
        fl_process *p = nullptr;
        SpawnQuietWith("/bin/sleep", {"sleep", "30"}, FL_SPAWN_DIE_WITH_PARENT, -1, &p, nullptr);
        int64_t pid = p != nullptr ? fl_process_pid(p) : -1;
        // Closing does not kill (the child goes to the orphan list).
        fl_process_close(p);
        if (write(pp[1], &pid, sizeof pid) != (ssize_t)sizeof pid) _exit(1);
        for (;;) pause();
    }
    close(pp[1]);
    int64_t pid = 0;
    ssize_t n = read(pp[0], &pid, sizeof pid);
    close(pp[0]);
    kill(parent, SIGKILL);
    int st = 0;
    ASSERT_EQ(waitpid(parent, &st, 0), parent);
    ASSERT_EQ(n, (ssize_t)sizeof pid);
    ASSERT_GT(pid, 0) << "the spawn failed";
    int64_t deadline = NowMs() + 5000;
    pid_t r;
    while ((r = waitpid((pid_t)pid, &st, WNOHANG)) == 0 && NowMs() < deadline) usleep(5000);
    if (r == 0) {
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, &st, 0);
        FAIL() << "the child outlived its parent by 5 s";
    }
    ASSERT_EQ(r, (pid_t)pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
}

TEST_F(DieWithParentTest, StepHasAName) {
    EXPECT_STREQ(fl_step_name(FL_STEP_PDEATHSIG), "pdeathsig");
}

}  // namespace
}  // namespace fltest
