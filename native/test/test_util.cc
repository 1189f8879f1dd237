// Shared machinery of the Forkless core test suites; see test_util.h.
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fltest {

// Set by main() before any test runs.
std::string g_self_exe;

const std::string &SelfExe() { return g_self_exe; }

bool BuiltWithSanitizers() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

bool UnderValgrind() {
    // valgrind's preloaded core maps its tool as /proc/self/maps entries named vgpreload_*.
    static int cached = -1;
    if (cached < 0) {
        std::ifstream maps("/proc/self/maps");
        std::string line;
        cached = 0;
        while (std::getline(maps, line)) {
            if (line.find("vgpreload_") != std::string::npos) {
                cached = 1;
                break;
            }
        }
    }
    return cached == 1;
}

std::vector<std::string> HelperArgv(const std::string &mode, const std::vector<std::string> &args,
                                    int out_fd, const std::string &argv0) {
    std::vector<std::string> v;
    v.push_back(argv0.empty() ? SelfExe() : argv0);
    v.push_back(out_fd == 1 ? std::string("--fl-helper") : "--fl-helper=" + std::to_string(out_fd));
    v.push_back(mode);
    v.insert(v.end(), args.begin(), args.end());
    return v;
}

void CStrings::Rebuild() {
    ptrs_.clear();
    for (const auto &s : strs_) ptrs_.push_back(s.c_str());
    ptrs_.push_back(nullptr);
}

int64_t NowMs() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Reads fd to EOF, giving up after timeout_ms (then returns what it has and sets *timed_out).
static std::string ReadAllTimeout(int fd, int timeout_ms, bool *timed_out) {
    std::string out;
    char buf[65536];
    int64_t deadline = NowMs() + timeout_ms;
    *timed_out = false;
    for (;;) {
        int64_t left = deadline - NowMs();
        if (left <= 0) {
            *timed_out = true;
            return out;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buf, (size_t)n);
    }
}

std::string ReadAll(int fd) {
    bool timed_out;
    std::string s = ReadAllTimeout(fd, 30000, &timed_out);
    EXPECT_FALSE(timed_out) << "no EOF on fd " << fd << " within 30 s";
    return s;
}

bool WriteAll(int fd, const std::string &data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += (size_t)n;
    }
    return true;
}

std::vector<std::string> SplitNul(const std::string &s) {
    std::vector<std::string> v;
    size_t start = 0;
    while (start < s.size()) {
        size_t end = s.find('\0', start);
        if (end == std::string::npos) {
            v.push_back(s.substr(start) + "<missing NUL>");
            break;
        }
        v.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return v;
}

RunResult RunHelper(const RunSpec &spec) {
    RunResult r;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2: " << strerror(errno);
        return r;
    }
    std::vector<fl_fd_map> map;
    if (spec.map_stdout) map.push_back({spec.out_child_fd, p[1]});
    if (spec.map_stderr) map.push_back({2, 2});
    map.insert(map.end(), spec.extra.begin(), spec.extra.end());

    CStrings argv(spec.argv);
    CStrings envp;
    if (spec.envp != nullptr) envp = CStrings(*spec.envp);
    std::string program = spec.program.empty() ? SelfExe() : spec.program;

    fl_spawn_options o;
    memset(&o, 0, sizeof o);
    o.program = program.c_str();
    o.argv = spec.argv_null ? nullptr : argv.get();
    o.envp = spec.envp != nullptr ? envp.get() : nullptr;
    o.cwd = spec.cwd;
    o.fds = map.data();
    o.nfds = map.size();
    o.flags = spec.flags;
    o.pgid = spec.pgid;
    o.uid = spec.uid;
    o.gid = spec.gid;
    o.groups = spec.groups.empty() ? nullptr : spec.groups.data();
    o.ngroups = spec.groups.size();

    fl_process *proc = nullptr;
    int rc = fl_spawn(&o, &proc, &r.error);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        ADD_FAILURE() << "fl_spawn(" << program << ") = " << rc << " at step "
                      << fl_step_name(r.error.step) << ", errno "
                      << (fl_errno_name(r.error.err) ? fl_errno_name(r.error.err) : "?");
        return r;
    }
    r.spawned = true;
    r.pid = fl_process_pid(proc);
    bool timed_out;
    r.out = ReadAllTimeout(p[0], 15000, &timed_out);
    close(p[0]);
    if (timed_out) {
        ADD_FAILURE() << "helper did not close its output within 15 s; killing it";
        fl_process_signal(proc, SIGKILL);
    }
    int w = fl_process_wait(proc, 15000, &r.status);
    if (w != 1) {
        ADD_FAILURE() << "fl_process_wait = " << w;
        fl_process_signal(proc, SIGKILL);
        fl_process_wait(proc, 5000, &r.status);
    }
    fl_process_close(proc);
    return r;
}

