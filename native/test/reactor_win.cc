// The IOCP reactor: exits reported through the job messages on one completion port, confirmed
// against the process handle; already-exited children; tree kills; many children at once; wake.
// Each test prints which job messages arrived, as Wine and Windows differ there.
#include <map>

#include "test_util_win.h"

using namespace fltest;

namespace {

class ReactorWin : public LeakCheckedWinTest {};

void PrintMessages(fl_reactor *r, const char *what) {
    static const char *const names[16] = {
        "?", "END_OF_JOB_TIME", "END_OF_PROCESS_TIME", "ACTIVE_PROCESS_LIMIT",
        "ACTIVE_PROCESS_ZERO", "?", "NEW_PROCESS", "EXIT_PROCESS", "ABNORMAL_EXIT_PROCESS",
        "PROCESS_MEMORY_LIMIT", "JOB_MEMORY_LIMIT", "NOTIFICATION_LIMIT", "JOB_CYCLE_TIME_LIMIT",
        "SILO_TERMINATED", "?", "?"};
    uint64_t counts[16];
    fl_iocp_job_messages(r, counts);
    std::string s;
    for (int i = 0; i < 16; i++) {
        if (counts[i]) s += std::string(" ") + names[i] + "=" + std::to_string(counts[i]);
    }
    printf("job messages after %s:%s\n", what, s.empty() ? " none" : s.c_str());
}

// Collects exit events until `want` tokens are reported or 20 s pass.
std::map<uint64_t, fl_reactor_event> Collect(fl_reactor *r, size_t want) {
    std::map<uint64_t, fl_reactor_event> got;
    int64_t deadline = NowMs() + 20000;
    while (got.size() < want && NowMs() < deadline) {
        fl_reactor_event ev[16];
        int n = fl_reactor_wait(r, ev, 16, 500);
        EXPECT_GE(n, 0);
        for (int i = 0; i < n; i++) {
            EXPECT_EQ(ev[i].kind, FL_EVENT_EXIT);
            EXPECT_EQ(got.count(ev[i].token), 0u) << "token reported twice: " << ev[i].token;
            got[ev[i].token] = ev[i];
        }
    }
    return got;
}

void KillAndWaitQuiet(fl_process *p) {
    EXPECT_EQ(fl_process_signal(p, 9), 0);
    EXPECT_EQ(fl_process_wait(p, 10000, nullptr), 1);
    fl_process_close(p);
}

TEST_F(ReactorWin, OpenAndBackends) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_BEST, &r), 0);
    EXPECT_EQ(fl_reactor_backend(r), FL_REACTOR_IOCP);
    EXPECT_STREQ(fl_reactor_backend_name(FL_REACTOR_IOCP), "iocp");
    fl_reactor_close(r);
    EXPECT_EQ(fl_reactor_open(FL_REACTOR_EPOLL, &r), -ENOSYS);
    EXPECT_EQ(fl_reactor_open(99, &r), -EINVAL);
}

TEST_F(ReactorWin, ExitCodesAndAlreadyExited) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    // Exited before it was added: the re-check after binding reports it.
    fl_process *early = SpawnHelper("exit", {"3"});
    ASSERT_NE(early, nullptr);
    ASSERT_EQ(WaitForSingleObject((HANDLE)fl_process_fd(early), 20000), WAIT_OBJECT_0);
    ASSERT_EQ(fl_reactor_add(r, early, 100), 0);
    EXPECT_EQ(fl_reactor_add(r, early, 101), -EEXIST);
    // Waited for (status taken) before it was added.
    fl_process *waited = SpawnHelper("exit", {"4"});
    ASSERT_NE(waited, nullptr);
    ASSERT_EQ(fl_process_wait(waited, 20000, nullptr), 1);
    ASSERT_EQ(fl_reactor_add(r, waited, 200), 0);
    // Running when added, exits later.
    fl_process *later = SpawnHelper("sleep", {"100", "5"});
    ASSERT_NE(later, nullptr);
    ASSERT_EQ(fl_reactor_add(r, later, 300), 0);
    auto got = Collect(r, 3);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[100].result, 1);
    EXPECT_EQ(got[100].status.code, 3);
    EXPECT_EQ(got[200].status.code, 4);
    EXPECT_EQ(got[300].status.kind, FL_EXITED);
    EXPECT_EQ(got[300].status.code, 5);
    // The owner sees the same status.
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(later, 0, &st), 1);
    EXPECT_EQ(st.code, 5);
    // Reported once; adding again reports the same status at once.
    ASSERT_EQ(fl_reactor_add(r, early, 102), 0);
    got = Collect(r, 1);
    EXPECT_EQ(got[102].status.code, 3);
    PrintMessages(r, "exit codes");
    fl_process_close(early);
    fl_process_close(waited);
    fl_process_close(later);
    fl_reactor_close(r);
}

