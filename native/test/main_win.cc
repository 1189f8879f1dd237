// main() of the Windows forkless_tests.exe: runs the Google Test suites, or, when started as
//
//     forkless_tests.exe --fl-helper MODE ARGS...
//
// acts as the helper child the suites spawn. The helper writes to its standard output handle
// with WriteFile (no C runtime text-mode translation) and ends with ExitProcess.
//
// Modes:
//   exit N           exit with code N (decimal, or 0x... for any 32-bit value)
//   crash            write through a null pointer: dies with STATUS_ACCESS_VIOLATION
//   argv             the command line split by CommandLineToArgvW, each string + NUL, UTF-8
//   crtargv          main()'s argv as the C runtime split it (ANSI code page), each + NUL
//   env              every environment string (GetEnvironmentStringsW), each + NUL
//   cwd              GetCurrentDirectoryW
//   sleep [MS [CODE]] sleep forever, or MS ms then exit with CODE
//   burn MS          spin until MS ms of user CPU time, touching 32 MiB first
//   tree             start a grandchild (this binary, "sleep"), print its PID and a newline,
//                    then sleep forever
//   dwp              start a grandchild "sleep" with FL_SPAWN_DIE_WITH_PARENT through the
//                    library, print its PID and a newline, then sleep forever (until killed)
//   write H TEXT     write TEXT to the inherited handle value H (decimal); exit 0 if all went
//   bigout N         write N bytes of fltest::PatternByte to stdout (in 64 KiB WriteFiles)
//   cat              copy stdin to stdout until end of file
//   tee2             copy stdin to both stdout and stderr until end of file
//   noread N         never read stdin; write N pattern bytes to stdout and exit 0
//   ctrlbreak        install a console control handler that exits with 42 on CTRL_BREAK, print
//                    "ready\n", sleep up to 20 s, then exit 1
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "test_util_win.h"


namespace fltest {
extern std::string g_self_exe;
}

