/* Command lines for Windows children.
 *
 * Windows passes a child one string, not an array: every program splits its command line itself,
 * almost always with the Microsoft C runtime's rules (the same as CommandLineToArgvW since
 * msvcr80):
 *   - arguments are separated by spaces and tabs outside double quotes;
 *   - 2n backslashes followed by '"' are n backslashes and a quote that opens or closes a quoted
 *     part; 2n+1 backslashes followed by '"' are n backslashes and a literal '"';
 *   - backslashes not followed by '"' are literal;
 *   - argv[0] is special: it ends at the first space or tab outside quotes and backslashes do not
 *     escape anything in it, so a program name with a '"' cannot be written at all.
 * So the writer here quotes an argument only when it must (empty, or containing a space, tab,
 * newline, vertical tab or '"'), doubles the backslashes that precede a '"' or the closing quote,
 * and escapes each '"'. This round-trips every string without NUL through both readers (the tests
 * check it against CommandLineToArgvW and the C runtime of the test binary). The older rule of
 * msvcrt.dll before 2008 (a '""' inside quotes is a literal quote) never matters: the writer never
 * emits '""' inside a quoted part.
 *
 * Batch files are different: CreateProcessW runs a .bat or .cmd with `cmd.exe /c`, and cmd.exe
 * parses the whole line again with its own rules (%VAR% and !VAR! expansion, ^ escapes, & | < >
 * ( ) operators, no backslash escaping of quotes). An argument quoted for the C runtime can then
 * run a different command ("BatBadBut", CVE-2024-24576 and siblings in Rust, Node, Go, ...).
 * No quoting makes every string safe for cmd.exe: % is expanded even inside quotes and a quote
 * cannot be escaped. The rule here, chosen to be simple and strict:
 *
 *   An argument of a batch file is refused (FL_STEP_COMMAND_LINE, EINVAL) if it contains any of
 *   % ! " ^ & | < > ( ) or a CR, LF or other control character below 0x20 except tab. Other
 *   arguments are passed; one that is empty, ends with a backslash, or contains a space, tab,
 *   ',', ';' or '=' (cmd.exe splits %1 %2 ... at those) is put in double quotes. The batch file's own path gets the same
 *   check, except that it is always quoted (so ( ) & ^ in a directory name such as
 *   "C:\Program Files (x86)" are fine there, but % and " are not).
 *
 * The line is `cmd.exe /e:ON /v:OFF /d /c ""<bat>" args"`: /d skips AutoRun commands from the
 * registry, /v:OFF keeps !VAR! literal whatever the registry default, and /c with the whole rest
 * in one extra pair of quotes makes cmd.exe strip exactly those outer quotes (its documented /s-less
 * rule applies only when the line starts and ends with a quote and has no other special case; the
 * outer pair guarantees it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal_win.h"

/* The documented limit of lpCommandLine is 32767 UTF-16 units including the terminating NUL. */
#define FL_CMDLINE_MAX 32767

int fl_win_utf16(const char *s, wchar_t **out) {
    *out = NULL;
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        /* ERROR_NO_UNICODE_TRANSLATION: the only failure for a NUL-terminated input. */
        fl_win_fail(GetLastError());
        return -EILSEQ;
    }
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w == NULL) return -ENOMEM;
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return -EILSEQ;
    }
    *out = w;
    return 0;
}

int fl_win_is_batch(const wchar_t *path) {
    size_t n = wcslen(path);
    /* Win32 path normalisation drops trailing dots and spaces: "x.bat. ." runs x.bat. */
    while (n > 0 && (path[n - 1] == L'.' || path[n - 1] == L' ')) n--;
    if (n < 4 || path[n - 4] != L'.') return 0;
    wchar_t ext[4];
    for (int i = 0; i < 3; i++) {
        wchar_t c = path[n - 3 + (size_t)i];
        ext[i] = (c >= L'A' && c <= L'Z') ? (wchar_t)(c - L'A' + L'a') : c;
    }
    ext[3] = 0;
    return wcscmp(ext, L"bat") == 0 || wcscmp(ext, L"cmd") == 0;
}

/* A growing UTF-16 buffer; every append checks the command-line limit. */
typedef struct wbuf {
    wchar_t *p;
    size_t len, cap;
    int err; /* first failure, sticky */
} wbuf;