TEST_F(ReactorWin, KilledAndTreeKilled) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    fl_process *one = SpawnHelper("sleep");
    ASSERT_NE(one, nullptr);
    ASSERT_EQ(fl_reactor_add(r, one, 1), 0);
    fl_fd out = -1;
    fl_process *tree = SpawnHelperPiped("tree", {}, 0, &out);
    ASSERT_NE(tree, nullptr);
    DWORD grandchild = (DWORD)std::stoul(ReadLine(out));
    fl_fd_close(out);
    ASSERT_EQ(fl_reactor_add(r, tree, 2), 0);
    fl_reactor_event ev[4];
    EXPECT_EQ(fl_reactor_wait(r, ev, 4, 50), 0);
    PrintMessages(r, "binding two jobs (NEW_PROCESS for every process already in a job: sleeper, tree child, grandchild)");

    EXPECT_EQ(fl_process_signal(one, 9), 0);
    auto got = Collect(r, 1);
    ASSERT_EQ(got.count(1), 1u);
    EXPECT_EQ(got[1].status.kind, FL_SIGNALED);
    EXPECT_EQ(got[1].status.code, 9);
    PrintMessages(r, "TerminateProcess");

    EXPECT_EQ(fl_process_signal_group(tree, 9), 0);
    got = Collect(r, 1);
    ASSERT_EQ(got.count(2), 1u);
    EXPECT_EQ(got[2].status.kind, FL_SIGNALED);
    EXPECT_FALSE(PidAlive(grandchild, 10000));
    PrintMessages(r, "TerminateJobObject");
    uint64_t counts[16];
    fl_iocp_job_messages(r, counts);
    printf("ABNORMAL_EXIT_PROCESS %s (Windows sends it for a process killed with an exit code "
           "that looks like an exception; Wine never does)\n",
           counts[JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS] ? "seen" : "not seen");
    fl_process_close(one);
    fl_process_close(tree);
    fl_reactor_close(r);
}

TEST_F(ReactorWin, ManyAtOnceAndDroppedHandles) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    const int n = 40;
    for (int i = 0; i < n; i++) {
        fl_process *p = SpawnHelper("sleep", {std::to_string(i % 7 * 10), std::to_string(i)});
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(fl_reactor_add(r, p, (uint64_t)i), 0);
        fl_process_close(p);  // the reactor keeps its own reference
    }
    auto got = Collect(r, n);
    ASSERT_EQ(got.size(), (size_t)n);
    for (int i = 0; i < n; i++) {
        EXPECT_EQ(got[(uint64_t)i].result, 1);
        EXPECT_EQ(got[(uint64_t)i].status.kind, FL_EXITED);
        EXPECT_EQ(got[(uint64_t)i].status.code, i);
    }
    PrintMessages(r, "40 children");
    fl_reactor_close(r);
}

