// Whole-tree kill with cgroup v2: FL_SPAWN_INTO_CGROUP, fl_cgroup_kill, fl_cgroup_populated.
//
// Each test creates a private leaf (mkdir) under this process's own cgroup v2 directory, found
// through /proc/self/mountinfo (the cgroup2 mount, which may sit next to v1 hierarchies, e.g. at
// /sys/fs/cgroup/unified) and /proc/self/cgroup ("0::/path"). A machine without a writable cgroup2
// skips these tests and says why. Every directory made is removed again, after its processes are
// gone.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "internal.h"
#include "test_util.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

namespace fltest {
namespace {

struct MountEntry {
    std::string root, point, fstype;
};

std::vector<MountEntry> Mounts() {
    std::vector<MountEntry> out;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::vector<std::string> f;
        std::string w;
        while (ls >> w) f.push_back(w);
        size_t sep = 0;
        while (sep < f.size() && f[sep] != "-") sep++;
        if (f.size() < 5 || sep + 1 >= f.size()) continue;
        out.push_back({f[3], f[4], f[sep + 1]});
    }
    return out;
}

// The cgroup v2 directory of this process, or "" with *why set.
std::string OwnCgroup2Dir(std::string *rel, std::string *why) {
    const MountEntry *m2 = nullptr;
    std::vector<MountEntry> mounts = Mounts();
    for (const MountEntry &m : mounts) {
        if (m.fstype == "cgroup2") {
            m2 = &m;
            break;
        }
    }
    if (m2 == nullptr) {
        *why = "no cgroup2 file system is mounted (/proc/self/mountinfo)";
        return "";
    }
    std::ifstream in("/proc/self/cgroup");
    std::string line, path;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) == 0) path = line.substr(3);
    }
    if (path.empty()) {
        *why = "/proc/self/cgroup has no cgroup v2 line (0::/path)";
        return "";
    }
    std::string root = m2->root == "/" ? "" : m2->root;
    if (path.compare(0, root.size(), root) != 0) {
        *why = "this process's cgroup " + path + " is outside the cgroup2 mount at " + m2->point +
               " (root " + m2->root + ")";
        return "";
    }
    *rel = path;
    std::string sub = path.substr(root.size());
    return sub == "/" ? m2->point : m2->point + sub;
}

std::string ReadText(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// What /proc/<pid>/cgroup says for cgroup v2.
std::string CgroupOf(int64_t pid) {
    std::istringstream in(ReadText("/proc/" + std::to_string(pid) + "/cgroup"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) == 0) return line.substr(3);
    }
    return "";
}

std::vector<int> Procs(const std::string &dir) {
    std::istringstream in(ReadText(dir + "/cgroup.procs"));
    std::vector<int> pids;
    int pid;
    while (in >> pid) pids.push_back(pid);
    return pids;
}

