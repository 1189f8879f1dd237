// The Win32 error mapping (errors_win.c) and the names the messages use.
#include "test_util_win.h"

namespace {

TEST(ErrorsWin, MapsWhatCallersActOn) {
    EXPECT_EQ(fl_win_errno(ERROR_FILE_NOT_FOUND), ENOENT);
    EXPECT_EQ(fl_win_errno(ERROR_PATH_NOT_FOUND), ENOENT);
    EXPECT_EQ(fl_win_errno(ERROR_DIRECTORY), ENOTDIR);
    EXPECT_EQ(fl_win_errno(ERROR_ACCESS_DENIED), EACCES);
    EXPECT_EQ(fl_win_errno(ERROR_INVALID_HANDLE), EBADF);
    EXPECT_EQ(fl_win_errno(ERROR_NOT_ENOUGH_MEMORY), ENOMEM);
    EXPECT_EQ(fl_win_errno(ERROR_BAD_EXE_FORMAT), ENOEXEC);
    EXPECT_EQ(fl_win_errno(ERROR_INVALID_PARAMETER), EINVAL);
    EXPECT_EQ(fl_win_errno(ERROR_BROKEN_PIPE), EPIPE);
    EXPECT_EQ(fl_win_errno(ERROR_NOT_SUPPORTED), ENOSYS);
    EXPECT_EQ(fl_win_errno(ERROR_SUCCESS), EIO) << "a failure is never reported as success";
    EXPECT_EQ(fl_win_errno(12345), EIO);
    // The raw code stays available.
    EXPECT_EQ(fl_win_fail(ERROR_BAD_EXE_FORMAT), -ENOEXEC);
    EXPECT_EQ(fl_win_last_error(), (uint32_t)ERROR_BAD_EXE_FORMAT);
}

TEST(ErrorsWin, Names) {
    EXPECT_STREQ(fl_errno_name(EILSEQ), "EILSEQ");
    EXPECT_STREQ(fl_errno_name(ENOEXEC), "ENOEXEC");
    EXPECT_STREQ(fl_step_name(FL_STEP_COMMAND_LINE), "command_line");
    EXPECT_STREQ(fl_step_name(FL_STEP_JOB), "job");
    EXPECT_STREQ(fl_spawn_strategy_name(FL_STRATEGY_WIN_SUSPENDED), "suspended-assign");
}

// FL_OPEN_DIRECTORY: a directory opens (for reading only), a file does not; the cgroup calls are
// Linux's and say so.
TEST(FdWin, OpenDirectoryAndCgroupsUnsupported) {
    fltest::TempDir tmp;
    fl_fd fd = -1;
    ASSERT_EQ(fl_fd_open(tmp.path().c_str(), FL_OPEN_READ | FL_OPEN_DIRECTORY, 0, &fd), 0);
    EXPECT_EQ(fl_cgroup_populated(fd), -ENOSYS);
    EXPECT_EQ(fl_cgroup_signal(fd, 9), -ENOSYS);
    fl_fd leaf = -1;
    EXPECT_EQ(fl_cgroup_create(fd, "x", &leaf), -ENOSYS);
    EXPECT_EQ(fl_cgroup_remove(fd, "x"), -ENOSYS);
    EXPECT_EQ(fl_cgroup_claim(fd, 0), -ENOSYS);
    EXPECT_EQ(fl_fd_close(fd), 0);
    std::string file = tmp.WriteFile("f.txt", "x");
    EXPECT_EQ(fl_fd_open(file.c_str(), FL_OPEN_READ | FL_OPEN_DIRECTORY, 0, &fd), -ENOTDIR);
    EXPECT_EQ(fl_fd_open(tmp.path().c_str(), FL_OPEN_WRITE | FL_OPEN_DIRECTORY, 0, &fd), -EINVAL);
}

}  // namespace
