// Shared machinery of the Forkless core test suites.
//
// The test binary is its own helper child: the suites spawn /proc/self/exe (resolved once at
// start-up, see main.cc) with "--fl-helper MODE ..." and read what the helper reports through a
// pipe mapped onto its fd 1 (or another fd: "--fl-helper=9 MODE"). Every test runs in the
// LeakCheckedTest fixture, which fails it if a descriptor or a child process outlived it.
//
// Tests that must change process-wide state (signal dispositions, low descriptor numbers, rlimits,
// credentials, seccomp filters) run their body in a fork()ed copy of the test process:
// RunForked(). Google Test assertions work there as usual; their failures are sent back to the
// parent over a pipe and re-reported in the real test.
#ifndef FL_TEST_UTIL_H
#define FL_TEST_UTIL_H

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "forkless.h"

namespace fltest {

// The absolute path of this test binary.
const std::string &SelfExe();

// True when this binary was built with AddressSanitizer / UBSan (they install signal handlers and
// change a few things the helper reports).
bool BuiltWithSanitizers();
// True when running under valgrind (memory is not shared with a CLONE_VM child there).
bool UnderValgrind();

// The argv of a helper child: { argv0, "--fl-helper[=outfd]", mode, args... }.
std::vector<std::string> HelperArgv(const std::string &mode, const std::vector<std::string> &args = {},
                                    int out_fd = 1, const std::string &argv0 = "");

// Owns a NULL-terminated char* array built from strings (which may hold any bytes but NUL).
class CStrings {
  public:
    CStrings() { ptrs_.push_back(nullptr); }
    explicit CStrings(const std::vector<std::string> &v) : strs_(v) { Rebuild(); }
    const char *const *get() const { return ptrs_.data(); }
    size_t size() const { return strs_.size(); }

  private:
    void Rebuild();
    std::vector<std::string> strs_;
    std::vector<const char *> ptrs_;
};

// RunHelper runs a helper to completion: fd 1 (or out_child_fd) is a pipe read to EOF, fd 2 is
// this process's stderr, plus the `extra` mappings. Fails the test (non-fatally) if the spawn
// fails or the helper does not finish within 15 s (then it is killed).
struct RunResult {
    bool spawned = false;
    fl_spawn_error error{};
    std::string out;       // everything written to the pipe
    fl_exit_status status{};
    int64_t pid = 0;
};
struct RunSpec {
    std::string program;                    // default: SelfExe()
    std::vector<std::string> argv;          // required
    bool argv_null = false;                 // pass argv = NULL
    const std::vector<std::string> *envp = nullptr;  // NULL: inherit
    const char *cwd = nullptr;
    std::vector<fl_fd_map> extra;           // added after {1 <- pipe, 2 <- stderr}
    bool map_stdout = true;
    bool map_stderr = true;
    int out_child_fd = 1;                   // where the pipe goes in the child
    unsigned flags = 0;
    int pgid = 0;
    uint32_t uid = 0, gid = 0;
    std::vector<uint32_t> groups;
};
RunResult RunHelper(const RunSpec &spec);

// Spawns program with argv (argv[0] included) and fds 1 and 2 mapped to this process's stderr.
// Fails the test and returns NULL if the spawn fails.
fl_process *SpawnQuiet(const std::string &program, const std::vector<std::string> &argv);
// As SpawnQuiet, with spawn flags and (for FL_SPAWN_INTO_CGROUP) a cgroup descriptor, without
// failing the test: returns fl_spawn's result and fills *out and *error.
int SpawnQuietWith(const std::string &program, const std::vector<std::string> &argv, unsigned flags,
                   int cgroup_fd, fl_process **out, fl_spawn_error *error);
// Spawns a helper that sleeps until killed (or for `ms` milliseconds when ms >= 0), with fds 1
// and 2 mapped to this process's stderr. Fails the test and returns NULL if the spawn fails.
fl_process *SpawnSleeper(int ms = -1);
// Kills (SIGKILL) and waits; expects FL_SIGNALED / SIGKILL unless the child had already exited.
void KillAndWait(fl_process *p);

// Blocks until the child has exited, without reaping it (waitid WNOWAIT): the handle still owns
// the zombie.
void AwaitExitWithoutReaping(fl_process *p);

// Makes the next PID this process creates equal `pid`, by writing pid - 1 to ns_last_pid (needs
// CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE) and forking until the kernel hands it out. The impostor
// sleeps until killed; the caller kills and reaps it. Returns its PID, or -1 if it could not.
int RecyclePid(int pid);

// Reads from fd until EOF; EINTR-safe.
std::string ReadAll(int fd);
bool WriteAll(int fd, const std::string &data);

// Splits a buffer of NUL-terminated strings ("a\0b\0" -> {"a", "b"}).
std::vector<std::string> SplitNul(const std::string &s);

// The descriptors of this process: number -> what /proc/self/fd/N points to.
std::map<int, std::string> OpenFds();
// The PIDs of this process's children (every thread's), from /proc/self/task/*/children.
std::vector<int> ChildPids();
// Whether a waitable child exists (waitid(P_ALL, WNOHANG|WNOWAIT)).
bool HasWaitableChild();

// Asserts that a failed spawn left nothing behind: no child (live or zombie), no new descriptor.
void ExpectNothingLeft(const std::map<int, std::string> &fds_before);

// A temporary directory, removed recursively (with everything in it) on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string Join(const std::string &name) const { return path_ + "/" + name; }
    // Creates a file with the given content and mode; returns its path.
    std::string WriteFile(const std::string &name, const std::string &content, int mode);
    std::string MkDir(const std::string &name);
    // A symlink to the test binary, so it can be found by name in a PATH.
    std::string LinkSelf(const std::string &name);

