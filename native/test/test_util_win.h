// Shared machinery of the Windows test suites (the *_win.cc files; the Linux suites use
// test_util.h).
//
// As on Linux the test binary is its own helper child: the suites spawn it with
// "--fl-helper MODE ARGS..." (main_win.cc lists the modes) and read what it writes to its stdout
// through a pipe. Every test runs in the LeakCheckedWinTest fixture, which fails it if this
// process holds more handles after the test than before, or if a child process of ours still
// runs.
#ifndef FL_TEST_UTIL_WIN_H
#define FL_TEST_UTIL_WIN_H

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "internal_win.h"

#include <shellapi.h> /* CommandLineToArgvW; after windows.h */

namespace fltest {

// The absolute path of this test binary, UTF-8.
const std::string &SelfExe();

// { SelfExe(), "--fl-helper", mode, args... } (argv0 replaces the first when not empty).
std::vector<std::string> HelperArgv(const std::string &mode, const std::vector<std::string> &args = {},
                                    const std::string &argv0 = "");

// A NULL-terminated char* array over strings.
class CStrings {
  public:
    explicit CStrings(const std::vector<std::string> &v) : strs_(v) {
        for (auto &s : strs_) ptrs_.push_back(s.c_str());
        ptrs_.push_back(nullptr);
    }
    const char *const *get() const { return ptrs_.data(); }

  private:
    std::vector<std::string> strs_;
    std::vector<const char *> ptrs_;
};

struct RunSpec {
    std::string program;                             // default: SelfExe()
    std::vector<std::string> argv;                   // required
    const std::vector<std::string> *envp = nullptr;  // NULL: inherit
    const char *cwd = nullptr;
    unsigned flags = 0;
    std::vector<fl_fd_map> extra;                    // after {1 <- pipe, 2 <- our stderr}
};
struct RunResult {
    bool spawned = false;
    int rc = 0;
    fl_spawn_error error{};
    std::string out;
    fl_exit_status status{};
};
// Spawns, reads the child's stdout to EOF, waits (at most 30 s, then kills it).
RunResult RunHelper(const RunSpec &spec);

// Spawns a helper with stdout and stderr going to our stderr; fails the test and returns NULL
// if the spawn fails.
fl_process *SpawnHelper(const std::string &mode, const std::vector<std::string> &args = {},
                        unsigned flags = 0);
// Spawns a helper whose stdout is a pipe; returns the read end in *out_read (caller closes).
fl_process *SpawnHelperPiped(const std::string &mode, const std::vector<std::string> &args,
                             unsigned flags, fl_fd *out_read);
// Reads one '\n'-terminated line from a pipe (blocking).
std::string ReadLine(fl_fd fd);
std::string ReadAll(fl_fd fd);

// Whether the process with this PID still runs (OpenProcess + WaitForSingleObject(0)); waits up
// to timeout_ms for it to end first.
bool PidAlive(DWORD pid, int timeout_ms = 0);
// Live processes whose parent is this process.
std::vector<DWORD> LiveChildren();

// Whether this runs under Wine (ntdll exports wine_get_version), and its version ("" if not).
std::string WineVersion();

// The byte at offset i of the helpers' test data (bigout, noread): NULs and every other value.
inline unsigned char PatternByte(size_t i) {
    return (unsigned char)((i * 131u) ^ (i >> 12));
}
std::string Pattern(size_t n, size_t from = 0);

std::vector<std::string> SplitNul(const std::string &s);
std::string Utf8(const std::wstring &w);
std::wstring Wide(const std::string &s);
int64_t NowMs();

// A temporary directory, removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string Join(const std::string &name) const { return path_ + "\\" + name; }
    std::string WriteFile(const std::string &name, const std::string &content);

  private:
    std::string path_;
};

class LeakCheckedWinTest : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;
    DWORD handles_before_ = 0;
};

}  // namespace fltest

#endif  // FL_TEST_UTIL_WIN_H