int SpawnQuietWith(const std::string &program, const std::vector<std::string> &argv_strings, unsigned flags,
                   int cgroup_fd, fl_process **out, fl_spawn_error *error) {
    CStrings argv(argv_strings);
    fl_fd_map map[] = {{1, 2}, {2, 2}};
    fl_spawn_options o;
    memset(&o, 0, sizeof o);
    o.program = program.c_str();
    o.argv = argv.get();
    o.fds = map;
    o.nfds = 2;
    o.flags = flags;
    o.cgroup_fd = cgroup_fd;
    *out = nullptr;
    return fl_spawn(&o, out, error);
}

fl_process *SpawnQuiet(const std::string &program, const std::vector<std::string> &argv_strings) {
    fl_process *p = nullptr;
    fl_spawn_error e{};
    int rc = SpawnQuietWith(program, argv_strings, 0, -1, &p, &e);
    EXPECT_EQ(rc, 0) << "spawning " << program << " failed at " << fl_step_name(e.step)
                     << " errno " << e.err;
    return rc == 0 ? p : nullptr;
}

fl_process *SpawnSleeper(int ms) {
    std::vector<std::string> args;
    if (ms >= 0) args.push_back(std::to_string(ms));
    return SpawnQuiet(SelfExe(), HelperArgv("sleep", args));
}

void KillAndWait(fl_process *p) {
    if (p == nullptr) return;
    int rc = fl_process_signal(p, SIGKILL);
    EXPECT_TRUE(rc == 0 || rc == -ESRCH) << rc;
    fl_exit_status st{};
    EXPECT_EQ(fl_process_wait(p, 10000, &st), 1);
    if (rc == 0) {
        EXPECT_EQ(st.kind, FL_SIGNALED);
        EXPECT_EQ(st.code, SIGKILL);
    }
}

void AwaitExitWithoutReaping(fl_process *p) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc;
    do {
        rc = waitid(P_PID, (id_t)fl_process_pid(p), &si, WEXITED | WNOWAIT);
    } while (rc != 0 && errno == EINTR);
    ASSERT_EQ(rc, 0) << strerror(errno);
}

int RecyclePid(int pid) {
    // Other processes on a busy machine take PIDs too: keep trying for a couple of seconds, and
    // wait while someone else holds the number.
    int64_t deadline = NowMs() + 3000;
    while (NowMs() < deadline) {
        if (kill(pid, 0) == 0 || errno != ESRCH) {
            usleep(10000);
            continue;
        }
        int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        if (fd < 0) return -1;
        std::string v = std::to_string(pid - 1);
        bool ok = write(fd, v.data(), v.size()) == (ssize_t)v.size();
        close(fd);
        if (!ok) return -1;
        pid_t child = fork();
        if (child == 0) {
            for (;;) pause();
        }
        if (child < 0) return -1;
        if (child == pid) return child;
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
    }
    return -1;
}

std::map<int, std::string> OpenFds() {
    std::map<int, std::string> fds;
    DIR *d = opendir("/proc/self/fd");
    if (d == nullptr) return fds;
    int self = dirfd(d);
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd == self) continue;
        char target[4096];
        ssize_t n = readlinkat(self, e->d_name, target, sizeof target - 1);
        fds[fd] = n >= 0 ? std::string(target, (size_t)n) : "?";
    }
    closedir(d);
    return fds;
}

