// Command-line quoting: every argument must come back unchanged through CommandLineToArgvW (in
// this process, exhaustively over a small alphabet, and in a child) and through the C runtime's
// own parser (in a child: the runtime parses only its own process's command line). And the
// batch-file rule: arguments cmd.exe would interpret are refused, the rest reach %1 %2 ...
#include <random>

#include "test_util_win.h"

using namespace fltest;

namespace {

class Quoting : public LeakCheckedWinTest {};

std::vector<std::string> ParseW(const wchar_t *line) {
    int n = 0;
    LPWSTR *w = CommandLineToArgvW(line, &n);
    std::vector<std::string> v;
    for (int i = 0; i < n; i++) v.push_back(Utf8(w[i]));
    LocalFree(w);
    return v;
}

std::vector<std::string> RoundTrip(const std::vector<std::string> &argv) {
    CStrings a(argv);
    wchar_t *line = nullptr;
    int rc = fl_win_command_line(a.get(), &line);
    EXPECT_EQ(rc, 0);
    if (rc != 0) return {};
    std::vector<std::string> v = ParseW(line);
    free(line);
    return v;
}

// Every string over the alphabet up to length max_len.
std::vector<std::string> AllStrings(const std::string &alphabet, size_t max_len) {
    std::vector<std::string> out = {""};
    std::vector<std::string> level = {""};
    for (size_t len = 1; len <= max_len; len++) {
        std::vector<std::string> next;
        for (const auto &s : level) {
            for (char c : alphabet) next.push_back(s + c);
        }
        out.insert(out.end(), next.begin(), next.end());
        level.swap(next);
    }
    return out;
}

const std::string kAlphabet = std::string("a \t\"\\");

TEST_F(Quoting, ExhaustiveInProcessAgainstCommandLineToArgvW) {
    // Each string alone, and between neighbours that would swallow a stray quote or backslash.
    auto all = AllStrings(kAlphabet, 7);  // 97656 strings
    size_t checked = 0;
    for (const auto &s : all) {
        std::vector<std::string> argv = {"prog", s};
        ASSERT_EQ(RoundTrip(argv), argv) << "[" << s << "]";
        argv = {"C:\\dir with space\\p.exe", "\\", s, "\"", ""};
        ASSERT_EQ(RoundTrip(argv), argv) << "[" << s << "]";
        checked++;
    }
    printf("%zu strings round-tripped\n", checked);
}

TEST_F(Quoting, RandomVectors) {
    std::mt19937 rng(12345);
    const std::string alphabet = kAlphabet + "b\n\v=%^&|";
    for (int round = 0; round < 3000; round++) {
        std::vector<std::string> argv = {"prog"};
        int n = (int)(rng() % 6);
        for (int i = 0; i < n; i++) {
            std::string s;
            int len = (int)(rng() % 9);
            for (int j = 0; j < len; j++) s += alphabet[rng() % alphabet.size()];
            argv.push_back(s);
        }
        ASSERT_EQ(RoundTrip(argv), argv);
    }
}

TEST_F(Quoting, Argv0Rules) {
    EXPECT_EQ(RoundTrip({"plain"}), (std::vector<std::string>{"plain"}));
    EXPECT_EQ(RoundTrip({"with space\\x.exe", "a"}),
              (std::vector<std::string>{"with space\\x.exe", "a"}));
    EXPECT_EQ(RoundTrip({"trailing\\", "a"}), (std::vector<std::string>{"trailing\\", "a"}));
    CStrings bad(std::vector<std::string>{"quo\"te", "a"});
    wchar_t *line = nullptr;
    EXPECT_EQ(fl_win_command_line(bad.get(), &line), -EINVAL);
    CStrings utf(std::vector<std::string>{"p", "caf\xc3\xa9 \xe2\x82\xac"});
    ASSERT_EQ(fl_win_command_line(utf.get(), &line), 0);
    EXPECT_EQ(ParseW(line), (std::vector<std::string>{"p", "caf\xc3\xa9 \xe2\x82\xac"}));
    free(line);
    std::string big(40000, 'x');
    CStrings toolong(std::vector<std::string>{"p", big});
    EXPECT_EQ(fl_win_command_line(toolong.get(), &line), -E2BIG);
}

// Runs the helper with args; returns what it reports (its argv minus the three fixed strings).
std::vector<std::string> ChildArgs(const char *mode, const std::vector<std::string> &args) {
    RunSpec s;
    s.argv = HelperArgv(mode, args);
    RunResult r = RunHelper(s);
    EXPECT_TRUE(r.spawned);
    EXPECT_EQ(r.status.code, 0);
    std::vector<std::string> got = SplitNul(r.out);
    if (got.size() < 3) return {};
    return std::vector<std::string>(got.begin() + 3, got.end());
}

TEST_F(Quoting, ChildRoundTripBothParsers) {
    // All strings up to length 5 over the alphabet, in chunks that fit a command line.
    auto all = AllStrings(kAlphabet, 5);  // 3906 strings
    const size_t chunk = 400;
    for (size_t at = 0; at < all.size(); at += chunk) {
        std::vector<std::string> args(all.begin() + (long)at,
                                      all.begin() + (long)std::min(all.size(), at + chunk));
        EXPECT_EQ(ChildArgs("argv", args), args) << "CommandLineToArgvW in the child";
        EXPECT_EQ(ChildArgs("crtargv", args), args) << "the C runtime's parser in the child";
    }
    std::vector<std::string> unicode = {"caf\xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80", ""};
    EXPECT_EQ(ChildArgs("argv", unicode), unicode);
}

TEST_F(Quoting, BatchFileRule) {
    const std::vector<std::string> ok = {"a b", "", "plain", "x,y", "k=v", "semi;colon",
                                         "back\\slash\\", "tab\there"};
    CStrings okv([&] {
        std::vector<std::string> v = {"ignored"};
        v.insert(v.end(), ok.begin(), ok.end());
        return v;
    }());
    wchar_t *line = nullptr;
    ASSERT_EQ(fl_win_batch_command_line(L"C:\\windows\\system32\\cmd.exe", L"C:\\d (x86)\\t.bat",
                                        okv.get(), &line),
              0);
    EXPECT_EQ(Utf8(line),
              "\"C:\\windows\\system32\\cmd.exe\" /e:ON /v:OFF /d /c \"\"C:\\d (x86)\\t.bat\" "
              "\"a b\" \"\" plain \"x,y\" \"k=v\" \"semi;colon\" \"back\\slash\\\" \"tab\there\"\"");
    free(line);
    for (const char *bad : {"%PATH%", "!x!", "a\"b", "a^b", "a&calc", "a|b", "a<b", "a>b", "(a",
                            "a)", "line\nbreak", "cr\rhere"}) {
        CStrings v(std::vector<std::string>{"ignored", "fine", bad});
        EXPECT_EQ(fl_win_batch_command_line(L"cmd.exe", L"t.bat", v.get(), &line), -EINVAL)
            << bad;
    }
    CStrings v(std::vector<std::string>{"ignored"});
    EXPECT_EQ(fl_win_batch_command_line(L"cmd.exe", L"C:\\100%\\t.bat", v.get(), &line), -EINVAL);
    EXPECT_TRUE(fl_win_is_batch(L"x.BAT"));
    EXPECT_TRUE(fl_win_is_batch(L"C:\\d\\x.cmd. . "));
    EXPECT_FALSE(fl_win_is_batch(L"x.exe"));
    EXPECT_FALSE(fl_win_is_batch(L"bat"));
}

TEST_F(Quoting, BatchFileRunsAndRefuses) {
    TempDir d;
    std::string bat = d.WriteFile("echo args.bat", "@echo off\r\necho [%1] [%2] [%3]\r\n");
    RunSpec s;
    s.program = bat;
    s.argv = {"echo args.bat", "one", "two words", "k=v"};
    RunResult r = RunHelper(s);
    if (!r.spawned) {
        ADD_FAILURE() << "spawn failed at " << fl_step_name(r.error.step) << " errno "
                      << r.error.err;
        return;
    }
    EXPECT_EQ(r.status.kind, FL_EXITED);
    EXPECT_EQ(r.status.code, 0);
    EXPECT_EQ(r.out, "[one] [\"two words\"] [\"k=v\"]\r\n");
    // Refused before anything runs; nothing is left behind (the fixture checks handles).
    for (const char *bad : {"&echo INJECTED", "%PATH%", "\"&calc"}) {
        s.argv = {"echo args.bat", bad};
        r = RunHelper(s);
        EXPECT_FALSE(r.spawned) << bad << " ran: " << r.out;
        EXPECT_EQ(r.error.step, FL_STEP_COMMAND_LINE);
        EXPECT_EQ(r.error.err, EINVAL);
    }
    // Found by name in PATH too (an extension given explicitly is kept).
    std::vector<std::string> env = {"PATH=" + d.path()};
    s.program = "echo args.bat";
    s.envp = &env;
    s.argv = {"x", "via-path"};
    r = RunHelper(s);
    ASSERT_TRUE(r.spawned) << fl_step_name(r.error.step) << " " << r.error.err;
    EXPECT_EQ(r.out, "[via-path] [] []\r\n");
}

}  // namespace
