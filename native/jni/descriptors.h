/*
 * Java names descriptors with ints on every platform (OwnedFd.rawFd(), Native's fd parameters).
 * On POSIX that int is the descriptor itself. On Windows the core's fl_fd is a HANDLE, a pointer
 * wide value, so the JNI layer keeps a table (descriptors_win.c): each HANDLE the JVM owns through
 * Forkless gets a small int, 0, 1 and 2 standing for this process's standard handles.
 *
 *   fl_jni_fd_in(fd)      the fl_fd for a Java descriptor; (fl_fd)-1 if it names nothing
 *   fl_jni_fd_out(h)      a Java descriptor now owning h (Windows: a new table entry, >= 3),
 *                         or -errno (the caller still owns h then)
 *   fl_jni_fd_remove(fd)  the fl_fd, forgotten by the table (the caller closes it); (fl_fd)-1 if
 *                         fd names nothing
 */
#ifndef FORKLESS_JNI_DESCRIPTORS_H
#define FORKLESS_JNI_DESCRIPTORS_H

#include <jni.h>

#include "forkless.h"

#if defined(_WIN32)
fl_fd fl_jni_fd_in(jint fd);
jint fl_jni_fd_out(fl_fd h);
fl_fd fl_jni_fd_remove(jint fd);
#else
_Static_assert(sizeof(fl_fd) == sizeof(jint), "fl_fd must be an int on this platform");
static inline fl_fd fl_jni_fd_in(jint fd) { return (fl_fd)fd; }
static inline jint fl_jni_fd_out(fl_fd fd) { return (jint)fd; }
static inline fl_fd fl_jni_fd_remove(jint fd) { return (fl_fd)fd; }
#endif

#endif