std::vector<int> ChildPids() {
    std::vector<int> pids;
    DIR *d = opendir("/proc/self/task");
    if (d == nullptr) return pids;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/children");
        int pid;
        while (in >> pid) pids.push_back(pid);
    }
    closedir(d);
    return pids;
}

bool HasWaitableChild() {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int rc = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0) return false;  // ECHILD: no child at all
    return si.si_pid != 0;
}

static std::string DescribeFdDiff(const std::map<int, std::string> &before,
                                  const std::map<int, std::string> &after) {
    std::ostringstream os;
    for (const auto &kv : after) {
        auto it = before.find(kv.first);
        if (it == before.end()) {
            os << " new fd " << kv.first << " -> " << kv.second << ";";
        } else if (it->second != kv.second) {
            os << " fd " << kv.first << " changed " << it->second << " -> " << kv.second << ";";
        }
    }
    for (const auto &kv : before) {
        if (after.find(kv.first) == after.end()) os << " fd " << kv.first << " closed;";
    }
    return os.str();
}

void ExpectNothingLeft(const std::map<int, std::string> &fds_before) {
    auto after = OpenFds();
    EXPECT_EQ(fds_before, after) << "descriptors differ:" << DescribeFdDiff(fds_before, after);
    EXPECT_TRUE(ChildPids().empty()) << "a child process is left";
    EXPECT_FALSE(HasWaitableChild()) << "a zombie is left";
}

static int RemoveOne(const char *path, const struct stat *, int type, struct FTW *) {
    // FTW_DNR: a directory we may not read (a test made it mode 0); empty, so rmdir works.
    if (type == FTW_DP || type == FTW_DNR) {
        rmdir(path);
    } else {
        unlink(path);
    }
    return 0;  // keep going: remove as much as possible
}

TempDir::TempDir() {
    char tmpl[] = "/tmp/fl-test-XXXXXX";
    char *p = mkdtemp(tmpl);
    if (p == nullptr) {
        ADD_FAILURE() << "mkdtemp: " << strerror(errno);
        path_ = "/nonexistent-tempdir";
    } else {
        path_ = p;
        chmod(p, 0755);  // reachable by a child that dropped privileges
    }
}

TempDir::~TempDir() {
    if (path_.rfind("/tmp/fl-test-", 0) == 0) nftw(path_.c_str(), RemoveOne, 16, FTW_DEPTH | FTW_PHYS);
}

std::string TempDir::WriteFile(const std::string &name, const std::string &content, int mode) {
    std::string p = Join(name);
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << p << ": " << strerror(errno);
    if (fd >= 0) {
        EXPECT_TRUE(WriteAll(fd, content));
        fchmod(fd, (mode_t)mode);
        close(fd);
    }
    return p;
}

std::string TempDir::MkDir(const std::string &name) {
    std::string p = Join(name);
    EXPECT_EQ(mkdir(p.c_str(), 0755), 0) << p << ": " << strerror(errno);
    return p;
}

std::string TempDir::LinkSelf(const std::string &name) {
    std::string p = Join(name);
    EXPECT_EQ(symlink(SelfExe().c_str(), p.c_str()), 0) << p << ": " << strerror(errno);
    return p;
}

// Forwards assertion failures of a forked child to its parent through a pipe, one record per
// result: a type byte ('F' failure, 'S' skip) then the text, then a NUL.
class ForwardResults : public ::testing::EmptyTestEventListener {
  public:
    explicit ForwardResults(int fd) : fd_(fd) {}
    void OnTestPartResult(const ::testing::TestPartResult &r) override {
        if (!r.failed() && !r.skipped()) return;
        std::string rec(1, r.failed() ? 'F' : 'S');
        if (r.file_name() != nullptr) rec += std::string(r.file_name()) + ":" + std::to_string(r.line_number()) + ": ";
        rec += r.message();
        rec.push_back('\0');
        WriteAll(fd_, rec);
    }

  private:
    int fd_;
};

