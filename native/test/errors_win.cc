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

}  // namespace
