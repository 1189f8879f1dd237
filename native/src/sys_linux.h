/*
 * Raw Linux system calls, usable inside a vfork-style child.
 *
 * Why not libc's syscall(): it stores failures in errno, and errno lives in the thread-local
 * storage that a CLONE_VM child shares with the parent thread it borrowed. These inline versions
 * return -errno in the result and touch no memory but their arguments. Architectures other than
 * x86_64 and aarch64 fall back to syscall() with errno saved and restored around it.
 */
#ifndef FL_SYS_LINUX_H
#define FL_SYS_LINUX_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Newer system call numbers are the same on every architecture (the unified table). */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* The kernel's struct sigaction on x86_64 and aarch64 (both have sa_restorer). Only the handler is
 * read, and only SIG_DFL with no flags is written, so the layout elsewhere is not load-bearing. */
struct fl_ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};
#define FL_KSIGSET_SIZE 8 /* _NSIG / 8: what rt_sig* calls expect */

#if defined(__x86_64__)
static inline long fl_sys6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long fl_sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#else
static inline long fl_sys6(long n, long a, long b, long c, long d, long e, long f) {
    int saved = errno;
    long ret = syscall(n, a, b, c, d, e, f);
    if (ret == -1) ret = -errno;
    errno = saved;
    return ret;
}
#endif

#define FL_SYS0(n) fl_sys6((n), 0, 0, 0, 0, 0, 0)
#define FL_SYS1(n, a) fl_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define FL_SYS2(n, a, b) fl_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define FL_SYS3(n, a, b, c) fl_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define FL_SYS4(n, a, b, c, d) fl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define FL_SYS5(n, a, b, c, d, e) \
    fl_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif /* FL_SYS_LINUX_H */
