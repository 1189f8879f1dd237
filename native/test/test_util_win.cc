// See test_util_win.h.
#include "test_util_win.h"

#include <tlhelp32.h>

#include <cstdio>

namespace fltest {

std::string g_self_exe;

const std::string &SelfExe() { return g_self_exe; }

std::string Utf8(const std::wstring &w) {
    if (w.empty()) return std::string();
    int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), nullptr, 0, nullptr, nullptr);
    std::string s((size_t)n, '\0');
    WideCharToMultiByte(CP_UTF8, 0, w.data(), (int)w.size(), &s[0], n, nullptr, nullptr);
    return s;
}

std::wstring Wide(const std::string &s) {
    if (s.empty()) return std::wstring();
    int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), (int)s.size(), nullptr, 0);
    std::wstring w((size_t)n, L'\0');
    MultiByteToWideChar(CP_UTF8, 0, s.data(), (int)s.size(), &w[0], n);
    return w;
}

int64_t NowMs() { return (int64_t)GetTickCount64(); }

std::vector<std::string> HelperArgv(const std::string &mode, const std::vector<std::string> &args,
                                    const std::string &argv0) {
    std::vector<std::string> v = {argv0.empty() ? SelfExe() : argv0, "--fl-helper", mode};
    v.insert(v.end(), args.begin(), args.end());
    return v;
}

static fl_fd StdErr() { return (fl_fd)(intptr_t)GetStdHandle(STD_ERROR_HANDLE); }

static bool Usable(fl_fd h) {
    DWORD flags;
    return h != 0 && h != -1 && GetHandleInformation((HANDLE)h, &flags);
}

std::string ReadAll(fl_fd fd) {
    std::string s;
    char buf[65536];
    for (;;) {
        int64_t n = fl_fd_read(fd, buf, sizeof buf);
        if (n <= 0) break;
        s.append(buf, (size_t)n);
    }
    return s;
}

std::string ReadLine(fl_fd fd) {
    std::string s;
    char c;
    while (fl_fd_read(fd, &c, 1) == 1 && c != '\n') s += c;
    return s;
}

RunResult RunHelper(const RunSpec &spec) {
    RunResult r;
    fl_fd pipe[2];
    if (fl_fd_pipe(pipe) != 0) {
        ADD_FAILURE() << "pipe";
        return r;
    }
    std::vector<fl_fd_map> map = {{1, pipe[1]}};
    if (Usable(StdErr())) map.push_back({2, StdErr()});
    map.insert(map.end(), spec.extra.begin(), spec.extra.end());
    CStrings argv(spec.argv);
    std::vector<std::string> envs = spec.envp ? *spec.envp : std::vector<std::string>();
    CStrings envp(envs);
    std::string program = spec.program.empty() ? SelfExe() : spec.program;
    fl_spawn_options o{};
    o.program = program.c_str();
    o.argv = argv.get();
    o.envp = spec.envp ? envp.get() : nullptr;
    o.cwd = spec.cwd;
    o.fds = map.data();
    o.nfds = map.size();
    o.flags = spec.flags;
    fl_process *p = nullptr;
    r.rc = fl_spawn(&o, &p, &r.error);
    fl_fd_close(pipe[1]);
    if (r.rc != 0) {
        // Some tests expect this; printed for the ones that do not (a rare spawn failure under
        // Wine with ctest -j2 is not explained yet: its Win32 error shows here).
        printf("RunHelper: spawn failed at %s, errno %d, Win32 error %lu\n",
               fl_step_name(r.error.step), r.error.err, (unsigned long)fl_win_last_error());
        fl_fd_close(pipe[0]);
        return r;
    }
    r.spawned = true;
    r.out = ReadAll(pipe[0]);
    fl_fd_close(pipe[0]);
    if (fl_process_wait(p, 30000, &r.status) != 1) {
        ADD_FAILURE() << "helper did not finish";
        fl_process_signal_group(p, 9);
        fl_process_wait(p, -1, &r.status);
    }
    fl_process_close(p);
    return r;
}

fl_process *SpawnHelperPiped(const std::string &mode, const std::vector<std::string> &args,
                             unsigned flags, fl_fd *out_read) {
    fl_fd pipe[2] = {-1, -1};
    if (out_read != nullptr && fl_fd_pipe(pipe) != 0) {
        ADD_FAILURE() << "pipe";
        return nullptr;
    }
    std::vector<fl_fd_map> map;
    if (out_read != nullptr) map.push_back({1, pipe[1]});
    else if (Usable(StdErr())) map.push_back({1, StdErr()});
    if (Usable(StdErr())) map.push_back({2, StdErr()});
    CStrings argv(HelperArgv(mode, args));
    fl_spawn_options o{};
    o.program = SelfExe().c_str();
    o.argv = argv.get();
    o.fds = map.data();
    o.nfds = map.size();
    o.flags = flags;
    fl_process *p = nullptr;
    fl_spawn_error e{};
    int rc = fl_spawn(&o, &p, &e);
    if (out_read != nullptr) {
        fl_fd_close(pipe[1]);
        if (rc == 0) *out_read = pipe[0];
        else fl_fd_close(pipe[0]);
    }
    EXPECT_EQ(rc, 0) << "spawn failed at " << fl_step_name(e.step) << ": "
                     << (fl_errno_name(e.err) ? fl_errno_name(e.err) : "?") << ", Win32 error "
                     << fl_win_last_error();
    return rc == 0 ? p : nullptr;
}

