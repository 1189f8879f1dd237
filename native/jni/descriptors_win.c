/*
 * The Windows table behind descriptors.h: Java's int descriptors for the HANDLEs it owns.
 *
 * Why a table and not the C runtime's descriptors (_open_osfhandle): the runtime's table is
 * limited (2048 in msvcrt), shared with any other native code in the JVM, and its _close is the
 * only way to let go of a handle it owns. Ours grows as needed and hands numbers back for reuse,
 * lowest first, as POSIX does.
 *
 * Hazard: a number is reused as soon as its entry is removed, like a POSIX descriptor; Java's
 * OwnedFd is what stops a stale number from being used after its close.
 */
#include <errno.h>
#include <stdlib.h>

#include <windows.h>

#include "descriptors.h"

static SRWLOCK lock = SRWLOCK_INIT;
static fl_fd *slots;   /* slots[i] for descriptor i + 3; (fl_fd)-1 when free */
static jint nslots;

fl_fd fl_jni_fd_in(jint fd) {
    if (fd >= 0 && fd <= 2) {
        static const DWORD std[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
        HANDLE h = GetStdHandle(std[fd]);
        return h == NULL ? (fl_fd)-1 : (fl_fd)(intptr_t)h;
    }
    fl_fd h = (fl_fd)-1;
    AcquireSRWLockShared(&lock);
    if (fd >= 3 && fd - 3 < nslots) h = slots[fd - 3];
    ReleaseSRWLockShared(&lock);
    return h;
}

jint fl_jni_fd_out(fl_fd h) {
    if (h == (fl_fd)-1) return -EBADF;
    jint fd = -EMFILE;
    AcquireSRWLockExclusive(&lock);
    for (jint i = 0; i < nslots; i++) {
        if (slots[i] == (fl_fd)-1) {
            slots[i] = h;
            fd = i + 3;
            break;
        }
    }
    if (fd < 0 && nslots < 1 << 24) {
        jint grown = nslots == 0 ? 64 : nslots * 2;
        fl_fd *bigger = realloc(slots, (size_t)grown * sizeof *slots);
        if (bigger == NULL) {
            fd = -ENOMEM;
        } else {
            for (jint i = nslots; i < grown; i++) bigger[i] = (fl_fd)-1;
            slots = bigger;
            slots[nslots] = h;
            fd = nslots + 3;
            nslots = grown;
        }
    }
    ReleaseSRWLockExclusive(&lock);
    return fd;
}

fl_fd fl_jni_fd_remove(jint fd) {
    fl_fd h = (fl_fd)-1;
    AcquireSRWLockExclusive(&lock);
    if (fd >= 3 && fd - 3 < nslots) {
        h = slots[fd - 3];
        slots[fd - 3] = (fl_fd)-1;
    }
    ReleaseSRWLockExclusive(&lock);
    return h;
}
