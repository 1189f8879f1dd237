// main() of forkless_tests: runs the Google Test suites, or, when started as
//
//     forkless_tests --fl-helper[=OUTFD] MODE ARGS...      (or with FL_TEST_HELPER=MODE set)
//
// acts as the helper child the suites spawn. The helper reports on OUTFD (default 1) with plain
// write(2)s and ends with _exit, so what the test reads is exactly what it wrote.
//
// Modes:
//   exit N            exit with code N
//   signal S          kill itself with signal S (its disposition reset to default first)
//   core DIR          chdir DIR, allow a small core file, then SIGQUIT itself
//   argv              every argv string (argv[0] included), each followed by a NUL
//   env               every environ string, each followed by a NUL
//   cwd               getcwd()
//   fds               one line per open descriptor: "N\tTARGET\tFLAGS" (FLAGS: octal, from
//                     /proc/self/fdinfo), without the directory descriptor used to list them
//   fdcount           exit with the number of open descriptors (for a child that has none)
//   sigs              the SigPnd/SigBlk/SigIgn/SigCgt lines of /proc/self/status
//   sleep [MS [CODE]] sleep forever, or MS milliseconds, then exit with CODE (default 0)
//   burn MS MIB [SYS] touch MIB MiB of fresh memory, spin until MS ms of user CPU time, then read
//                     /dev/zero until SYS ms of system CPU time
//   ids               "pid ppid sid pgid uid euid gid egid ngroups [group...]"
//   write FD TEXT     write TEXT to FD; exit 0 if it all went, else 1
//   cat               copy fd 0 to OUTFD
//   pump KIB          write KIB KiB of PumpByte(1, i) to fd 1 and of PumpByte(2, i) to fd 2 in
//                     alternating chunks, reading a chunk of fd 0 between them; then read fd 0
//                     to EOF and end fd 2 with "\nin=N fnv=H\n" (N bytes read, H their FNV-1a,
//                     hex). The writes block on full pipes: a parent must drain both outputs
//                     while it feeds the input.
//   no-pidfd-exec PROGRAM ARGS...
//                     install the no-pidfd seccomp filter (NoPidfdSeccompRules: clone3 and
//                     pidfd_open/pidfd_send_signal ENOSYS, clone with CLONE_PIDFD EPERM) and
//                     execv PROGRAM with argv { PROGRAM, ARGS... }; on failure print the errno to
//                     stderr and exit 127. The filter survives the exec and reaches every thread
//                     and child created after it, so it runs a whole JVM without pidfds (glibc's
//                     pthread_create and posix_spawn fall back from clone3 on ENOSYS):
//                         forkless_tests --fl-helper no-pidfd-exec /usr/bin/java -version
//   no-mkdir-exec PROGRAM ARGS...
//                     the same with a filter under which mkdir and mkdirat fail with EACCES, as
//                     they do in a cgroup tree not delegated to this user: a JVM that cannot make
//                     cgroups (run it with -XX:-UsePerfData, whose directory it could not make).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

extern char **environ;

namespace fltest {
extern std::string g_self_exe;
}

namespace {

int g_out = 1;

void Out(const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(g_out, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(121);
        data += n;
        len -= (size_t)n;
    }
}
void Out(const std::string &s) { Out(s.data(), s.size()); }

void WriteTo(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(121);
        data += n;
        len -= (size_t)n;
    }
}

std::string ReadSmallFile(const char *path) {
    std::string s;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return s;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, (size_t)n);
    close(fd);
    return s;
}

// The open descriptors, without the one opendir() uses.
int ListFds(bool print) {
    DIR *d = opendir("/proc/self/fd");
    if (d == nullptr) _exit(122);
    int self = dirfd(d);
    int count = 0;
    std::string report;
    // Collect first: writing while listing would be fine, but sorting makes reports stable.
    std::string lines[1024];
    int nums[1024];
    int n = 0;
    while (struct dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd == self) continue;
        count++;
        if (!print || n == 1024) continue;
        char target[PATH_MAX];
        ssize_t len = readlinkat(self, e->d_name, target, sizeof target - 1);
        if (len < 0) len = 0;
        target[len] = '\0';
        std::string info = ReadSmallFile(("/proc/self/fdinfo/" + std::to_string(fd)).c_str());
        std::string flags = "?";
        size_t at = info.find("flags:");
        if (at != std::string::npos) {
            size_t b = info.find_first_not_of(" \t", at + 6);
            size_t e2 = info.find('\n', b);
            flags = info.substr(b, e2 - b);
        }
        nums[n] = fd;
        lines[n] = std::to_string(fd) + "\t" + target + "\t" + flags + "\n";
        n++;
    }
    closedir(d);
    if (print) {
        for (int i = 1; i < n; i++) {  // insertion sort by number
            for (int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
                std::swap(nums[j - 1], nums[j]);
                std::swap(lines[j - 1], lines[j]);
            }
        }
        for (int i = 0; i < n; i++) report += lines[i];
        Out(report);
    }
    return count;
}