// Gone, or a zombie nobody has reaped yet.
bool IsDead(int pid) {
    std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return true;
    size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// This test binary is a child subreaper (main.cc, for the detached tests): orphans of the tree
// come back to it as zombies. Reaps those of `pids`, and any other dead adoptee: a process that
// exited before `pids` was listed (the "( sleep & )" subshell) may still have been a zombie child
// of the killed shell, and comes back here too. Every adoptee is dead when this is called.
void ReapAdopted(const std::vector<int> &pids) {
    std::vector<int> kids = ChildPids();
    for (int pid : pids) {
        for (int kid : kids) {
            if (kid == pid) waitpid(pid, nullptr, 0);
        }
    }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

fl_process *SpawnInto(int cgroup_fd, const std::string &program, const std::vector<std::string> &argv,
                      fl_spawn_error *error, int *rc) {
    fl_process *p = nullptr;
    *rc = SpawnQuietWith(program, argv, FL_SPAWN_INTO_CGROUP, cgroup_fd, &p, error);
    return p;
}

fl_process *SpawnSleeperInto(int cgroup_fd) {
    fl_spawn_error e{};
    int rc;
    fl_process *p = SpawnInto(cgroup_fd, SelfExe(), HelperArgv("sleep"), &e, &rc);
    EXPECT_EQ(rc, 0) << "spawn into the cgroup failed at " << fl_step_name(e.step) << ": "
                     << strerror(e.err);
    return p;
}

// Polls until fl_cgroup_populated(fd) == want (or 10 s); returns the last answer.
int AwaitPopulated(int fd, int want) {
    int64_t deadline = NowMs() + 10000;
    int rc;
    while ((rc = fl_cgroup_populated(fd)) != want && NowMs() < deadline) usleep(2000);
    return rc;
}

class CgroupTest : public LeakCheckedTest {
  protected:
    void SetUp() override {
        LeakCheckedTest::SetUp();
        if (HasFatalFailure()) return;
        std::string why, rel;
        std::string own = OwnCgroup2Dir(&rel, &why);
        if (own.empty()) GTEST_SKIP() << "no writable cgroup v2 here: " << why;
        static int counter;
        std::string name = "forkless-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
        leaf_ = own + "/" + name;
        leaf_rel_ = (rel == "/" ? "" : rel) + "/" + name;
        if (mkdir(leaf_.c_str(), 0755) != 0) {
            int err = errno;
            GTEST_SKIP() << "no writable cgroup v2 here: mkdir " << leaf_ << ": " << strerror(err);
        }
        dirs_.push_back(leaf_);
        fd_ = OpenDir(leaf_);
        ASSERT_GE(fd_, 0) << leaf_ << ": " << strerror(errno);
    }

    void TearDown() override {
        if (fd_ >= 0 && fl_cgroup_populated(fd_) == 1) {
            ADD_FAILURE() << "processes left in " << leaf_;
            fl_cgroup_kill(fd_);
            AwaitPopulated(fd_, 0);
        }
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            if (rmdir(it->c_str()) != 0 && errno != ENOENT) {
                ADD_FAILURE() << "rmdir " << *it << ": " << strerror(errno);
            }
        }
        for (int fd : fds_) close(fd);
        if (fd_ >= 0) close(fd_);
        LeakCheckedTest::TearDown();
    }

    static int OpenDir(const std::string &path) {
        return open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }

    // Makes leaf_/name and opens it; the fixture removes and closes both.
    int MkSub(const std::string &name) {
        std::string path = leaf_ + "/" + name;
        EXPECT_EQ(mkdir(path.c_str(), 0755), 0) << path << ": " << strerror(errno);
        dirs_.push_back(path);
        int fd = OpenDir(path);
        EXPECT_GE(fd, 0) << path << ": " << strerror(errno);
        if (fd >= 0) fds_.push_back(fd);
        return fd;
    }

    void SpawnOnRungAndCheck(const std::vector<SeccompRule> &rules, int expected_strategy) {
        if (UnderValgrind()) GTEST_SKIP() << "seccomp filters also filter valgrind's own calls";
        RunForked([&] {
            ASSERT_EQ(InstallSeccomp(rules), 0);
            fl_process *p = SpawnSleeperInto(fd_);
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(fl_spawn_strategy_current(), expected_strategy);
            EXPECT_EQ(CgroupOf(fl_process_pid(p)), leaf_rel_);
            EXPECT_EQ(fl_cgroup_populated(fd_), 1);
            KillAndWait(p);
            fl_process_close(p);
        });
        EXPECT_EQ(AwaitPopulated(fd_, 0), 0);
    }

    // A tree in the leaf: sh with three background sleeps (one in a session of its own, one
    // orphaned at once by a subshell), plus a sleeper of ours in a child cgroup. `kill` must end
    // every one of them.
    void KillTree(const std::function<int(int)> &kill_fn, int expected_sig = SIGKILL) {
        int inner_fd = MkSub("inner");
        ASSERT_GE(inner_fd, 0);
        fl_spawn_error e{};
        int rc;
        fl_process *sh = SpawnInto(
            fd_, "/bin/sh",
            {"sh", "-c", "sleep 1000 & setsid sleep 1000 & (sleep 1000 &); wait"}, &e, &rc);
        ASSERT_EQ(rc, 0) << fl_step_name(e.step) << ": " << strerror(e.err);
        fl_process *inner = SpawnSleeperInto(inner_fd);
        ASSERT_NE(inner, nullptr);

        // Wait for the three sleeps, the setsid one in its own session.
        std::vector<int> sleeps;
        bool own_session = false;
        int64_t deadline = NowMs() + 10000;
        while (NowMs() < deadline) {
            sleeps.clear();
            own_session = false;
            for (int pid : Procs(leaf_)) {
                std::string comm = ReadText("/proc/" + std::to_string(pid) + "/comm");
                if (comm != "sleep\n") continue;
                sleeps.push_back(pid);
                if (getsid(pid) == pid) own_session = true;
            }
            if (sleeps.size() == 3 && own_session) break;
            usleep(2000);
        }
        ASSERT_EQ(sleeps.size(), 3u);
        ASSERT_TRUE(own_session) << "no sleep called setsid";
        std::vector<int> all = Procs(leaf_);
        EXPECT_EQ(CgroupOf(fl_process_pid(inner)), leaf_rel_ + "/inner");
        EXPECT_EQ(fl_cgroup_populated(fd_), 1);
        EXPECT_EQ(fl_cgroup_populated(inner_fd), 1);

        EXPECT_EQ(kill_fn(fd_), 0);

        for (fl_process *p : {sh, inner}) {
            fl_exit_status st{};
            EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
            EXPECT_EQ(st.kind, FL_SIGNALED);
            EXPECT_EQ(st.code, expected_sig);
            fl_process_close(p);
        }
        EXPECT_EQ(AwaitPopulated(fd_, 0), 0);
        EXPECT_EQ(fl_cgroup_populated(inner_fd), 0);
        EXPECT_TRUE(Procs(leaf_).empty());
        for (int pid : all) EXPECT_TRUE(IsDead(pid)) << "pid " << pid << " survived";
        ReapAdopted(all);
        EXPECT_EQ(rmdir((leaf_ + "/inner").c_str()), 0) << strerror(errno);
        EXPECT_EQ(rmdir(leaf_.c_str()), 0) << strerror(errno);
    }

    std::string leaf_;      // absolute path of the private leaf
    std::string leaf_rel_;  // the same as /proc/<pid>/cgroup names it
    int fd_ = -1;
    std::vector<std::string> dirs_;
    std::vector<int> fds_;
};

TEST_F(CgroupTest, SpawnIntoLeafOnTheTopRung) {
    int before = fl_spawn_strategy_current();
    fl_process *p = SpawnSleeperInto(fd_);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(CgroupOf(fl_process_pid(p)), leaf_rel_);
    EXPECT_EQ(fl_cgroup_populated(fd_), 1);
    EXPECT_EQ(fl_spawn_strategy_current(), before);
    if (!UnderValgrind()) {
        EXPECT_EQ(before, ExpectedTopStrategy());
    }
    KillAndWait(p);
    fl_process_close(p);
}

// clone3 denied (a filter answering EINVAL, like a kernel that does not know CLONE_INTO_CGROUP):
// the retry without the flag fails the same way, so clone3 is really not here; the child of the
// clone rung writes cgroup.procs itself.
TEST_F(CgroupTest, SpawnIntoLeafOnTheCloneRung) {
    SpawnOnRungAndCheck({{SYS_clone3, EINVAL}}, FL_STRATEGY_CLONE_PIDFD);
}

TEST_F(CgroupTest, SpawnIntoLeafWithoutPidfds) {
    SpawnOnRungAndCheck(NoPidfdSeccompRules(), FL_STRATEGY_PID_ONLY);
}

TEST_F(CgroupTest, KillEndsTheWholeTree) { KillTree(fl_cgroup_kill); }

// The path for kernels before 5.14 (this one has cgroup.kill): freeze, kill each PID, thaw.
TEST_F(CgroupTest, KillByFreezingEndsTheWholeTree) {
    KillTree([](int fd) { return fl_cgroup_signal_by_freezing(fd, SIGKILL); });
}

// Any other signal goes the freezing way too (cgroup.kill knows only SIGKILL); nobody here
// handles SIGTERM, so it ends the tree as well, and the status shows it was TERM.
TEST_F(CgroupTest, SignalSendsThatSignalToTheWholeTree) {
    KillTree(
        [this](int fd) {
            int rc = fl_cgroup_signal(fd, SIGTERM);
            EXPECT_EQ(ReadText(leaf_ + "/cgroup.freeze"), "0\n");  // thawed again
            return rc;
        },
        SIGTERM);
}

TEST_F(CgroupTest, SignalRejectsBadSignalNumbers) {
    EXPECT_EQ(fl_cgroup_signal(fd_, 0), -EINVAL);
    EXPECT_EQ(fl_cgroup_signal(fd_, -1), -EINVAL);
    EXPECT_EQ(fl_cgroup_signal(fd_, 65), -EINVAL);
    EXPECT_EQ(fl_cgroup_signal(fd_, SIGKILL), 0);  // empty: nobody to signal, not an error
}

TEST_F(CgroupTest, KillByFreezingThawsAndLeavesAFrozenCgroupFrozen) {
    ASSERT_EQ(fl_cgroup_signal_by_freezing(fd_, SIGKILL), 0);  // empty: nothing to kill
    EXPECT_EQ(ReadText(leaf_ + "/cgroup.freeze"), "0\n");
    // Not spawned after the freeze: a vfork-style spawn into a frozen cgroup waits for the thaw.
    fl_process *p = SpawnSleeperInto(fd_);
    ASSERT_NE(p, nullptr);
    std::ofstream(leaf_ + "/cgroup.freeze") << "1";
    ASSERT_EQ(ReadText(leaf_ + "/cgroup.freeze"), "1\n");
    EXPECT_EQ(fl_cgroup_signal_by_freezing(fd_, SIGKILL), 0);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
    EXPECT_EQ(st.code, SIGKILL);
    fl_process_close(p);
    EXPECT_EQ(ReadText(leaf_ + "/cgroup.freeze"), "1\n");
    std::ofstream(leaf_ + "/cgroup.freeze") << "0";
}

// "populated" counts live processes: an exited child that nobody has reaped yet no longer does.
TEST_F(CgroupTest, PopulatedFollowsTheLastProcess) {
    EXPECT_EQ(fl_cgroup_populated(fd_), 0);
    fl_process *p = SpawnSleeperInto(fd_);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(fl_cgroup_populated(fd_), 1);
    EXPECT_EQ(rmdir(leaf_.c_str()), -1);
    EXPECT_EQ(errno, EBUSY);
    ASSERT_EQ(fl_process_signal(p, SIGKILL), 0);
    AwaitExitWithoutReaping(p);
    EXPECT_EQ(AwaitPopulated(fd_, 0), 0);
    fl_process_close(p);
    EXPECT_EQ(rmdir(leaf_.c_str()), 0) << strerror(errno);
}

// A daemon (fl_spawn_detached) is not our child and leads its own session: the cgroup still
// holds it.
TEST_F(CgroupTest, DetachedSpawnIntoLeafIsKilledWithIt) {
    if (UnderValgrind()) GTEST_SKIP() << "valgrind does not start the daemon (see DetachedTest)";
    CStrings argv(HelperArgv("sleep"));
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(devnull, 0);
    fl_fd_map map[] = {{0, devnull}, {1, devnull}, {2, devnull}};
    fl_spawn_options o;
    memset(&o, 0, sizeof o);
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 3;
    o.flags = FL_SPAWN_INTO_CGROUP;
    o.cgroup_fd = fd_;
    int64_t pid = 0;
    fl_spawn_error e{};
    ASSERT_EQ(fl_spawn_detached(&o, &pid, &e), 0) << fl_step_name(e.step) << ": " << strerror(e.err);
    close(devnull);
    EXPECT_EQ(CgroupOf(pid), leaf_rel_);
    EXPECT_EQ(fl_cgroup_kill(fd_), 0);
    EXPECT_EQ(AwaitPopulated(fd_, 0), 0);
    ReapAdopted({(int)pid});
}

// The kernel refuses the cgroup (a "domain invalid" cgroup: a sibling of a threaded one cannot
// take processes). clone3 fails with CLONE_INTO_CGROUP, the retry without it works, the child's
// own write to cgroup.procs fails: the spawn fails at FL_STEP_CGROUP and clone3 stays the rung.
TEST_F(CgroupTest, KernelRefusalDoesNotDemoteTheStrategy) {
    int threaded = MkSub("threaded");
    int invalid = MkSub("invalid");
    ASSERT_GE(threaded, 0);
    ASSERT_GE(invalid, 0);
    std::ofstream(leaf_ + "/threaded/cgroup.type") << "threaded";
    ASSERT_EQ(ReadText(leaf_ + "/invalid/cgroup.type"), "domain invalid\n");

    int before = fl_spawn_strategy_current();
    auto fds = OpenFds();
    fl_spawn_error e{};
    int rc;
    fl_process *p = SpawnInto(invalid, SelfExe(), HelperArgv("exit", {"0"}), &e, &rc);
    EXPECT_EQ(p, nullptr);
    EXPECT_LT(rc, 0);
    EXPECT_EQ(e.step, FL_STEP_CGROUP) << fl_step_name(e.step);
    EXPECT_EQ(e.err, EOPNOTSUPP) << strerror(e.err);
    EXPECT_EQ(rc, -e.err);
    ExpectNothingLeft(fds);
    EXPECT_EQ(fl_spawn_strategy_current(), before);

    // The next spawn still uses the same rung, into a cgroup that takes it.
    fl_process *q = SpawnSleeperInto(fd_);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(fl_spawn_strategy_current(), before);
    EXPECT_EQ(CgroupOf(fl_process_pid(q)), leaf_rel_);
    KillAndWait(q);
    fl_process_close(q);
}

// cgroup_fd must be an open cgroup v2 directory: checked before anything is created, so a cgroup
// v1 directory never reaches clone3 (which would say EBADF) and can not touch the ladder.
TEST_F(CgroupTest, SpawnValidatesTheDescriptor) {
    TempDir tmp;
    int plain = OpenDir(tmp.path());
    ASSERT_GE(plain, 0);
    int procs_file = open((leaf_ + "/cgroup.procs").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(procs_file, 0);
    int v1 = -1;
    for (const MountEntry &m : Mounts()) {
        if (m.fstype == "cgroup") {
            v1 = OpenDir(m.point);
            break;
        }
    }
    int closed = dup(plain);  // a number that is not open (after every open above)
    close(closed);
    std::vector<std::pair<int, int>> cases = {{-1, EINVAL}, {closed, EBADF}, {plain, EINVAL},
                                              {procs_file, EINVAL}};
    if (v1 >= 0) cases.push_back({v1, EINVAL});

    int before = fl_spawn_strategy_current();
    for (auto [fd, err] : cases) {
        fl_spawn_error e{};
        int rc;
        fl_process *p = SpawnInto(fd, SelfExe(), HelperArgv("exit", {"0"}), &e, &rc);
        EXPECT_EQ(p, nullptr);
        EXPECT_EQ(rc, -err) << "fd " << fd;
        EXPECT_EQ(e.step, FL_STEP_VALIDATE);
        EXPECT_EQ(e.err, err);
    }
    EXPECT_EQ(fl_spawn_strategy_current(), before);
    if (v1 >= 0) close(v1);
    close(procs_file);
    close(plain);
}

TEST_F(CgroupTest, KillAndPopulatedRejectBadDescriptors) {
    TempDir tmp;
    int plain = OpenDir(tmp.path());
    ASSERT_GE(plain, 0);
    auto term = [](int fd) { return fl_cgroup_signal(fd, SIGTERM); };
    for (std::function<int(int)> fn : std::vector<std::function<int(int)>>{
             fl_cgroup_kill, fl_cgroup_populated, term}) {
        EXPECT_EQ(fn(-1), -EBADF);
        EXPECT_EQ(fn(plain), -EINVAL);
    }
    for (const MountEntry &m : Mounts()) {
        if (m.fstype != "cgroup") continue;
        int v1 = OpenDir(m.point);
        ASSERT_GE(v1, 0);
        EXPECT_EQ(fl_cgroup_populated(v1), -EINVAL) << m.point;
        EXPECT_EQ(fl_cgroup_kill(v1), -EINVAL) << m.point;
        close(v1);
        break;
    }
    close(plain);
}

// fl_cgroup_create + fl_cgroup_remove: the life of a leaf as a C caller (and the JVM) runs it.
TEST_F(CgroupTest, CreateSpawnIntoRemove) {
    int leaf = -1;
    ASSERT_EQ(fl_cgroup_create(fd_, "made", &leaf), 0);
    dirs_.push_back(leaf_ + "/made");  // the fixture's safety net, should this test fail midway
    EXPECT_EQ(fl_cgroup_create(fd_, "made", &leaf), -EEXIST);
    fl_process *p = SpawnSleeperInto(leaf);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(CgroupOf(fl_process_pid(p)), leaf_rel_ + "/made");
    EXPECT_EQ(fl_cgroup_remove(fd_, "made"), -EBUSY);  // a live process in it
    KillAndWait(p);
    fl_process_close(p);
    EXPECT_EQ(AwaitPopulated(leaf, 0), 0);
    EXPECT_EQ(fl_cgroup_remove(fd_, "made"), 0);
    EXPECT_EQ(fl_cgroup_remove(fd_, "made"), -ENOENT);
    close(leaf);
}

TEST_F(CgroupTest, CreateAndRemoveRejectBadInput) {
    int out = -1;
    for (const char *bad : {"", ".", "..", "a/b", "/abs"}) {
        EXPECT_EQ(fl_cgroup_create(fd_, bad, &out), -EINVAL) << bad;
        EXPECT_EQ(fl_cgroup_remove(fd_, bad), -EINVAL) << bad;
    }
    EXPECT_EQ(fl_cgroup_create(fd_, nullptr, &out), -EINVAL);
    EXPECT_EQ(fl_cgroup_create(fd_, "x", nullptr), -EINVAL);
    EXPECT_EQ(fl_cgroup_create(-1, "x", &out), -EBADF);
    TempDir tmp;
    int plain = OpenDir(tmp.path());
    ASSERT_GE(plain, 0);
    EXPECT_EQ(fl_cgroup_create(plain, "x", &out), -EINVAL);  // not a cgroup: nothing made
    EXPECT_NE(access((tmp.path() + "/x").c_str(), F_OK), 0);
    EXPECT_EQ(fl_cgroup_remove(plain, "x"), -EINVAL);
    close(plain);
    EXPECT_EQ(out, -1);
}

// FL_OPEN_DIRECTORY: how the JVM opens a cgroup (and only for reading).
TEST_F(CgroupTest, OpenDirectory) {
    fl_fd fd = -1;
    ASSERT_EQ(fl_fd_open(leaf_.c_str(), FL_OPEN_READ | FL_OPEN_DIRECTORY, 0, &fd), 0);
    EXPECT_EQ(fl_cgroup_populated(fd), 0);
    fl_fd_close(fd);
    EXPECT_EQ(fl_fd_open((leaf_ + "/cgroup.procs").c_str(), FL_OPEN_READ | FL_OPEN_DIRECTORY, 0, &fd),
              -ENOTDIR);
    EXPECT_EQ(fl_fd_open(leaf_.c_str(), FL_OPEN_WRITE | FL_OPEN_DIRECTORY, 0, &fd), -EINVAL);
}

// fl_cgroup_claim: one holder per open file description; released when it is closed, also by a
// process that dies (a forked child here holds its own description and is killed).
TEST_F(CgroupTest, ClaimIsExclusiveAndDiesWithItsHolder) {
    int mine = OpenDir(leaf_);
    ASSERT_GE(mine, 0);
    EXPECT_EQ(fl_cgroup_claim(mine, 0), 0);
    EXPECT_EQ(fl_cgroup_claim(mine, 0), 0);  // the holder again: still its own
    int other = OpenDir(leaf_);
    ASSERT_GE(other, 0);
    EXPECT_EQ(fl_cgroup_claim(other, 0), -EWOULDBLOCK);
    close(mine);
    EXPECT_EQ(fl_cgroup_claim(other, 0), 0);
    close(other);

    int ready[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int fd = OpenDir(leaf_);
        char ok = fd >= 0 && fl_cgroup_claim(fd, 1) == 0 ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1) _exit(2);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char ok = 0;
    ASSERT_EQ(read(ready[0], &ok, 1), 1);
    close(ready[0]);
    EXPECT_EQ(ok, 'y');
    int probe = OpenDir(leaf_);
    ASSERT_GE(probe, 0);
    EXPECT_EQ(fl_cgroup_claim(probe, 0), -EWOULDBLOCK);  // held by a live process
    kill(pid, SIGKILL);
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_EQ(fl_cgroup_claim(probe, 0), 0);  // the kernel dropped it with the process
    close(probe);
}

TEST_F(CgroupTest, ClaimRejectsBadDescriptors) {
    EXPECT_EQ(fl_cgroup_claim(-1, 0), -EBADF);
    TempDir tmp;
    int plain = OpenDir(tmp.path());
    ASSERT_GE(plain, 0);
    EXPECT_EQ(fl_cgroup_claim(plain, 0), -EINVAL);
    close(plain);
}

TEST_F(CgroupTest, StepName) { EXPECT_STREQ(fl_step_name(FL_STEP_CGROUP), "cgroup"); }

}  // namespace
}  // namespace fltest