bool RunForked(const std::function<void()> &body, int timeout_s) {
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2: " << strerror(errno);
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork: " << strerror(errno);
        close(rp[0]);
        close(rp[1]);
        return false;
    }
    if (pid == 0) {
        close(rp[0]);
        // Keep the report pipe out of the low numbers the body may want to use.
        int report = fcntl(rp[1], F_DUPFD_CLOEXEC, 900);
        if (report < 0) report = rp[1];
        else close(rp[1]);
        auto &listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
        listeners.Append(new ForwardResults(report));
        alarm((unsigned)timeout_s);
        body();
        // Whatever the body spawned must be gone too (grandchildren are invisible to the parent).
        std::vector<int> kids = ChildPids();
        EXPECT_TRUE(kids.empty()) << "the forked test body left a child process";
        EXPECT_FALSE(HasWaitableChild()) << "the forked test body left a zombie";
        // Don't let them outlive us as orphans of init.
        for (int kid : kids) kill(kid, SIGKILL);
        for (int kid : kids) waitpid(kid, nullptr, 0);
        _exit(::testing::Test::HasFailure() ? 1 : 0);
    }
    close(rp[1]);
    bool timed_out;
    std::string report = ReadAllTimeout(rp[0], (timeout_s + 5) * 1000, &timed_out);
    close(rp[0]);
    if (timed_out) kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    bool failed = false;
    std::string skip;
    for (const auto &rec : SplitNul(report)) {
        if (rec.empty()) continue;
        if (rec[0] == 'F') {
            ADD_FAILURE() << "[in forked test process] " << rec.substr(1);
            failed = true;
        } else {
            skip = rec.substr(1);
        }
    }
    if (WIFSIGNALED(st)) {
        ADD_FAILURE() << "forked test process killed by signal " << WTERMSIG(st)
                      << (WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
        return false;
    }
    if (WEXITSTATUS(st) != 0 && !failed) {
        ADD_FAILURE() << "forked test process exited with " << WEXITSTATUS(st);
        return false;
    }
    if (!skip.empty() && !failed) {
        // Marks the current test as skipped (GTEST_SKIP returns from this helper only).
        [&] { GTEST_SKIP() << skip; }();
    }
    return !failed && WEXITSTATUS(st) == 0;
}

int MemFd(const std::string &name, bool cloexec) {
    int fd = memfd_create(name.c_str(), cloexec ? MFD_CLOEXEC : 0);
    EXPECT_GE(fd, 0) << "memfd_create: " << strerror(errno);
    return fd;
}

std::string FdTarget(int fd) {
    char buf[4096];
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    return n >= 0 ? std::string(buf, (size_t)n) : std::string("?");
}

std::map<int, ChildFd> ParseFdReport(const std::string &report) {
    std::map<int, ChildFd> m;
    std::istringstream in(report);
    std::string line;
    while (std::getline(in, line)) {
        size_t t1 = line.find('\t');
        size_t t2 = line.rfind('\t');
        if (t1 == std::string::npos || t2 == t1) continue;
        ChildFd c;
        c.target = line.substr(t1 + 1, t2 - t1 - 1);
        c.flags = (int)strtol(line.c_str() + t2 + 1, nullptr, 8);
        m[atoi(line.c_str())] = c;
    }
    return m;
}

static SigMasks ParseStatus(std::istream &in) {
    SigMasks m;
    std::string line;
    while (std::getline(in, line)) {
        auto val = [&](const char *key, uint64_t *out) {
            size_t n = strlen(key);
            if (line.compare(0, n, key) == 0) *out = strtoull(line.c_str() + n, nullptr, 16);
        };
        val("SigBlk:", &m.blk);
        val("SigIgn:", &m.ign);
        val("SigCgt:", &m.cgt);
        val("SigPnd:", &m.pnd);
    }
    return m;
}

SigMasks ParseSigReport(const std::string &report) {
    std::istringstream in(report);
    return ParseStatus(in);
}

SigMasks OwnSigMasks() {
    std::ifstream in("/proc/thread-self/status");
    return ParseStatus(in);
}

