// FL_SPAWN_DIE_WITH_PARENT and threads: the child must carry the per-thread attributes of the
// thread that called fl_spawn (credentials-relevant ones above all), must not die when that thread
// ends, and still dies with the process (stats_test.cc: ChildIsKilledWhenItsParentExits).
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "test_util.h"

namespace fltest {
namespace {

std::string ReadText(const std::string &path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "";
    std::string s = ReadAll(fd);
    close(fd);
    return s;
}

// The value of "Key:" in a /proc status file, tabs and spaces trimmed; "" if absent.
std::string StatusField(const std::string &status, const std::string &key) {
    size_t pos = status.find("\n" + key + ":");
    if (pos == std::string::npos) return "";
    pos += key.size() + 2;
    size_t end = status.find('\n', pos);
    std::string v = status.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    size_t b = v.find_first_not_of(" \t");
    return b == std::string::npos ? "" : v.substr(b);
}

// The nice value (field 19) of /proc/<pid>/stat or /proc/thread-self/stat.
int NiceOf(const std::string &stat) {
    size_t pos = stat.rfind(')');  // the command name may hold spaces
    if (pos == std::string::npos) return 1000;
    int field = 2;
    for (size_t i = pos + 1; i < stat.size(); i++) {
        if (stat[i] == ' ' && ++field == 19) return atoi(stat.c_str() + i + 1);
    }
    return 1000;
}

// Threads of this process named "forkless-holder".
int HolderThreads() {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == nullptr) return -1;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string comm = ReadText(std::string("/proc/self/task/") + e->d_name + "/comm");
        if (comm == "forkless-holder\n") n++;
    }
    closedir(d);
    return n;
}

bool Eventually(int64_t ms, const std::function<bool()> &cond) {
    int64_t deadline = NowMs() + ms;
    while (!cond()) {
        if (NowMs() > deadline) return false;
        usleep(2000);
    }
    return true;
}

// What the spawning thread saw of itself and of its child.
struct Seen {
    int rc = -1;
    fl_spawn_error error{};
    fl_process *child = nullptr;
    pid_t tid = 0;
    std::string self_status, child_status;
    int self_nice = 1000, child_nice = 1000;
    bool capbset_dropped = false;
    std::string setup_failure;
};

class DieWithParentThreadTest : public LeakCheckedTest {};

