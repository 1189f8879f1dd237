/* Win32 errors as errno values. The core's convention is -errno everywhere (forkless.h), so the
 * Java side and C callers handle one vocabulary on every platform. The mapping keeps the meaning a
 * caller acts on (not found, no permission, out of resources, bad argument); the table:
 *
 *   ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_INVALID_DRIVE,
 *   ERROR_BAD_NETPATH, ERROR_BAD_NET_NAME, ERROR_MOD_NOT_FOUND        ENOENT
 *   ERROR_DIRECTORY (a "directory" that is not one)                    ENOTDIR
 *   ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION,
 *   ERROR_ELEVATION_REQUIRED                                           EACCES
 *   ERROR_PRIVILEGE_NOT_HELD                                           EPERM
 *   ERROR_INVALID_HANDLE                                               EBADF
 *   ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY, ERROR_COMMITMENT_LIMIT ENOMEM
 *   ERROR_TOO_MANY_OPEN_FILES, ERROR_NO_SYSTEM_RESOURCES               EMFILE / EAGAIN
 *   ERROR_BAD_EXE_FORMAT, ERROR_EXE_MACHINE_TYPE_MISMATCH,
 *   ERROR_BAD_FORMAT, ERROR_EXE_MARKED_INVALID                          ENOEXEC
 *   ERROR_FILENAME_EXCED_RANGE, ERROR_BUFFER_OVERFLOW                  ENAMETOOLONG
 *   ERROR_INVALID_PARAMETER, ERROR_INVALID_NAME, ERROR_BAD_PATHNAME,
 *   ERROR_NO_UNICODE_TRANSLATION (EILSEQ)                              EINVAL
 *   ERROR_BROKEN_PIPE, ERROR_NO_DATA                                   EPIPE
 *   ERROR_NOT_SUPPORTED, ERROR_CALL_NOT_IMPLEMENTED                    ENOSYS
 *   ERROR_ALREADY_EXISTS, ERROR_FILE_EXISTS                            EEXIST
 *   WAIT_TIMEOUT, ERROR_TIMEOUT                                        ETIMEDOUT
 *   ERROR_OPERATION_ABORTED                                            ECANCELED
 *   anything else                                                      EIO
 *
 * EIO loses information, so every place that maps an error also keeps the raw code per thread:
 * fl_win_last_error() (forkless.h) gives it to a caller that wants to print it. */
#include <errno.h>

#include "internal_win.h"

#ifndef ERROR_ELEVATION_REQUIRED /* missing from older mingw-w64 headers */
#define ERROR_ELEVATION_REQUIRED 740
#endif

static _Thread_local uint32_t last_error;

uint32_t fl_win_last_error(void) { return last_error; }

int fl_win_errno(DWORD e) {
    switch (e) {
        case ERROR_SUCCESS: return EIO; /* a failure without a reason: never report success */
        case ERROR_FILE_NOT_FOUND:
        case ERROR_PATH_NOT_FOUND:
        case ERROR_INVALID_DRIVE:
        case ERROR_BAD_NETPATH:
        case ERROR_BAD_NET_NAME:
        case ERROR_MOD_NOT_FOUND: return ENOENT;
        case ERROR_DIRECTORY: return ENOTDIR;
        case ERROR_ACCESS_DENIED:
        case ERROR_SHARING_VIOLATION:
        case ERROR_LOCK_VIOLATION:
        case ERROR_ELEVATION_REQUIRED: return EACCES;
        case ERROR_PRIVILEGE_NOT_HELD: return EPERM;
        case ERROR_INVALID_HANDLE: return EBADF;
        case ERROR_NOT_ENOUGH_MEMORY:
        case ERROR_OUTOFMEMORY:
        case ERROR_COMMITMENT_LIMIT: return ENOMEM;
        case ERROR_TOO_MANY_OPEN_FILES: return EMFILE;
        case ERROR_NO_SYSTEM_RESOURCES: return EAGAIN;
        case ERROR_BAD_EXE_FORMAT:
        case ERROR_EXE_MACHINE_TYPE_MISMATCH:
        case ERROR_BAD_FORMAT:
        case ERROR_EXE_MARKED_INVALID: return ENOEXEC;
        case ERROR_FILENAME_EXCED_RANGE:
        case ERROR_BUFFER_OVERFLOW: return ENAMETOOLONG;
        case ERROR_INVALID_PARAMETER:
        case ERROR_INVALID_NAME:
        case ERROR_BAD_PATHNAME:
        case ERROR_NO_UNICODE_TRANSLATION: return EINVAL;
        case ERROR_BROKEN_PIPE:
        case ERROR_NO_DATA: return EPIPE;
        case ERROR_NOT_SUPPORTED:
        case ERROR_CALL_NOT_IMPLEMENTED: return ENOSYS;
        case ERROR_ALREADY_EXISTS:
        case ERROR_FILE_EXISTS: return EEXIST;
        case WAIT_TIMEOUT:
        case ERROR_TIMEOUT: return ETIMEDOUT;
        case ERROR_OPERATION_ABORTED: return ECANCELED;
        default: return EIO;
    }
}

int fl_win_fail(DWORD e) {
    last_error = e;
    return -fl_win_errno(e);
}