int InstallSeccomp(const std::vector<SeccompRule> &rules) {
    std::vector<struct sock_filter> f;
    auto stmt = [&](uint16_t code, uint32_t k) { f.push_back(BPF_STMT(code, k)); };
    auto jump = [&](uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
        f.push_back(BPF_JUMP(code, k, jt, jf));
    };
    const uint32_t load_nr = (uint32_t)offsetof(struct seccomp_data, nr);
    // The low 32 bits of args[0] (little-endian; the flags of clone() fit there).
    const uint32_t load_arg0 = (uint32_t)offsetof(struct seccomp_data, args[0]);

#if defined(__x86_64__)
    const uint32_t arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    const uint32_t arch = AUDIT_ARCH_AARCH64;
#else
#error "seccomp tests: unknown architecture"
#endif
    // A system call made through another ABI (i386 on x86_64) has other numbers: let it through
    // untouched rather than misreading it. Then refuse the x32 ABI's aliases of our numbers.
    stmt(BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, arch));
    jump(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    stmt(BPF_LD | BPF_W | BPF_ABS, load_nr);
#if defined(__x86_64__)
    jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u /* __X32_SYSCALL_BIT */, 0, 1);
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
#endif
    for (const auto &r : rules) {
        uint32_t action = r.trap ? SECCOMP_RET_TRAP
                                 : SECCOMP_RET_ERRNO | ((uint32_t)r.errno_value & SECCOMP_RET_DATA);
        if (!r.only_if_arg0_has) {
            jump(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r.nr, 0, 1);
            stmt(BPF_RET | BPF_K, action);
        } else {
            // nr == r.nr && (arg0 & mask) != 0 -> action; then reload nr for the next rule.
            jump(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r.nr, 0, 3);
            stmt(BPF_LD | BPF_W | BPF_ABS, load_arg0);
            jump(BPF_JMP | BPF_JSET | BPF_K, (uint32_t)r.arg0_mask, 0, 1);
            stmt(BPF_RET | BPF_K, action);
            stmt(BPF_LD | BPF_W | BPF_ABS, load_nr);
        }
    }
    stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

    struct sock_fprog prog;
    prog.len = (unsigned short)f.size();
    prog.filter = f.data();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return -errno;
    return 0;
}

std::vector<SeccompRule> NoPidfdSeccompRules() {
    // clone's flags are its first argument on x86_64 and aarch64 alike.
    return {
        {435 /* SYS_clone3 */, ENOSYS},
        {SYS_clone, EPERM, false, true, 0x00001000 /* CLONE_PIDFD */},
        {434 /* SYS_pidfd_open */, ENOSYS},
        {424 /* SYS_pidfd_send_signal */, ENOSYS},
    };
}

std::string StrategyName(int s) {
    const char *n = fl_spawn_strategy_name(s);
    return std::to_string(s) + " (" + (n ? n : "null") + ")";
}

bool Clone3Available() {
    errno = 0;
    long rc = syscall(435 /* SYS_clone3 */, nullptr, 0);
    return rc == -1 && errno == EINVAL;
}

int ExpectedTopStrategy() { return Clone3Available() ? FL_STRATEGY_CLONE3 : FL_STRATEGY_CLONE_PIDFD; }

void LeakCheckedTest::SetUp() {
    fds_before_ = OpenFds();
    ASSERT_TRUE(ChildPids().empty()) << "a child process exists before the test started";
}

void LeakCheckedTest::TearDown() {
    // Orphans (handles closed before their child exited) are reaped by fl_reap_orphans; give
    // children that are about to exit a moment to do so.
    int64_t deadline = NowMs() + 5000;
    while (fl_reap_orphans() > 0 && NowMs() < deadline) usleep(2000);
    EXPECT_EQ(fl_reap_orphans(), 0) << "orphans still running after the test";

    auto after = OpenFds();
    EXPECT_EQ(fds_before_, after) << "descriptors leaked or closed:" << DescribeFdDiff(fds_before_, after);

    std::vector<int> kids = ChildPids();
    EXPECT_TRUE(kids.empty()) << kids.size() << " child process(es) left, first pid "
                              << (kids.empty() ? 0 : kids[0]);
    EXPECT_FALSE(HasWaitableChild()) << "a zombie child is left";
    // Clean up so one failure does not cascade into the next test.
    for (int pid : kids) kill(pid, SIGKILL);
    for (int pid : kids) waitpid(pid, nullptr, 0);
}

}  // namespace fltest