// Thread A sets no_new_privs, a seccomp filter of its own, a nice value, a CPU affinity and a
// smaller capability bounding set, all of them per-thread on Linux, then spawns a "cat" helper with
// FL_SPAWN_DIE_WITH_PARENT and ends. The child must have every one of A's attributes (none of them
// is the main thread's), and it must outlive A: it still answers on its pipe after A is gone.
// Before the holder thread, the core cloned on the calling thread and the child got SIGKILL when A
// ended (no answer); Forkless for Java cloned on its reactor thread and the child got that thread's
// attributes.
TEST_F(DieWithParentThreadTest, ChildHasTheCallingThreadsAttributesAndOutlivesIt) {
    if (UnderValgrind()) GTEST_SKIP() << "valgrind does not implement seccomp(2)";
    int in[2], out[2];
    ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    cpu_set_t allowed;
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int last_cpu = -1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &allowed)) last_cpu = c;
    }
    ASSERT_GE(last_cpu, 0);
    int main_nice = getpriority(PRIO_PROCESS, 0);

    Seen seen;
    std::thread a([&] {
        seen.tid = (pid_t)syscall(SYS_gettid);
        // Raising one's own nice value needs no privilege; PRIO_PROCESS with 0 is this thread.
        if (setpriority(PRIO_PROCESS, 0, main_nice + 3) != 0) seen.setup_failure = "setpriority";
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(last_cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) seen.setup_failure = "sched_setaffinity";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) seen.setup_failure = "PR_SET_NO_NEW_PRIVS";
        // Allows everything: only its presence is checked. Without TSYNC it is this thread's alone.
        struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {1, allow};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) seen.setup_failure = "seccomp";
        // Needs CAP_SETPCAP: checked only where it worked.
        seen.capbset_dropped = prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) == 0;

        CStrings argv(HelperArgv("cat"));
        fl_fd_map map[] = {{0, in[0]}, {1, out[1]}, {2, 2}};
        fl_spawn_options o;
        memset(&o, 0, sizeof o);
        o.program = SelfExe().c_str();
        o.argv = argv.get();
        o.fds = map;
        o.nfds = 3;
        o.flags = FL_SPAWN_DIE_WITH_PARENT;
        seen.rc = fl_spawn(&o, &seen.child, &seen.error);
        seen.self_status = ReadText("/proc/thread-self/status");
        seen.self_nice = NiceOf(ReadText("/proc/thread-self/stat"));
        if (seen.rc == 0) {
            std::string proc = "/proc/" + std::to_string(fl_process_pid(seen.child));
            seen.child_status = ReadText(proc + "/status");
            seen.child_nice = NiceOf(ReadText(proc + "/stat"));
        }
    });
    a.join();
    close(in[0]);
    close(out[1]);
    ASSERT_EQ(seen.setup_failure, "");
    ASSERT_EQ(seen.rc, 0) << fl_step_name(seen.error.step) << " " << seen.error.err;

    std::string main_status = ReadText("/proc/thread-self/status");
    // The attributes are A's, not the main thread's (else this test would prove nothing).
    EXPECT_EQ(StatusField(seen.self_status, "NoNewPrivs"), "1");
    EXPECT_NE(StatusField(main_status, "Seccomp"), StatusField(seen.self_status, "Seccomp"));
    EXPECT_NE(main_nice, seen.self_nice);

    EXPECT_EQ(StatusField(seen.child_status, "NoNewPrivs"), "1");
    EXPECT_EQ(StatusField(seen.child_status, "Seccomp"), "2");  // SECCOMP_MODE_FILTER
    EXPECT_EQ(StatusField(seen.child_status, "Seccomp_filters"),
              StatusField(seen.self_status, "Seccomp_filters"));
    EXPECT_EQ(StatusField(seen.child_status, "Cpus_allowed_list"), std::to_string(last_cpu));
    EXPECT_EQ(seen.child_nice, seen.self_nice);
    EXPECT_EQ(seen.child_nice, main_nice + 3);
    if (seen.capbset_dropped) {
        EXPECT_EQ(StatusField(seen.child_status, "CapBnd"), StatusField(seen.self_status, "CapBnd"));
        EXPECT_NE(StatusField(seen.child_status, "CapBnd"), StatusField(main_status, "CapBnd"));
    }

    // A has ended: pthread_join returns when its TID is cleared, before the kernel's exit_notify
    // (where a parent-death signal would be sent); the task leaves /proc only after that.
    std::string task = "/proc/self/task/" + std::to_string(seen.tid);
    EXPECT_TRUE(Eventually(5000, [&] { return access(task.c_str(), F_OK) != 0; }));
    // A SIGKILL sent at A's exit would be pending by now, and the child would never answer.
    ASSERT_TRUE(WriteAll(in[1], "still here\n"));
    std::string echoed;
    char buf[64];
    struct pollfd pfd = {out[0], POLLIN, 0};
    while (echoed.size() < 11 && poll(&pfd, 1, 5000) == 1) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n <= 0) break;
        echoed.append(buf, (size_t)n);
    }
    EXPECT_EQ(echoed, "still here\n") << "the child died with the thread that spawned it";

    close(in[1]);
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(seen.child, 10000, &st), 1);
    EXPECT_EQ(st.kind, FL_EXITED);
    EXPECT_EQ(st.code, 0);
    fl_process_close(seen.child);
    close(out[0]);
    // The holder ends once its child has exited.
    EXPECT_TRUE(Eventually(5000, [] { return HolderThreads() == 0; })) << HolderThreads();
}

