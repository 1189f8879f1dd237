// New session / process group flags, checked both by the child itself (getsid/getpgid after exec)
// and from outside (/proc/PID/stat fields 5 and 6: pgrp and session).
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace fltest {
namespace {

class SessionTest : public LeakCheckedTest {};

struct Ids {
    long pid = -1, ppid = -1, sid = -1, pgid = -1;
};

Ids ChildIds(unsigned flags, int pgid = 0) {
    RunSpec s;
    s.argv = HelperArgv("ids");
    s.flags = flags;
    s.pgid = pgid;
    RunResult r = RunHelper(s);
    Ids ids;
    EXPECT_EQ(sscanf(r.out.c_str(), "%ld %ld %ld %ld", &ids.pid, &ids.ppid, &ids.sid, &ids.pgid), 4)
        << r.out;
    EXPECT_EQ(ids.pid, r.pid);
    return ids;
}

// pgrp and session of a live process, from /proc/PID/stat.
bool StatIds(long pid, long *pgrp, long *session) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return false;
    size_t close_paren = line.rfind(')');  // comm may contain spaces and parentheses
    std::istringstream rest(line.substr(close_paren + 2));
    std::string state;
    long ppid;
    rest >> state >> ppid >> *pgrp >> *session;
    return !rest.fail();
}

TEST_F(SessionTest, DefaultInheritsSessionAndGroup) {
    Ids ids = ChildIds(0);
    EXPECT_EQ(ids.ppid, getpid());
    EXPECT_EQ(ids.sid, getsid(0));
    EXPECT_EQ(ids.pgid, getpgid(0));
}

TEST_F(SessionTest, NewSession) {
    Ids ids = ChildIds(FL_SPAWN_NEW_SESSION);
    EXPECT_EQ(ids.sid, ids.pid);
    EXPECT_EQ(ids.pgid, ids.pid);
    EXPECT_EQ(ids.ppid, getpid());
}

TEST_F(SessionTest, NewProcessGroupOfItsOwn) {
    Ids ids = ChildIds(FL_SPAWN_NEW_PROCESS_GROUP, 0);
    EXPECT_EQ(ids.pgid, ids.pid);
    EXPECT_EQ(ids.sid, getsid(0));
}

// Both flags with pgid 0: after setsid() the child already leads a new group of its own, so this
// asks for nothing more. (A setpgid(0, 0) after setsid() fails with EPERM: a session leader
// cannot change its group, so doing it literally makes this combination always fail.)
TEST_F(SessionTest, NewSessionAndNewProcessGroupTogether) {
    Ids ids = ChildIds(FL_SPAWN_NEW_SESSION | FL_SPAWN_NEW_PROCESS_GROUP, 0);
    EXPECT_EQ(ids.sid, ids.pid);
    EXPECT_EQ(ids.pgid, ids.pid);
}

// Seen from outside while the child runs, and a second child joining the first one's group.
TEST_F(SessionTest, JoinAnExistingProcessGroup) {
    CStrings argv(HelperArgv("sleep"));
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    o.flags = FL_SPAWN_NEW_PROCESS_GROUP;
    fl_process *leader = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &leader, &e), 0);
    long leader_pid = (long)fl_process_pid(leader);
    long pgrp = -1, session = -1;
    ASSERT_TRUE(StatIds(leader_pid, &pgrp, &session));
    EXPECT_EQ(pgrp, leader_pid);  // set before exec: visible as soon as fl_spawn returns
    EXPECT_EQ(session, getsid(0));

    Ids member = ChildIds(FL_SPAWN_NEW_PROCESS_GROUP, (int)leader_pid);
    EXPECT_EQ(member.pgid, leader_pid);
    EXPECT_EQ(member.sid, getsid(0));

    // The group can be signalled as a whole.
    EXPECT_EQ(kill(-(pid_t)leader_pid, SIGTERM), 0);
    fl_exit_status st{};
    ASSERT_EQ(fl_process_wait(leader, 10000, &st), 1);
    EXPECT_EQ(st.kind, FL_SIGNALED);
    EXPECT_EQ(st.code, SIGTERM);
    fl_process_close(leader);
}

TEST_F(SessionTest, NewSessionSeenFromOutside) {
    CStrings argv(HelperArgv("sleep"));
    fl_fd_map map[] = {{2, 2}};
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 1;
    o.flags = FL_SPAWN_NEW_SESSION;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn(&o, &p, &e), 0);
    long pid = (long)fl_process_pid(p);
    long pgrp = -1, session = -1;
    ASSERT_TRUE(StatIds(pid, &pgrp, &session));
    EXPECT_EQ(session, pid);
    EXPECT_EQ(pgrp, pid);
    KillAndWait(p);
    fl_process_close(p);
}

}  // namespace
}  // namespace fltest