namespace {

void OutTo(HANDLE h, const std::string &s) {
    const char *p = s.data();
    size_t len = s.size();
    while (len > 0) {
        DWORD n = 0;
        if (!WriteFile(h, p, (DWORD)len, &n, nullptr) || n == 0) ExitProcess(121);
        p += n;
        len -= n;
    }
}

void Out(const std::string &s) {
    OutTo(GetStdHandle(STD_OUTPUT_HANDLE), s);
}

void OutPattern(size_t total) {
    std::string chunk;
    for (size_t off = 0; off < total; off += chunk.size()) {
        size_t n = total - off < 65536 ? total - off : 65536;
        chunk.resize(n);
        for (size_t i = 0; i < n; i++) chunk[i] = (char)fltest::PatternByte(off + i);
        Out(chunk);
    }
}

// Plain synchronous ReadFile on stdin, as any child does; 1 at end of file or on error.
void Copy(bool to_stderr) {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    static char buf[65536];
    for (;;) {
        DWORD n = 0;
        if (!ReadFile(in, buf, sizeof buf, &n, nullptr) || n == 0) return;
        Out(std::string(buf, n));
        if (to_stderr) OutTo(GetStdHandle(STD_ERROR_HANDLE), std::string(buf, n));
    }
}

DWORD SpawnGrandchild() {
    std::wstring cmd = L"\"" + fltest::Wide(fltest::SelfExe()) + L"\" --fl-helper sleep";
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    if (!CreateProcessW(nullptr, &cmd[0], nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi)) {
        ExitProcess(122);
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return pi.dwProcessId;
}

BOOL WINAPI OnCtrl(DWORD type) {
    if (type == CTRL_BREAK_EVENT) ExitProcess(42);
    return FALSE;
}

int HelperMain(int argc, char **argv) {
    std::string m = argv[2];
    auto arg = [&](int i) -> const char * { return 3 + i < argc ? argv[3 + i] : nullptr; };
    if (m == "exit") {
        ExitProcess(arg(0) ? (UINT)strtoul(arg(0), nullptr, 0) : 120);
    } else if (m == "crash") {
        SetErrorMode(SEM_NOGPFAULTERRORBOX | SEM_FAILCRITICALERRORS);
        volatile int *volatile nowhere = nullptr;
        *nowhere = 1;
    } else if (m == "argv") {
        int n = 0;
        LPWSTR *w = CommandLineToArgvW(GetCommandLineW(), &n);
        std::string s;
        for (int i = 0; i < n; i++) s += fltest::Utf8(w[i]) + std::string(1, '\0');
        LocalFree(w);
        Out(s);
    } else if (m == "crtargv") {
        std::string s;
        for (int i = 0; i < argc; i++) s += std::string(argv[i]) + std::string(1, '\0');
        Out(s);
    } else if (m == "env") {
        wchar_t *block = GetEnvironmentStringsW();
        std::string s;
        for (wchar_t *e = block; *e; e += wcslen(e) + 1) s += fltest::Utf8(e) + std::string(1, '\0');
        FreeEnvironmentStringsW(block);
        Out(s);
    } else if (m == "cwd") {
        wchar_t buf[MAX_PATH];
        GetCurrentDirectoryW(MAX_PATH, buf);
        Out(fltest::Utf8(buf));
    } else if (m == "sleep") {
        if (arg(0) == nullptr) {
            Sleep(INFINITE);
        }
        Sleep((DWORD)atol(arg(0)));
        ExitProcess(arg(1) ? (UINT)atoi(arg(1)) : 0);
    } else if (m == "burn") {
        long ms = arg(0) ? atol(arg(0)) : 100;
        size_t bytes = 32u << 20;
        volatile char *mem = static_cast<volatile char *>(malloc(bytes));
        for (size_t off = 0; mem && off < bytes; off += 4096) mem[off] = 1;
        volatile unsigned long x = 0;
        for (;;) {
            FILETIME c, e, k, u;
            GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u);
            ULARGE_INTEGER t;
            t.LowPart = u.dwLowDateTime;
            t.HighPart = u.dwHighDateTime;
            if ((long)(t.QuadPart / 10000) >= ms) break;
            for (int i = 0; i < 100000; i++) x = x + (unsigned long)i;
        }
    } else if (m == "tree") {
        DWORD pid = SpawnGrandchild();
        Out(std::to_string(pid) + "\n");
        Sleep(INFINITE);
    } else if (m == "dwp") {
        fl_process *p = fltest::SpawnHelper("sleep", {}, FL_SPAWN_DIE_WITH_PARENT);
        if (p == nullptr) ExitProcess(123);
        Out(std::to_string(fl_process_pid(p)) + "\n");
        Sleep(INFINITE);
    } else if (m == "write") {
        if (arg(1) == nullptr) ExitProcess(120);
        HANDLE h = (HANDLE)(intptr_t)_strtoi64(arg(0), nullptr, 10);
        DWORD n = 0;
        size_t len = strlen(arg(1));
        ExitProcess(WriteFile(h, arg(1), (DWORD)len, &n, nullptr) && n == len ? 0 : 1);
    } else if (m == "bigout") {
        OutPattern(arg(0) ? (size_t)_strtoui64(arg(0), nullptr, 10) : 0);
    } else if (m == "cat") {
        Copy(false);
    } else if (m == "tee2") {
        Copy(true);
    } else if (m == "noread") {
        OutPattern(arg(0) ? (size_t)_strtoui64(arg(0), nullptr, 10) : 0);
    } else if (m == "ctrlbreak") {
        SetConsoleCtrlHandler(OnCtrl, TRUE);
        Out("ready\n");
        Sleep(20000);
        ExitProcess(1);
    } else {
        ExitProcess(119);
    }
    ExitProcess(0);
}

std::string ResolveSelf() {
    wchar_t buf[32768];
    DWORD n = GetModuleFileNameW(nullptr, buf, 32768);
    if (n == 0 || n >= 32768) {
        fprintf(stderr, "GetModuleFileNameW failed\n");
        exit(2);
    }
    return fltest::Utf8(std::wstring(buf, n));
}

}  // namespace

int main(int argc, char **argv) {
    fltest::g_self_exe = ResolveSelf();
    if (argc >= 3 && strcmp(argv[1], "--fl-helper") == 0) return HelperMain(argc, argv);
    // A crashing child must not open a dialog (Windows Error Reporting, Wine's winedbg): the
    // error mode is inherited by children.
    SetErrorMode(SEM_NOGPFAULTERRORBOX | SEM_FAILCRITICALERRORS);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