long UserCpuMs() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec * 1000L + ru.ru_utime.tv_usec / 1000;
}

long SystemCpuMs() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_stime.tv_sec * 1000L + ru.ru_stime.tv_usec / 1000;
}

void DieBySignal(int sig) {
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    kill(getpid(), sig);
    for (;;) pause();
}

int HelperMain(int argc, char **argv, const char *mode, int first_arg) {
    auto arg = [&](int i) -> const char * {
        return first_arg + i < argc ? argv[first_arg + i] : nullptr;
    };
    auto need = [&](int n) {
        if (first_arg + n > argc) _exit(120);
    };
    std::string m = mode;
    if (m == "exit") {
        need(1);
        _exit(atoi(arg(0)));
    } else if (m == "signal") {
        need(1);
        DieBySignal(atoi(arg(0)));
    } else if (m == "core") {
        need(1);
        if (chdir(arg(0)) != 0) _exit(123);
        struct rlimit rl;
        getrlimit(RLIMIT_CORE, &rl);
        rl.rlim_cur = rl.rlim_max = 256u << 20;
        if (setrlimit(RLIMIT_CORE, &rl) != 0) {  // unprivileged: as much as the hard limit allows
            getrlimit(RLIMIT_CORE, &rl);
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_CORE, &rl);
        }
        // Dump no memory contents, only headers: a core of a few KiB (an ASan build's shadow
        // memory would otherwise make it huge).
        int fd = open("/proc/self/coredump_filter", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "0", 1) < 0) {
            }
            close(fd);
        }
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        DieBySignal(SIGQUIT);
    } else if (m == "argv") {
        for (int i = 0; i < argc; i++) Out(argv[i], strlen(argv[i]) + 1);
    } else if (m == "env") {
        for (char **e = environ; e != nullptr && *e != nullptr; e++) Out(*e, strlen(*e) + 1);
    } else if (m == "cwd") {
        char buf[PATH_MAX];
        if (getcwd(buf, sizeof buf) == nullptr) _exit(124);
        Out(buf, strlen(buf));
    } else if (m == "fds") {
        ListFds(true);
    } else if (m == "fdcount") {
        _exit(ListFds(false));
    } else if (m == "sigs") {
        std::string status = ReadSmallFile("/proc/self/status");
        size_t pos = 0;
        while (pos < status.size()) {
            size_t end = status.find('\n', pos);
            if (end == std::string::npos) end = status.size();
            std::string line = status.substr(pos, end - pos);
            if (line.compare(0, 7, "SigPnd:") == 0 || line.compare(0, 7, "SigBlk:") == 0 ||
                line.compare(0, 7, "SigIgn:") == 0 || line.compare(0, 7, "SigCgt:") == 0) {
                Out(line + "\n");
            }
            pos = end + 1;
        }
    } else if (m == "sleep") {
        // A sleeper never outlives the test that started it, even one killed by a timeout.
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() == 1) _exit(117);
        if (arg(0) != nullptr) {
            long ms = atol(arg(0));
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
            if (arg(1) != nullptr) _exit(atoi(arg(1)));
        } else {
            for (;;) pause();
        }
    } else if (m == "burn") {
        need(2);
        long ms = atol(arg(0));
        size_t bytes = (size_t)atol(arg(1)) << 20;
        if (bytes > 0) {
            void *mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (mem == MAP_FAILED) _exit(125);
            for (size_t off = 0; off < bytes; off += 4096) static_cast<volatile char *>(mem)[off] = 1;
        }
        volatile unsigned long x = 0;
        while (UserCpuMs() < ms) {
            for (int i = 0; i < 100000; i++) x = x + (unsigned long)i;
        }
        if (arg(2) != nullptr) {
            long sys_ms = atol(arg(2));
            int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
            static char sink[1 << 20];
            while (zero >= 0 && SystemCpuMs() < sys_ms) {
                if (read(zero, sink, sizeof sink) < 0) _exit(125);
            }
        }
    } else if (m == "ids") {
        gid_t groups[256];
        int n = getgroups(256, groups);
        std::string s = std::to_string(getpid()) + " " + std::to_string(getppid()) + " " +
                        std::to_string(getsid(0)) + " " + std::to_string(getpgid(0)) + " " +
                        std::to_string(getuid()) + " " + std::to_string(geteuid()) + " " +
                        std::to_string(getgid()) + " " + std::to_string(getegid()) + " " +
                        std::to_string(n);
        for (int i = 0; i < n; i++) s += " " + std::to_string(groups[i]);
        Out(s + "\n");
    } else if (m == "write") {
        need(2);
        int fd = atoi(arg(0));
        const char *text = arg(1);
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        _exit(n == (ssize_t)len ? 0 : 1);
    } else if (m == "cat") {
        char buf[65536];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) _exit(126);
            Out(buf, (size_t)n);
        }
    } else if (m == "pump") {
        need(1);
        uint64_t total = (uint64_t)atol(arg(0)) * 1024, sent = 0, got = 0;
        uint64_t hash = fltest::FnvStart();
        static char chunk[16384], in[16384];
        bool in_open = true;
        auto read_some = [&] {
            ssize_t n;
            do {
                n = read(0, in, sizeof in);
            } while (n < 0 && errno == EINTR);
            if (n <= 0) {
                in_open = false;
                return;
            }
            got += (uint64_t)n;
            hash = fltest::Fnv(hash, in, (size_t)n);
        };
        while (sent < total) {
            size_t len = total - sent < sizeof chunk ? (size_t)(total - sent) : sizeof chunk;
            for (int stream = 1; stream <= 2; stream++) {
                for (size_t i = 0; i < len; i++) {
                    chunk[i] = (char)fltest::PumpByte(stream, sent + i);
                }
                WriteTo(stream, chunk, len);
            }
            sent += len;
            if (in_open) read_some();
        }
        while (in_open) read_some();
        char tail[96];
        int n = snprintf(tail, sizeof tail, "\nin=%llu fnv=%llx\n", (unsigned long long)got,
                         (unsigned long long)hash);
        WriteTo(2, tail, (size_t)n);
    } else if (m == "no-pidfd-exec" || m == "no-mkdir-exec") {
        need(1);
        std::vector<fltest::SeccompRule> rules = fltest::NoPidfdSeccompRules();
        if (m == "no-mkdir-exec") {
            rules = {{SYS_mkdirat, EACCES}};
#ifdef SYS_mkdir
            rules.push_back({SYS_mkdir, EACCES});
#endif
        }
        int rc = fltest::InstallSeccomp(rules);
        if (rc < 0) {
            fprintf(stderr, "%s: installing the seccomp filter: %s\n", m.c_str(), strerror(-rc));
            _exit(127);
        }
        // argv[first_arg] is PROGRAM and the rest follow it: exactly the argv to pass on.
        execv(arg(0), argv + first_arg);
        fprintf(stderr, "%s: execv %s: %s\n", m.c_str(), arg(0), strerror(errno));
        _exit(127);
    } else {
        _exit(119);
    }
    _exit(0);
}

std::string ResolveSelf() {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        exit(2);
    }
    return std::string(buf, (size_t)n);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc >= 3 && strncmp(argv[1], "--fl-helper", 11) == 0) {
        if (argv[1][11] == '=') g_out = atoi(argv[1] + 12);
        else if (argv[1][11] != '\0') _exit(118);
        return HelperMain(argc, argv, argv[2], 3);
    }
    if (const char *mode = getenv("FL_TEST_HELPER")) return HelperMain(argc, argv, mode, argc);

    fltest::g_self_exe = ResolveSelf();
    // Orphans of forked test processes come back to us instead of init, so the leak check of the
    // running test sees them (and kills them) instead of leaving them behind.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