fl_process *SpawnHelper(const std::string &mode, const std::vector<std::string> &args,
                        unsigned flags) {
    return SpawnHelperPiped(mode, args, flags, nullptr);
}

std::string Pattern(size_t n, size_t from) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++) s[i] = (char)PatternByte(from + i);
    return s;
}

bool PidAlive(DWORD pid, int timeout_ms) {
    HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, pid);
    if (h == nullptr) return false;
    bool alive = WaitForSingleObject(h, (DWORD)timeout_ms) == WAIT_TIMEOUT;
    CloseHandle(h);
    return alive;
}

static uint64_t CreatedAt(HANDLE h) {
    FILETIME c, e, k, u;
    if (!GetProcessTimes(h, &c, &e, &k, &u)) return 0;
    return (uint64_t)c.dwHighDateTime << 32 | c.dwLowDateTime;
}

// A process's parent PID is never updated: once a parent exits its PID can be reused, by this
// process even (Wine reuses PIDs at once; ctest -j2 runs two test binaries side by side), and
// the orphan then looks like our child. A real child cannot be older than we are.
static bool IsOurLiveChild(DWORD pid, uint64_t self_created) {
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, pid);
    if (h == nullptr) return false;
    bool ours = WaitForSingleObject(h, 0) == WAIT_TIMEOUT && CreatedAt(h) >= self_created;
    CloseHandle(h);
    return ours;
}

std::vector<DWORD> LiveChildren() {
    std::vector<DWORD> out;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) return out;
    PROCESSENTRY32W e;
    e.dwSize = sizeof e;
    DWORD self = GetCurrentProcessId();
    uint64_t self_created = CreatedAt(GetCurrentProcess());
    for (BOOL ok = Process32FirstW(snap, &e); ok; ok = Process32NextW(snap, &e)) {
        if (e.th32ParentProcessID == self && e.th32ProcessID != self &&
            IsOurLiveChild(e.th32ProcessID, self_created)) {
            out.push_back(e.th32ProcessID);
        }
    }
    CloseHandle(snap);
    return out;
}

std::string WineVersion() {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    if (ntdll == nullptr) return "";
    typedef const char *(*get_version_fn)(void);
    auto fn = reinterpret_cast<get_version_fn>(
        reinterpret_cast<void (*)(void)>(GetProcAddress(ntdll, "wine_get_version")));
    return fn ? fn() : "";
}

std::vector<std::string> SplitNul(const std::string &s) {
    std::vector<std::string> v;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t end = s.find('\0', pos);
        if (end == std::string::npos) end = s.size();
        v.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return v;
}

TempDir::TempDir() {
    wchar_t base[MAX_PATH];
    GetTempPathW(MAX_PATH, base);
    static int counter;
    std::wstring dir = std::wstring(base) + L"fltest-" + std::to_wstring(GetCurrentProcessId()) +
                       L"-" + std::to_wstring(++counter);
    CreateDirectoryW(dir.c_str(), nullptr);
    path_ = Utf8(dir);
}

static void RemoveTree(const std::wstring &dir) {
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW((dir + L"\\*").c_str(), &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            std::wstring name = fd.cFileName;
            if (name == L"." || name == L"..") continue;
            std::wstring full = dir + L"\\" + name;
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) RemoveTree(full);
            else DeleteFileW(full.c_str());
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    RemoveDirectoryW(dir.c_str());
}

TempDir::~TempDir() { RemoveTree(Wide(path_)); }

std::string TempDir::WriteFile(const std::string &name, const std::string &content) {
    std::string path = Join(name);
    HANDLE h = CreateFileW(Wide(path).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h != INVALID_HANDLE_VALUE) {
        DWORD n;
        ::WriteFile(h, content.data(), (DWORD)content.size(), &n, nullptr);
        CloseHandle(h);
    }
    return path;
}

void LeakCheckedWinTest::SetUp() {
    fl_reap_orphans();
    GetProcessHandleCount(GetCurrentProcess(), &handles_before_);
}

void LeakCheckedWinTest::TearDown() {
    int64_t deadline = NowMs() + 5000;
    while (fl_reap_orphans() > 0 && NowMs() < deadline) Sleep(5);
    std::vector<DWORD> kids = LiveChildren();
    EXPECT_TRUE(kids.empty()) << kids.size() << " child process(es) still running, first pid "
                              << (kids.empty() ? 0 : kids[0]);
    for (DWORD pid : kids) {
        HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, pid);
        if (h) {
            TerminateProcess(h, 1);
            CloseHandle(h);
        }
    }
    DWORD after = 0;
    GetProcessHandleCount(GetCurrentProcess(), &after);
    EXPECT_LE(after, handles_before_) << "handles leaked: " << handles_before_ << " before, "
                                      << after << " after";
}

}  // namespace fltest