TEST_F(ReactorWin, WakeAndCloseWithRegistered) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    EXPECT_EQ(fl_reactor_wake(r), 0);
    fl_reactor_event ev[2];
    int64_t t0 = NowMs();
    EXPECT_EQ(fl_reactor_wait(r, ev, 2, 10000), 0);
    EXPECT_LT(NowMs() - t0, 5000);
    EXPECT_EQ(fl_reactor_wait(r, ev, 2, 0), 0);
    EXPECT_EQ(fl_reactor_wait(r, ev, 0, 0), -EINVAL);
    // Closed with a child still registered: the owner's handle keeps working.
    fl_process *p = SpawnHelper("sleep");
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(fl_reactor_add(r, p, 7), 0);
    fl_reactor_close(r);
    EXPECT_EQ(fl_process_signal(p, 9), 0);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
    EXPECT_EQ(st.code, 9);
    fl_process_close(p);
}

}  // namespace

namespace {

// A job can be bound to one completion port only: a handle that moves to a second reactor (the
// first was closed while it ran) is watched there by a thread-pool wait instead.
TEST_F(ReactorWin, SecondReactorAfterTheFirstClosed) {
    fl_process *p = SpawnHelper("sleep");
    ASSERT_NE(p, nullptr);
    fl_reactor *a = nullptr, *b = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &a), 0);
    ASSERT_EQ(fl_reactor_add(a, p, 1), 0);
    fl_reactor_close(a);
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &b), 0);
    ASSERT_EQ(fl_reactor_add(b, p, 2), 0);
    fl_reactor_event ev[2];
    EXPECT_EQ(fl_reactor_wait(b, ev, 2, 50), 0);
    EXPECT_EQ(fl_process_signal(p, 9), 0);
    auto got = Collect(b, 1);
    ASSERT_EQ(got.count(2), 1u);
    EXPECT_EQ(got[2].status.kind, FL_SIGNALED);
    EXPECT_EQ(got[2].status.code, 9);
    // And one closed while such a wait is pending leaves nothing behind either.
    fl_process *q = SpawnHelper("sleep");
    ASSERT_NE(q, nullptr);
    ASSERT_EQ(fl_reactor_add(b, q, 3), 0);
    fl_reactor_close(b);
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &a), 0);
    ASSERT_EQ(fl_reactor_add(a, q, 4), 0);  // first binding of q's job: to a
    fl_reactor_close(a);
    KillAndWaitQuiet(q);
    fl_process_close(p);
}

}  // namespace

namespace {

TEST_F(ReactorWin, CrashIsReportedWithItsNtstatus) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    fl_process *p = SpawnHelper("crash");
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(fl_reactor_add(r, p, 9), 0);
    auto got = Collect(r, 1);
    ASSERT_EQ(got.count(9), 1u);
    EXPECT_EQ(got[9].status.kind, FL_CRASHED);
    EXPECT_EQ(got[9].status.code, (int)0xC0000005u);
    PrintMessages(r, "a crash (Windows adds ABNORMAL_EXIT_PROCESS)");
    fl_process_close(p);
    fl_reactor_close(r);
}

}  // namespace

namespace {

// Job messages may be lost (Microsoft does not guarantee their delivery): the sweep still reports
// the exit, within about a second.
TEST_F(ReactorWin, LostJobMessagesAreCoveredByTheSweep) {
    fl_reactor *r = nullptr;
    ASSERT_EQ(fl_reactor_open(FL_REACTOR_IOCP, &r), 0);
    fl_iocp_ignore_job_messages(r, 1);
    fl_process *p = SpawnHelper("sleep", {"100", "11"});
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(fl_reactor_add(r, p, 5), 0);
    fl_process_close(p);
    int64_t t0 = NowMs();
    auto got = Collect(r, 1);
    int64_t elapsed = NowMs() - t0;
    ASSERT_EQ(got.count(5), 1u);
    EXPECT_EQ(got[5].status.code, 11);
    EXPECT_LT(elapsed, 5000);
    printf("reported by the sweep after %lld ms\n", (long long)elapsed);
    uint64_t counts[16];
    fl_iocp_job_messages(r, counts);
    EXPECT_GE(counts[JOB_OBJECT_MSG_NEW_PROCESS] + counts[JOB_OBJECT_MSG_EXIT_PROCESS] +
                  counts[JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO],
              1u)
        << "messages arrived (and were ignored)";
    fl_reactor_close(r);
}

}  // namespace