  private:
    std::string path_;
};

// Runs body in a fork()ed copy of this process and reports its assertion failures here. The child
// gets an alarm of timeout_s seconds. Returns false if the child did not finish cleanly.
bool RunForked(const std::function<void()> &body, int timeout_s = 30);

// A memfd named `name` (visible as "/memfd:NAME (deleted)" in /proc/self/fd). cloexec as asked.
int MemFd(const std::string &name, bool cloexec = true);
// The inode of what fd refers to, as /proc shows it for pipes: "pipe:[N]".
std::string FdTarget(int fd);

// Parses the helper's "fds" report: child fd -> "target|flags(octal)".
struct ChildFd {
    std::string target;
    int flags = 0;
};
std::map<int, ChildFd> ParseFdReport(const std::string &report);

// Parses "SigBlk:\t..." lines of the helper's "sigs" report into masks.
struct SigMasks {
    uint64_t blk = ~0ull, ign = ~0ull, cgt = ~0ull, pnd = ~0ull;
};
SigMasks ParseSigReport(const std::string &report);
SigMasks OwnSigMasks();  // this thread's, from /proc/thread-self/status
inline uint64_t SigBit(int sig) { return 1ull << (sig - 1); }

// Seccomp: denies system calls in this (single-threaded) process and all its future children.
struct SeccompRule {
    long nr;                  // system call number
    int errno_value;          // returned as -errno (ignored with trap)
    bool trap = false;        // SECCOMP_RET_TRAP (SIGSYS) instead of an errno
    bool only_if_arg0_has = false;  // match only when (arg0 & arg0_mask) != 0
    uint64_t arg0_mask = 0;
};
// Installs the filter (PR_SET_NO_NEW_PRIVS first). Returns 0 or -errno.
int InstallSeccomp(const std::vector<SeccompRule> &rules);
// The filter of a process without pidfds: clone3 -> ENOSYS, clone() with CLONE_PIDFD -> EPERM,
// pidfd_open and pidfd_send_signal -> ENOSYS. The core settles on FL_STRATEGY_PID_ONLY under it;
// glibc's pthread_create and posix_spawn fall back from clone3 to clone, so a JVM runs too.
std::vector<SeccompRule> NoPidfdSeccompRules();

// Strategy helpers.
std::string StrategyName(int s);
// Whether this process may call clone3 at all: clone3(NULL, 0) is EINVAL where it exists, ENOSYS
// or EPERM where a kernel, valgrind or a seccomp profile denies it. (Kernels 5.3 and 5.4 have
// clone3 but not CLONE_CLEAR_SIGHAND; there the top rung is FL_STRATEGY_CLONE_PIDFD anyway.)
bool Clone3Available();
// The rung a process that is denied nothing should settle on.
int ExpectedTopStrategy();

// Time in milliseconds (CLOCK_MONOTONIC).
int64_t NowMs();

// The bytes the "pump" helper writes: byte i of fd `stream` (1 or 2). Not periodic at 256, so a
// lost or repeated chunk shows.
inline unsigned char PumpByte(int stream, uint64_t i) {
    return (unsigned char)(i * 7 + (uint64_t)stream * 13 + (i >> 12));
}
// FNV-1a, 64 bits: the "pump" helper's checksum of what it read.
inline uint64_t FnvStart() { return 1469598103934665603ull; }
inline uint64_t Fnv(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// The fixture of every suite: checks that no descriptor and no child outlived the test.
class LeakCheckedTest : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;
    std::map<int, std::string> fds_before_;
};

}  // namespace fltest

#endif  // FL_TEST_UTIL_H
