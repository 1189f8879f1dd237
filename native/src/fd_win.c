/* Handles as fl_fd on Windows: files, anonymous pipes, close, read, write.
 *
 * Everything is created non-inheritable: fl_spawn passes a handle to a child only through its fd
 * map (spawn_win.c), so a handle made here never leaks into an unrelated child. fl_fd_pipe gives
 * anonymous pipes: synchronous ends that any child can use, which cannot be made non-blocking
 * (PIPE_NOWAIT exists only for compatibility and Microsoft says not to use it), so
 * fl_fd_set_nonblocking answers -ENOTSUP for them. The asynchronous ends of
 * fl_fd_pipe_for_child (overlapped named pipes) live in pipe_win.c; read, write, close and
 * set_nonblocking hand those over to it. */
#include <errno.h>
#include <stdlib.h>

#include "internal_win.h"

int fl_fd_open(const char *path, unsigned flags, int mode, fl_fd *out) {
    (void)mode; /* no POSIX permission bits; the new file gets the directory's inherited ACL */
    if (path == NULL || out == NULL) return -EINVAL;
    wchar_t *w;
    int rc = fl_win_utf16(path, &w);
    if (rc < 0) return rc;
    int dir = (flags & FL_OPEN_DIRECTORY) != 0;
    if (dir && (flags & (FL_OPEN_READ | FL_OPEN_WRITE | FL_OPEN_APPEND | FL_OPEN_CREATE)) != FL_OPEN_READ) {
        free(w);
        return -EINVAL;
    }
    DWORD access = 0;
    if (flags & FL_OPEN_READ) access |= GENERIC_READ;
    if (flags & FL_OPEN_APPEND) {
        /* Without FILE_WRITE_DATA every write goes to the end, atomically, as O_APPEND. */
        access |= FILE_APPEND_DATA | SYNCHRONIZE;
    } else if (flags & FL_OPEN_WRITE) {
        access |= GENERIC_WRITE;
    }
    DWORD disp;
    if (flags & FL_OPEN_CREATE) {
        if (flags & FL_OPEN_EXCLUSIVE) disp = CREATE_NEW;
        else if (flags & FL_OPEN_TRUNCATE) disp = CREATE_ALWAYS;
        else disp = OPEN_ALWAYS;
    } else {
        disp = (flags & FL_OPEN_TRUNCATE) ? TRUNCATE_EXISTING : OPEN_EXISTING;
    }
    /* Only FILE_FLAG_BACKUP_SEMANTICS opens a directory; it also opens files, hence the check. */
    HANDLE h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           disp, dir ? FILE_FLAG_BACKUP_SEMANTICS : FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD e = GetLastError();
    free(w);
    if (h == INVALID_HANDLE_VALUE) return fl_win_fail(e);
    if (dir) {
        BY_HANDLE_FILE_INFORMATION info;
        if (!GetFileInformationByHandle(h, &info) || !(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
            CloseHandle(h);
            return -ENOTDIR;
        }
    }
    *out = (fl_fd)(intptr_t)h;
    return 0;
}

int fl_fd_pipe(fl_fd fds[2]) {
    HANDLE r, w;
    if (!CreatePipe(&r, &w, NULL, 0)) return fl_win_fail(GetLastError());
    fds[0] = (fl_fd)(intptr_t)r;
    fds[1] = (fl_fd)(intptr_t)w;
    return 0;
}

int fl_fd_close(fl_fd fd) {
    /* An asynchronous end: its read-ahead ends first; with a write pending pipe_win.c closes the
     * handle itself once that write completed. */
    if (fl_pipe_close(fd) == 2) return 0;
    if (!CloseHandle((HANDLE)fd)) return fl_win_fail(GetLastError());
    return 0;
}

int fl_fd_set_nonblocking(fl_fd fd, int on) {
    int rc = fl_pipe_set_nonblocking(fd, on);
    if (rc != -ENOENT) return rc;
    /* Not one of ours: files never wait for a peer (as O_NONBLOCK on a regular file, nothing
     * changes); a synchronous pipe or console cannot stop blocking. */
    DWORD type = GetFileType((HANDLE)fd);
    if (type == FILE_TYPE_UNKNOWN && GetLastError() != NO_ERROR) return fl_win_fail(GetLastError());
    if (type == FILE_TYPE_DISK || !on) return 0;
    return -ENOTSUP;
}

int64_t fl_fd_read(fl_fd fd, void *buf, size_t len) {
    int64_t rc = fl_pipe_read(fd, buf, len);
    if (rc != -ENOENT) return rc;
    DWORD n = 0, want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    if (!ReadFile((HANDLE)fd, buf, want, &n, NULL)) {
        DWORD e = GetLastError();
        if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF) return 0; /* the writer is gone */
        return fl_win_fail(e);
    }
    return n;
}

int64_t fl_fd_write(fl_fd fd, const void *buf, size_t len) {
    int64_t rc = fl_pipe_write(fd, buf, len);
    if (rc != -ENOENT) return rc;
    DWORD n = 0, want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    if (!WriteFile((HANDLE)fd, buf, want, &n, NULL)) {
        DWORD e = GetLastError();
        if (e == ERROR_NO_DATA || e == ERROR_BROKEN_PIPE) return -EPIPE; /* the reader is gone */
        return fl_win_fail(e);
    }
    return n;
}
