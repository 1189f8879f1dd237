/*
 * exit_stamp: the child of bench ExitLatency. It reads CLOCK_MONOTONIC, writes the value in
 * nanoseconds (decimal, one line) to stdout and calls _exit(0) at once.
 *
 * The harness redirects stdout to a file and, once its onExit() callback has run, subtracts this
 * stamp from the System.nanoTime() taken in the callback: on Linux System.nanoTime() is
 * clock_gettime(CLOCK_MONOTONIC) too, so the two are directly comparable. What lies between the
 * two readings: one write() of ~20 bytes to a tmpfs file, the kernel tearing the process down
 * (exit_mm, closing files, exit_notify: only then does a pidfd poll as readable and waitpid
 * return), the watcher waking up and the future's completion chain. Linked statically so the
 * teardown has few mappings to drop; every library measured pays the same for it.
 *
 * No stdio, no atexit handlers, no buffers to flush: one write, then _exit.
 *
 *   exit_stamp [DELAY_US]   sleeps DELAY_US microseconds first (default 0), so that the watcher
 *                           is surely attached and idle when the exit comes
 */
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1) {
        long us = 0;
        for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++)
            us = us * 10 + (*p - '0');
        struct timespec d = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
        while (nanosleep(&d, &d) != 0) {
        }
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        _exit(2);
    unsigned long long ns = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;

    char buf[24];
    int i = sizeof buf;
    buf[--i] = '\n';
    do {
        buf[--i] = (char)('0' + ns % 10);
        ns /= 10;
    } while (ns != 0);
    ssize_t len = (ssize_t)(sizeof buf - (size_t)i);
    if (write(1, buf + i, (size_t)len) != len)
        _exit(3);
    _exit(0);
}