static void wb_put(wbuf *b, wchar_t c) {
    if (b->err) return;
    if (b->len + 1 >= FL_CMDLINE_MAX) {
        b->err = -E2BIG;
        return;
    }
    if (b->len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        wchar_t *p = realloc(b->p, cap * sizeof *p);
        if (p == NULL) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

static void wb_puts(wbuf *b, const wchar_t *s) {
    while (*s) wb_put(b, *s++);
}

static int wb_finish(wbuf *b, wchar_t **out) {
    if (b->err == 0 && b->p == NULL) { /* an empty line is still a string */
        wb_put(b, 0);
        b->len = 0;
    }
    if (b->err) {
        free(b->p);
        *out = NULL;
        return b->err;
    }
    *out = b->p;
    return 0;
}

/* Appends one argument (not argv[0]) with the C runtime's escaping. */
static void append_arg(wbuf *b, const wchar_t *a) {
    int quote = a[0] == 0 || wcspbrk(a, L" \t\n\v\"") != NULL;
    if (!quote) {
        wb_puts(b, a);
        return;
    }
    wb_put(b, L'"');
    size_t backslashes = 0;
    for (const wchar_t *c = a;; c++) {
        if (*c == L'\\') {
            backslashes++;
            continue;
        }
        if (*c == 0 || *c == L'"') {
            /* The run precedes a quote (ours or a literal one): each backslash must be doubled,
             * and a literal quote gets one more backslash of its own. */
            for (size_t i = 0; i < backslashes * 2; i++) wb_put(b, L'\\');
            if (*c == 0) break;
            wb_puts(b, L"\\\"");
        } else {
            for (size_t i = 0; i < backslashes; i++) wb_put(b, L'\\');
            wb_put(b, *c);
        }
        backslashes = 0;
    }
    wb_put(b, L'"');
}

int fl_win_command_line(const char *const *argv, wchar_t **out) {
    wbuf b = {0};
    *out = NULL;
    for (size_t i = 0; argv[i] != NULL && b.err == 0; i++) {
        wchar_t *w;
        int rc = fl_win_utf16(argv[i], &w);
        if (rc < 0) {
            b.err = rc;
            break;
        }
        if (i == 0) {
            /* No escapes in argv[0]: quote it when it has a separator, refuse a quote. */
            if (wcschr(w, L'"') != NULL) {
                b.err = -EINVAL;
            } else if (w[0] == 0 || wcspbrk(w, L" \t") != NULL) {
                wb_put(&b, L'"');
                wb_puts(&b, w);
                wb_put(&b, L'"');
            } else {
                wb_puts(&b, w);
            }
        } else {
            wb_put(&b, L' ');
            append_arg(&b, w);
        }
        free(w);
    }
    return wb_finish(&b, out);
}

/* The batch-file rule of the essay above: 1 if cmd.exe would read s as plain text. */
static int batch_safe(const wchar_t *s) {
    for (; *s; s++) {
        if (*s < 0x20 && *s != L'\t') return 0;
        if (wcschr(L"%!\"^&|<>()", *s) != NULL) return 0;
    }
    return 1;
}

int fl_win_batch_command_line(const wchar_t *cmd_exe, const wchar_t *bat_path,
                              const char *const *argv, wchar_t **out) {
    wbuf b = {0};
    *out = NULL;
    /* The path is quoted, so only what cmd.exe expands or ends a quote with matters there. */
    if (wcspbrk(bat_path, L"%\"!") != NULL) return -EINVAL;
    for (const wchar_t *c = bat_path; *c; c++) {
        if (*c < 0x20) return -EINVAL;
    }
    wb_put(&b, L'"');
    wb_puts(&b, cmd_exe);
    wb_puts(&b, L"\" /e:ON /v:OFF /d /c \"\"");
    wb_puts(&b, bat_path);
    wb_put(&b, L'"');
    for (size_t i = 1; argv[i] != NULL && b.err == 0; i++) {
        wchar_t *w;
        int rc = fl_win_utf16(argv[i], &w);
        if (rc < 0) {
            b.err = rc;
            break;
        }
        if (!batch_safe(w)) {
            b.err = -EINVAL;
        } else {
            /* A trailing backslash is quoted too (as Rust std does): a script that writes
             * "%~1" for a program would otherwise hand it a backslash before a quote. */
            size_t len = wcslen(w);
            int quote = len == 0 || w[len - 1] == L'\\' || wcspbrk(w, L" \t,;=") != NULL;
            wb_put(&b, L' ');
            if (quote) wb_put(&b, L'"');
            wb_puts(&b, w);
            if (quote) wb_put(&b, L'"');
        }
        free(w);
    }
    wb_put(&b, L'"');
    return wb_finish(&b, out);
}
