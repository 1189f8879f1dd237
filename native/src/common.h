/* What every file of the core shares on every platform: the visibility of internal symbols and
 * the monotonic clock that timeouts are measured on. Not part of the public API. */
#ifndef FL_COMMON_H
#define FL_COMMON_H

#include <stdint.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

/* Internal symbols stay out of the shared library's export table: only the JNI entry points and
 * the public fl_* API are visible, so two copies of the core in one process cannot bind to each
 * other's internals. */
#if defined(__clang__) || defined(__GNUC__)
#define FL_HIDDEN __attribute__((visibility("hidden")))
#else
#define FL_HIDDEN
#endif

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC; GetTickCount64 on Windows). Deadlines
 * must not be computed on the wall clock: an NTP step or a suspended laptop would stretch or cut
 * them. */
static inline int64_t fl_now_ms(void) {
#ifdef _WIN32
    return (int64_t)GetTickCount64();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#endif
}

/* What is left of a deadline taken from fl_now_ms(), as a poll-style timeout: 0 once it has
 * passed, never negative, clamped to INT32_MAX. */
static inline int fl_remaining_ms(int64_t deadline_ms) {
    int64_t left = deadline_ms - fl_now_ms();
    if (left <= 0) return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

#endif /* FL_COMMON_H */