// A holder ends with its child, whoever reaps it and whenever: many children at once, each ended
// by a kill, leave no holder thread and no descriptor behind.
TEST_F(DieWithParentThreadTest, EveryHolderEndsWithItsChild) {
    const int n = 20;
    fl_process *kids[n] = {};
    for (int i = 0; i < n; i++) {
        fl_spawn_error e{};
        ASSERT_EQ(SpawnQuietWith(SelfExe(), HelperArgv("sleep"), FL_SPAWN_DIE_WITH_PARENT, -1, &kids[i], &e), 0)
            << fl_step_name(e.step) << " " << e.err;
    }
    EXPECT_EQ(HolderThreads(), n);
    for (int i = 0; i < n; i++) KillAndWait(kids[i]);
    for (int i = 0; i < n; i++) fl_process_close(kids[i]);
    EXPECT_TRUE(Eventually(5000, [] { return HolderThreads() == 0; })) << HolderThreads();
}

// Without pidfds (PID-only rung) the holder waits by PID (waitid WNOWAIT, which leaves the zombie
// to the handle) and still ends with its child; the child still dies with its process.
TEST_F(DieWithParentThreadTest, HolderWithoutPidfdEndsWithItsChild) {
    if (UnderValgrind()) GTEST_SKIP() << "seccomp tests do not run under valgrind";
    RunForked([] {
        ASSERT_EQ(InstallSeccomp(NoPidfdSeccompRules()), 0);
        fl_process *p = nullptr;
        fl_spawn_error e{};
        ASSERT_EQ(SpawnQuietWith(SelfExe(), HelperArgv("sleep"), FL_SPAWN_DIE_WITH_PARENT, -1, &p, &e), 0)
            << fl_step_name(e.step) << " " << e.err;
        ASSERT_EQ(fl_spawn_strategy_current(), FL_STRATEGY_PID_ONLY) << StrategyName(fl_spawn_strategy_current());
        ASSERT_EQ(fl_process_fd(p), -1);
        EXPECT_EQ(HolderThreads(), 1);
        KillAndWait(p);
        fl_process_close(p);
        EXPECT_TRUE(Eventually(5000, [] { return HolderThreads() == 0; })) << HolderThreads();
    });
}

// Failures on the holder are reported as usual and leave nothing: no child, no descriptor, no
// holder thread.
TEST_F(DieWithParentThreadTest, FailedSpawnLeavesNoHolder) {
    auto fds = OpenFds();
    fl_process *p = nullptr;
    fl_spawn_error e{};
    // Not found in PATH: before any clone.
    EXPECT_EQ(SpawnQuietWith("no-such-program-here", {"x"}, FL_SPAWN_DIE_WITH_PARENT, -1, &p, &e), -ENOENT);
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(e.step, FL_STEP_RESOLVE);
    // Failures in the child (execve, chdir): it is cloned, fails, and the holder reaps it. Not
    // under valgrind, which runs such a child as a fork of the holder thread: the leak check with
    // which that copy exits reports glibc's thread memory of the holder ("possibly lost" DTV).
    if (UnderValgrind()) {
        EXPECT_TRUE(Eventually(5000, [] { return HolderThreads() == 0; })) << HolderThreads();
        ExpectNothingLeft(fds);
        return;
    }
    EXPECT_EQ(SpawnQuietWith("/nonexistent/x", {"x"}, FL_SPAWN_DIE_WITH_PARENT, -1, &p, &e), -ENOENT);
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(e.step, FL_STEP_EXEC);
    TempDir dir;
    std::string cwd = dir.Join("missing");
    fl_spawn_options o;
    memset(&o, 0, sizeof o);
    CStrings argv(HelperArgv("sleep"));
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.cwd = cwd.c_str();
    o.flags = FL_SPAWN_DIE_WITH_PARENT;
    EXPECT_EQ(fl_spawn(&o, &p, &e), -ENOENT);
    EXPECT_EQ(e.step, FL_STEP_CHDIR);
    EXPECT_EQ(fl_spawn(nullptr, &p, &e), -EINVAL);
    EXPECT_EQ(e.step, FL_STEP_VALIDATE);
    EXPECT_TRUE(Eventually(5000, [] { return HolderThreads() == 0; })) << HolderThreads();
    ExpectNothingLeft(fds);
}

}  // namespace
}  // namespace fltest
