/*
 * blivet-spawn: the post-fork half of blivetd's launcher (docs/architecture.md, Rule 1).
 *
 * blivetd starts this program with posix_spawn (the first fork), so no Java code ever runs in a
 * forked child of the JVM. Everything was decided and validated in Java; this program only
 * executes the plan, top to bottom, and reports on a pipe.
 *
 * File descriptors on entry (set up by posix_spawn file actions):
 *   0, 1, 2  /dev/null
 *   3        the plan: a memfd holding "BLVT1\0" then "key=value\0" records (no secrets in argv)
 *   4        the report pipe, write end (made close-on-exec here)
 *   5        optional: the readiness pipe for notify-fd jobs, write end
 *
 * Report records, one line each, written with single write(2) calls (< PIPE_BUF, so atomic):
 *   F<pid>\n            the intermediate forked the daemon, whose pid this is
 *   I<dev> <ino>\n      the pidfile the daemon opened (st_dev as glibc encodes it): blivetd
 *                       removes a pidfile only while its name still refers to this file
 *   O<fd> <dev> <ino>\n the output file opened as fd 1 or 2: blivetd shows a job's log to a
 *                       user only from the very file the job's user opened
 *   P<pid>\n            the daemon is about to execve (a positive report: EOF alone is not success)
 *   E<code> <message>\n a failure; <code> is a sysexits value, the process then _exits with it
 * The pipe is close-on-exec, so EOF after P means execve succeeded.
 *
 * Layout at execve: 0 /dev/null, 1-2 the job's output files or /dev/null, the lockfile's fd (its
 * lock held), the notify fd at the number the job asked for, and the report pipe, which execve
 * closes; nothing else.
 *
 * The trusted-path rule, for every path the job names (stdout, stderr, lockfile, pidfile, chroot,
 * chdir; /dev/null is the helper's own): no symbolic link is followed in any component (openat2
 * RESOLVE_NO_SYMLINKS, or a walk of O_NOFOLLOW directory fds where the kernel lacks it); a job
 * with an identity has every path used with that identity's permissions (setfsuid, setfsgid, its
 * groups) before anything is opened, so root's power never reaches a path the job's user could
 * not use itself; a file is created with O_EXCL, or else used only if it is a regular file with
 * one link owned by the job's user (ours when the job keeps our identity), checked on the open fd.
 *
 * No C library. Every job start runs this program once, and a C library's start-up is most of
 * what a short program costs: glibc's alone measured 0.7 ms of the 0.8 ms a do-nothing program
 * took from posix_spawn to exit on a 2-vCPU KVM guest (it probes the CPU's caches with cpuid,
 * each one a trap to the hypervisor), against 0.09 ms for this file's way. So the program makes
 * its own system calls (x86-64 and aarch64), takes only constants and struct layouts from the
 * kernel's headers, and is built with -ffreestanding -nostdlib -static (blivetd/pom.xml). Being
 * single-threaded, it needs none of what glibc adds around set*id, fork and signals.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/mman.h>
#include <linux/openat2.h>
#include <linux/resource.h>
#include <linux/signal.h>
#include <linux/stat.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "blivet-spawn makes its own system calls for x86-64 and aarch64 only"
#endif

/* sysexits values; the Java side defines the same numbers once in common/ExitCode. */
enum {
    EX_USAGE_ = 64, EX_NOINPUT_ = 66, EX_NOUSER_ = 67, EX_UNAVAILABLE_ = 69,
    EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_CANTCREAT_ = 73, EX_NOPERM_ = 77
};

enum { PLAN_FD = 3, REPORT_FD = 4, READY_FD = 5 };
enum { STDIN_FD = 0, STDOUT_FD = 1, STDERR_FD = 2 };
enum { KERNEL_NSIG = 64, KERNEL_SIGSET_SIZE = 8 }; /* the kernel's signals and sigset_t on both architectures */
enum { MAX_PLAN = 16 << 20, MAX_ITEMS = 65536, MAX_RLIMITS = 16 };
static const char PLAN_MAGIC[] = "BLVT1"; /* sizeof includes the NUL that ends it in the plan */

/* ---- entry point: the kernel starts us here with the stack as execve left it ---- */

__attribute__((noreturn, used)) void helper_main(void);

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"      /* the outermost frame, for debuggers */
        "    and $-16, %rsp\n"      /* the ABI's call alignment */
        "    call helper_main\n"
        "    hlt\n");
#else
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    bl helper_main\n"      /* sp is 16-byte aligned at entry on aarch64 */
        "    brk #0\n");
#endif

/* ---- system calls ---- */

static int errno_; /* what the last failed call returned, as the C library's errno would hold it */

static long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory", "cc");
    return x0;
#endif
}

/* The kernel returns -errno; callers get -1 and errno_, as from the C library. */
static long checked(long ret) {
    if (ret < 0 && ret > -4096) {
        errno_ = (int)-ret;
        return -1;
    }
    return ret;
}

#define SYSCALL(nr, a, b, c, d, e, f) \
    checked(raw_syscall((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f)))

__attribute__((noreturn))
static void sys_exit(int code) {
    for (;;) raw_syscall(__NR_exit_group, code, 0, 0, 0, 0, 0);
}
static long sys_write(int fd, const void *buf, size_t n) { return SYSCALL(__NR_write, fd, buf, n, 0, 0, 0); }
static long sys_pread(int fd, void *buf, size_t n, long off) { return SYSCALL(__NR_pread64, fd, buf, n, off, 0, 0); }
static long sys_pwrite(int fd, const void *buf, size_t n, long off) { return SYSCALL(__NR_pwrite64, fd, buf, n, off, 0, 0); }
static int sys_close(int fd) { return (int)SYSCALL(__NR_close, fd, 0, 0, 0, 0, 0); }
static int sys_close_range(unsigned first, unsigned last) { return (int)SYSCALL(__NR_close_range, first, last, 0, 0, 0, 0); }
static int sys_fcntl(int fd, int cmd, long arg) { return (int)SYSCALL(__NR_fcntl, fd, cmd, arg, 0, 0, 0); }
static int sys_dup2(int fd, int target) {
    /* dup3 refuses equal numbers, where dup2 only checks that fd is open. */
    if (fd == target) return sys_fcntl(fd, F_GETFD, 0) < 0 ? -1 : target;
    return (int)SYSCALL(__NR_dup3, fd, target, 0, 0, 0, 0);
}
static int sys_fstat(int fd, struct statx *st) {
    return (int)SYSCALL(__NR_statx, fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_SIZE | STATX_INO, st, 0);
}
static bool is_symlink_at(int dir, const char *name) {
    struct statx st;
    return SYSCALL(__NR_statx, dir, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st, 0) == 0 && S_ISLNK(st.stx_mode);
}
static int sys_openat(int dir, const char *path, int flags, unsigned mode) { return (int)SYSCALL(__NR_openat, dir, path, flags, mode, 0, 0); }
static int sys_openat2(int dir, const char *path, const struct open_how *how) {
    return (int)SYSCALL(__NR_openat2, dir, path, how, sizeof *how, 0, 0);
}
static int sys_ftruncate(int fd, long length) { return (int)SYSCALL(__NR_ftruncate, fd, length, 0, 0, 0, 0); }
static int sys_fchmod(int fd, unsigned mode) { return (int)SYSCALL(__NR_fchmod, fd, mode, 0, 0, 0, 0); }
static int sys_flock(int fd, int op) { return (int)SYSCALL(__NR_flock, fd, op, 0, 0, 0, 0); }
static bool path_exists(const char *path) { return SYSCALL(__NR_faccessat, AT_FDCWD, path, 0 /* F_OK */, 0, 0, 0) == 0; }
static unsigned sys_umask(unsigned mask) { return (unsigned)raw_syscall(__NR_umask, mask, 0, 0, 0, 0, 0); }
static int sys_chroot(const char *path) { return (int)SYSCALL(__NR_chroot, path, 0, 0, 0, 0, 0); }
static int sys_fchdir(int fd) { return (int)SYSCALL(__NR_fchdir, fd, 0, 0, 0, 0, 0); }
static int sys_setsid(void) { return (int)SYSCALL(__NR_setsid, 0, 0, 0, 0, 0, 0); }
static int sys_getpid(void) { return (int)raw_syscall(__NR_getpid, 0, 0, 0, 0, 0, 0); }
/* fork(): a clone that only asks for SIGCHLD at exit (aarch64 has no fork system call). */
static int sys_fork(void) { return (int)SYSCALL(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0); }
static int sys_setgroups(size_t n, const unsigned *groups) { return (int)SYSCALL(__NR_setgroups, n, groups, 0, 0, 0, 0); }
static int sys_setresgid(unsigned r, unsigned e, unsigned s) { return (int)SYSCALL(__NR_setresgid, r, e, s, 0, 0, 0); }
static int sys_setresuid(unsigned r, unsigned e, unsigned s) { return (int)SYSCALL(__NR_setresuid, r, e, s, 0, 0, 0); }
/* setfsuid and setfsgid cannot fail visibly: they return the previous id, whether or not they took effect. */
static unsigned sys_setfsuid(unsigned uid) { return (unsigned)raw_syscall(__NR_setfsuid, uid, 0, 0, 0, 0, 0); }
static unsigned sys_setfsgid(unsigned gid) { return (unsigned)raw_syscall(__NR_setfsgid, gid, 0, 0, 0, 0, 0); }
static unsigned sys_geteuid(void) { return (unsigned)raw_syscall(__NR_geteuid, 0, 0, 0, 0, 0, 0); }
static int sys_setrlimit(int resource, const struct rlimit64 *limit) {
    return (int)SYSCALL(__NR_prlimit64, 0 /* this process */, resource, limit, 0, 0, 0);
}
static int sys_sigaction_default(int sig) {
    /* An all-zero kernel sigaction is SIG_DFL with no flags and an empty mask on both layouts. */
    unsigned long zero[4] = {0, 0, 0, 0};
    return (int)SYSCALL(__NR_rt_sigaction, sig, zero, 0, KERNEL_SIGSET_SIZE, 0, 0);
}
static int sys_unblock_all_signals(void) {
    unsigned long none = 0;
    return (int)SYSCALL(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, KERNEL_SIGSET_SIZE, 0, 0);
}
static void *sys_allocate(size_t bytes) {
    /* Zeroed pages; nothing is ever freed, the process is short-lived. */
    long p = SYSCALL(__NR_mmap, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == -1 ? NULL : (void *)p;
}
static int sys_execve(const char *path, const char *const *argv, const char *const *envp) {
    return (int)SYSCALL(__NR_execve, path, argv, envp, 0, 0, 0);
}

/* ---- the little of a C library this program needs ---- */

/* The compiler may emit calls to these four even in a freestanding program (GCC and Clang
   document it). The empty asm in each loop keeps it from recognising the loop as a memset or
   memcpy and calling the function from inside itself. */
#define NOT_AN_IDIOM() __asm__ volatile("" ::: "memory")
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) { *d++ = (unsigned char)c; NOT_AN_IDIOM(); }
    return dst;
}
void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) { *d++ = *s++; NOT_AN_IDIOM(); }
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) while (n--) { *d++ = *s++; NOT_AN_IDIOM(); }
    else while (n--) { d[n] = s[n]; NOT_AN_IDIOM(); }
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

static size_t str_len(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
static bool str_eq(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}
static char *str_chr(char *s, char c) {
    for (; *s; s++) if (*s == c) return s;
    return NULL;
}

/* A bounded printf for the conversions this file uses: %s %d %u %ld %lu %lld %llu %zu %%. */
struct text { char *buf; size_t cap, len; };

static void put_char(struct text *t, char c) {
    if (t->len < t->cap) t->buf[t->len++] = c;
}
static void put_str(struct text *t, const char *s) {
    while (*s) put_char(t, *s++);
}
static void put_unsigned(struct text *t, unsigned long long v) {
    char digits[20];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) put_char(t, digits[--n]);
}
static void put_signed(struct text *t, long long v) {
    if (v < 0) {
        put_char(t, '-');
        put_unsigned(t, 0ULL - (unsigned long long)v);
    } else {
        put_unsigned(t, (unsigned long long)v);
    }
}

static size_t format_v(char *buf, size_t cap, const char *fmt, va_list ap) {
    struct text t = {buf, cap, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') { put_char(&t, *fmt); continue; }
        int longs = 0;
        bool size = false;
        fmt++;
        while (*fmt == 'l') longs++, fmt++;
        if (*fmt == 'z') size = true, fmt++;
        switch (*fmt) {
        case 's': put_str(&t, va_arg(ap, const char *)); break;
        case 'd':
            put_signed(&t, longs >= 2 ? va_arg(ap, long long) : longs == 1 ? va_arg(ap, long) : va_arg(ap, int));
            break;
        case 'u':
            put_unsigned(&t, size ? va_arg(ap, size_t) : longs >= 2 ? va_arg(ap, unsigned long long)
                             : longs == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned));
            break;
        case '%': put_char(&t, '%'); break;
        default: return t.len; /* a conversion this file does not use: stop rather than misread ap */
        }
    }
    return t.len;
}

__attribute__((format(printf, 3, 4)))
static size_t format_text(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* glibc's wording, so messages read the same as any other tool's. */
static const char *error_text(int err) {
    static const char *const texts[] = {
        [EPERM] = "Operation not permitted", [ENOENT] = "No such file or directory",
        [ESRCH] = "No such process", [EINTR] = "Interrupted system call", [EIO] = "Input/output error",
        [ENXIO] = "No such device or address", [E2BIG] = "Argument list too long",
        [ENOEXEC] = "Exec format error", [EBADF] = "Bad file descriptor", [ECHILD] = "No child processes",
        [EAGAIN] = "Resource temporarily unavailable", [ENOMEM] = "Cannot allocate memory",
        [EACCES] = "Permission denied", [EFAULT] = "Bad address", [EBUSY] = "Device or resource busy",
        [EEXIST] = "File exists", [EXDEV] = "Invalid cross-device link", [ENODEV] = "No such device",
        [ENOTDIR] = "Not a directory", [EISDIR] = "Is a directory", [EINVAL] = "Invalid argument",
        [ENFILE] = "Too many open files in system", [EMFILE] = "Too many open files",
        [ENOTTY] = "Inappropriate ioctl for device", [ETXTBSY] = "Text file busy", [EFBIG] = "File too large",
        [ENOSPC] = "No space left on device", [ESPIPE] = "Illegal seek", [EROFS] = "Read-only file system",
        [EMLINK] = "Too many links", [EPIPE] = "Broken pipe", [ENAMETOOLONG] = "File name too long",
        [ENOLCK] = "No locks available", [ENOSYS] = "Function not implemented",
        [ELOOP] = "Too many levels of symbolic links", [EOVERFLOW] = "Value too large for defined data type",
        [ELIBBAD] = "Accessing a corrupted shared library", [EOPNOTSUPP] = "Operation not supported",
        [ESTALE] = "Stale file handle", [EDQUOT] = "Disk quota exceeded",
        /* What network, FUSE, encrypted and damaged file systems answer for a job's files. */
        [ENOTCONN] = "Transport endpoint is not connected", [ETIMEDOUT] = "Connection timed out",
        [EHOSTDOWN] = "Host is down", [EREMOTEIO] = "Remote I/O error", [EUCLEAN] = "Structure needs cleaning",
        [ENOKEY] = "Required key not available", [EKEYEXPIRED] = "Key has expired",
        [ENOMEDIUM] = "No medium found", [ECONNREFUSED] = "Connection refused",
    };
    if (err > 0 && (size_t)err < sizeof texts / sizeof texts[0] && texts[err]) return texts[err];
    /* As glibc words it, with the number that says which. */
    static char unknown[32];
    unknown[format_text(unknown, sizeof unknown - 1, "Unknown error %d", err)] = '\0';
    return unknown;
}

/* ---- reporting: every failure funnels through fail() ---- */

/* Moves only if the job asks for its notify fd at REPORT_FD's number. */
static int report_fd = REPORT_FD;

__attribute__((format(printf, 1, 2)))
static void report(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    /* One write: a short or failed write has nowhere better to be reported. */
    sys_write(report_fd, line, n);
}

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int code, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_v(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    msg[n] = '\0';
    for (char *c = msg; *c; c++) if (*c == '\n') *c = ' ';
    report("E%d %s", code, msg);
    sys_exit(code);
}

/* Kind-prefixed messages naming the culprit, with errno spelled out. */
#define FAIL_ERRNO(code, what, path) fail((code), "%s: %s: %s", (what), (path), error_text(errno_))

/* ---- the trusted-path rule: no symbolic link is followed in any component ---- */

/* Every path a job names (output files, lockfile, pidfile, chroot, chdir) is opened without
   following a symbolic link anywhere in it, not just at its end: whoever can write to one
   directory on the way could otherwise send the rest of the path wherever root can reach, in the
   moment between blivetd's checks and our open. openat2 says so in one call; kernels before 5.6
   lack it, and there the path is walked one component at a time, each directory opened O_NOFOLLOW
   from the one before. The paths arrive absolute and normalized (blivetd made them so). */
static bool resolve_by_walk; /* the kernel has no openat2, or the plan asks for the walk ("resolve=walk", tests) */

static void set_resolution(const char *value) {
    if (str_eq(value, "walk")) resolve_by_walk = true;
    else if (!str_eq(value, "openat2")) fail(EX_SOFTWARE_, "internal error: unknown resolve %s", value);
}

static int open_by_walk(const char *path, int flags, unsigned mode) {
    int dir = sys_openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    for (const char *c = path; dir >= 0;) {
        while (*c == '/') c++;
        size_t n = 0;
        while (c[n] && c[n] != '/') n++;
        const char *rest = c + n;
        while (*rest == '/') rest++;
        bool last = *rest == '\0';
        char name[NAME_MAX + 1] = ".";  /* stays "." only for the path "/" itself */
        if (n > NAME_MAX) {
            sys_close(dir);
            errno_ = ENAMETOOLONG;
            return -1;
        }
        if (n > 0) {
            memcpy(name, c, n);
            name[n] = '\0';
        }
        int fd = last ? sys_openat(dir, name, flags | O_NOFOLLOW, mode)
                      : sys_openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        /* O_DIRECTORY answers a symbolic link with ENOTDIR; say what it really was. */
        if (fd < 0 && errno_ == ENOTDIR && is_symlink_at(dir, name)) errno_ = ELOOP;
        int err = errno_;
        sys_close(dir);
        errno_ = err;
        if (fd < 0 || last) return fd;
        dir = fd;
        c = rest;
    }
    return -1;
}

/* Fails with ELOOP where any component is a symbolic link. */
static int open_by_rule(const char *path, int flags, unsigned mode) {
    if (!resolve_by_walk) {
        struct open_how how = {
            .flags = (unsigned)flags,
            .mode = (flags & O_CREAT) ? mode : 0, /* openat2 refuses a mode it would not use */
            .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = sys_openat2(AT_FDCWD, path, &how);
        if (fd >= 0 || errno_ != ENOSYS) return fd;
        resolve_by_walk = true;
    }
    return open_by_walk(path, flags, mode);
}

/* ---- plan ---- */

struct rlimit_entry { int resource; struct rlimit64 limit; const char *name; };

struct plan {
    const char *exec;
    const char **argv; size_t argc;
    const char **envp; size_t envc;
    unsigned umask;
    const char *chroot, *chdir;
    const char *stdout_path, *stderr_path;
    bool append;
    const char *lockfile, *pidfile;
    bool drop; unsigned uid; unsigned gid;
    unsigned owner; /* who must own an existing job file: the job's uid, else our own */
    bool client_job; /* asked for by a non-root client: its rlimits are set only after the drop */
    unsigned *groups; size_t ngroups;
    struct rlimit_entry rlimits[MAX_RLIMITS]; size_t nrlimits;
    int notify_fd; /* -1: none */
};

static char *read_plan(size_t *len) {
    struct statx st;
    if (sys_fstat(PLAN_FD, &st) != 0)
        fail(EX_SOFTWARE_, "internal error: no plan on fd %d: %s", PLAN_FD, error_text(errno_));
    if (st.stx_size == 0 || st.stx_size > MAX_PLAN)
        fail(EX_SOFTWARE_, "internal error: plan size %llu", (unsigned long long)st.stx_size);
    size_t size = (size_t)st.stx_size;
    char *buf = sys_allocate(size + 1);
    if (!buf) fail(EX_OSERR_, "os error: out of memory reading the plan");
    size_t got = 0;
    while (got < size) {
        long n = sys_pread(PLAN_FD, buf + got, size - got, (long)got);
        if (n < 0 && errno_ == EINTR) continue;
        if (n <= 0) fail(EX_SOFTWARE_, "internal error: reading the plan: %s", n < 0 ? error_text(errno_) : "short");
        got += (size_t)n;
    }
    buf[got] = '\0';
    sys_close(PLAN_FD);
    *len = got;
    return buf;
}

/* Digits only (Java wrote them): no sign, no blanks, no overflow. */
static unsigned long long parse_number(const char *key, const char *value, unsigned base) {
    unsigned long long v = 0;
    const char *c = value;
    for (; *c >= '0' && *c < (char)('0' + base); c++) {
        unsigned digit = (unsigned)(*c - '0');
        if (v > (~0ULL - digit) / base) break;
        v = v * base + digit;
    }
    if (*value == '\0' || *c != '\0') fail(EX_SOFTWARE_, "internal error: bad number for %s: %s", key, value);
    return v;
}

static unsigned parse_id(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v >= 0xffffffffULL) fail(EX_SOFTWARE_, "internal error: %s out of range: %s", key, value); /* -1 means "unchanged" to the kernel */
    return (unsigned)v;
}

static int parse_fd(const char *key, const char *value) {
    unsigned long long v = parse_number(key, value, 10);
    if (v > 0x7fffffffULL) fail(EX_SOFTWARE_, "internal error: %s out of range: %s", key, value);
    return (int)v;
}

static unsigned long long parse_rlim(const char *value) {
    return str_eq(value, "infinity") ? RLIM64_INFINITY : parse_number("rlimit", value, 10);
}

static int rlimit_resource(const char *name) {
    static const struct { const char *name; int resource; } table[] = {
        {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
        {"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS}, {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE},
        {"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS}, {"rtprio", RLIMIT_RTPRIO},
        {"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (str_eq(table[i].name, name)) return table[i].resource;
    fail(EX_SOFTWARE_, "internal error: unknown rlimit %s", name);
}

/* "name:soft:hard" */
static void add_rlimit(struct plan *p, char *value) {
    if (p->nrlimits == MAX_RLIMITS) fail(EX_SOFTWARE_, "internal error: too many rlimits");
    char *soft = str_chr(value, ':');
    char *hard = soft ? str_chr(soft + 1, ':') : NULL;
    if (!soft || !hard) fail(EX_SOFTWARE_, "internal error: bad rlimit %s", value);
    *soft++ = '\0';
    *hard++ = '\0';
    struct rlimit_entry *e = &p->rlimits[p->nrlimits++];
    e->name = value;
    e->resource = rlimit_resource(value);
    e->limit.rlim_cur = parse_rlim(soft);
    e->limit.rlim_max = parse_rlim(hard);
}

static void parse_plan(char *buf, size_t len, struct plan *p) {
    if (len < sizeof PLAN_MAGIC || memcmp(buf, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0)
        fail(EX_SOFTWARE_, "internal error: plan has no magic (helper and blivetd versions differ?)");
    if (buf[len - 1] != '\0') fail(EX_SOFTWARE_, "internal error: plan not NUL-terminated");

    size_t items = 0;
    for (size_t i = 0; i < len; i++) items += buf[i] == '\0';
    if (items > MAX_ITEMS) fail(EX_SOFTWARE_, "internal error: plan has %zu items", items);
    /* Zeroed, so argv[argc] and envp[envc] stay NULL. */
    p->argv = sys_allocate((items + 1) * sizeof *p->argv);
    p->envp = sys_allocate((items + 1) * sizeof *p->envp);
    p->groups = sys_allocate((items + 1) * sizeof *p->groups);
    if (!p->argv || !p->envp || !p->groups) fail(EX_OSERR_, "os error: out of memory parsing the plan");
    p->notify_fd = -1;

    for (char *rec = buf + sizeof PLAN_MAGIC, *next; rec < buf + len; rec = next) {
        next = rec + str_len(rec) + 1; /* before the '=' below becomes a NUL */
        char *value = str_chr(rec, '=');
        if (!value) fail(EX_SOFTWARE_, "internal error: plan record without '=': %s", rec);
        *value++ = '\0';
        const char *key = rec;
        if (str_eq(key, "exec")) p->exec = value;
        else if (str_eq(key, "arg")) p->argv[p->argc++] = value;
        else if (str_eq(key, "env")) p->envp[p->envc++] = value;
        else if (str_eq(key, "umask")) p->umask = (unsigned)parse_number(key, value, 8);
        else if (str_eq(key, "chroot")) p->chroot = value;
        else if (str_eq(key, "chdir")) p->chdir = value;
        else if (str_eq(key, "stdout")) p->stdout_path = value;
        else if (str_eq(key, "stderr")) p->stderr_path = value;
        else if (str_eq(key, "append")) p->append = str_eq(value, "1");
        else if (str_eq(key, "lockfile")) p->lockfile = value;
        else if (str_eq(key, "pidfile")) p->pidfile = value;
        else if (str_eq(key, "uid")) { p->drop = true; p->uid = parse_id(key, value); }
        else if (str_eq(key, "gid")) p->gid = parse_id(key, value);
        else if (str_eq(key, "group")) p->groups[p->ngroups++] = parse_id(key, value);
        else if (str_eq(key, "rlimit")) add_rlimit(p, value);
        else if (str_eq(key, "notify_fd")) p->notify_fd = parse_fd(key, value);
        else if (str_eq(key, "client_job")) p->client_job = str_eq(value, "1");
        else if (str_eq(key, "resolve")) set_resolution(value);
        else fail(EX_SOFTWARE_, "internal error: unknown plan key %s", key);
    }
    /* The pipe is only handed over for notify-fd jobs; without it, fd 5 is not ours. */
    if (p->exec == NULL || p->argc == 0 || p->chdir == NULL)
        fail(EX_SOFTWARE_, "internal error: plan lacks exec, argv or chdir");
    if (p->client_job && (!p->drop || p->chroot))
        fail(EX_SOFTWARE_, "internal error: client_job needs an identity and no chroot");
    p->owner = p->drop ? p->uid : sys_geteuid();
    if (p->notify_fd >= 0 && sys_fcntl(READY_FD, F_GETFD, 0) < 0)
        fail(EX_SOFTWARE_, "internal error: notify fd requested but fd %d is not open", READY_FD);
}

/* ---- steps ---- */

static void reset_signals(void) {
    /* Every signal, real-time ones included: SIG_IGN survives execve, and the JVM's spawning
       thread hands us its blocked set (glibc's own 32 and 33 too, which the JVM leaves ignored). */
    for (int sig = 1; sig <= KERNEL_NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) sys_sigaction_default(sig);
    sys_unblock_all_signals();
}

static void close_fds_from(int first) {
    if (sys_close_range((unsigned)first, ~0U) == 0) return;
    /* Kernels before 5.9: close what is actually open rather than looping to RLIMIT_NOFILE. */
    for (int fd = first; fd < 65536; fd++) sys_close(fd);
}

static void close_fds_except(const int *keep, size_t nkeep) {
    /* keep is sorted ascending, every entry > 2 */
    int next = 3;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] > next && sys_close_range((unsigned)next, (unsigned)keep[i] - 1) != 0)
            for (int fd = next; fd < keep[i]; fd++) sys_close(fd);
        next = keep[i] + 1;
    }
    close_fds_from(next);
}

static void set_cloexec(int fd, bool on, const char *what) {
    if (sys_fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", what);
}

static void set_status_flags(int fd, int set, int clear, const char *path) {
    int flags = sys_fcntl(fd, F_GETFL, 0);
    if (flags < 0 || sys_fcntl(fd, F_SETFL, (flags | set) & ~clear) != 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", path);
}

/* /dev/null for what the job does not redirect: the helper's own choice, not a job's path. */
static void redirect_null(int target, int flags) {
    int fd = sys_openat(AT_FDCWD, "/dev/null", flags | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0) FAIL_ERRNO(EX_OSERR_, "os error: open", "/dev/null");
    if (sys_dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", "/dev/null");
    if (fd != target) sys_close(fd);
}

/* A job's path that could not be used, in words that say what to do about it. */
__attribute__((noreturn))
static void fail_path(const struct plan *p, int code, const char *what, const char *path) {
    if (errno_ == ELOOP)
        fail(code, "%s: %s: a component of the path is a symbolic link, which blivet never follows; name the real path",
             what, path);
    if (errno_ == EACCES && p->drop)
        fail(code, "%s: %s: Permission denied to the job's user (uid %u), whose permissions blivet uses for the job's"
             " paths; give it a directory of its own (as systemd's RuntimeDirectory= does)", what, path, p->uid);
    FAIL_ERRNO(code, what, path);
}

/* From here on the file system sees the job's user: each path it names is opened, created and
   entered with that user's permissions, so root's power never reaches a path the user could not
   have used itself, and what is created is the user's without a chown. The real and effective ids
   stay root's for chroot, setrlimit and the full drop later (none of them is a file capability). */
static void take_file_identity(const struct plan *p) {
    if (sys_setgroups(p->ngroups, p->groups) != 0) fail(EX_NOPERM_, "permission denied: setgroups: %s", error_text(errno_));
    sys_setfsgid(p->gid);
    if (sys_setfsgid(p->gid) != p->gid) fail(EX_NOPERM_, "permission denied: setfsgid(%u) did not take effect", p->gid);
    sys_setfsuid(p->uid);
    if (sys_setfsuid(p->uid) != p->uid) fail(EX_NOPERM_, "permission denied: setfsuid(%u) did not take effect", p->uid);
}

/* An existing file is the job's only if it is what the job itself would have made: a regular
   file (a FIFO would stall the start, a device would act), with one link (a second name is a
   hardlink someone made to a file elsewhere), owned by the job's user (else someone else planted
   it, and could read or rewrite what the job writes). It was opened O_NONBLOCK for the check. */
static void check_existing(const struct plan *p, int fd, const char *what, const char *path) {
    struct statx st;
    if (sys_fstat(fd, &st) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
    if (!S_ISREG(st.stx_mode)) fail(EX_CANTCREAT_, "%s: %s: not a regular file", what, path);
    if (st.stx_nlink != 1)
        fail(EX_CANTCREAT_, "%s: %s: has %lu hard links; blivet uses an existing file only with one", what, path,
             (unsigned long)st.stx_nlink);
    if (st.stx_uid != p->owner)
        fail(EX_CANTCREAT_, "%s: %s: belongs to uid %u, not to the job's user (uid %u); blivet uses an existing"
             " file only if it does", what, path, (unsigned)st.stx_uid, p->owner);
    set_status_flags(fd, 0, O_NONBLOCK, path);
}

/* Which file fd is, as "<dev> <ino>" after prefix (st_dev in glibc's makedev() encoding, so
   that it equals st_dev as stat(2) reports it to Java). */
static void report_file_id_as(const char *prefix, int fd, const char *what, const char *path) {
    struct statx st;
    if (sys_fstat(fd, &st) != 0) FAIL_ERRNO(EX_CANTCREAT_, what, path);
    unsigned long long major = st.stx_dev_major, minor = st.stx_dev_minor;
    unsigned long long dev = ((major & 0xfffff000ULL) << 32) | ((major & 0xfffULL) << 8)
                             | ((minor & 0xffffff00ULL) << 12) | (minor & 0xffULL);
    report("%s%llu %llu", prefix, dev, (unsigned long long)st.stx_ino);
}

static void report_file_id(int fd, const char *path) {
    report_file_id_as("I", fd, "cannot stat pidfile", path);
}

/* Creates the file (0644 less the umask) or opens the job's own existing one, by the rule. */
static int open_job_file(const struct plan *p, const char *what, const char *path, int flags) {
    enum { ATTEMPTS = 8 }; /* each round is another process removing the file between our two opens */
    flags |= O_CLOEXEC | O_NOCTTY;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int fd = open_by_rule(path, flags | O_CREAT | O_EXCL, 0644);
        if (fd >= 0) return fd;
        if (errno_ != EEXIST) fail_path(p, EX_CANTCREAT_, what, path);
        fd = open_by_rule(path, flags | O_NONBLOCK, 0);
        if (fd >= 0) {
            check_existing(p, fd, what, path);
            return fd;
        }
        /* A FIFO with no reader, or a socket: opening either for writing without blocking says ENXIO. */
        if (errno_ == ENXIO) fail(EX_CANTCREAT_, "%s: %s: not a regular file", what, path);
        if (errno_ != ENOENT) fail_path(p, EX_CANTCREAT_, what, path);
    }
    fail(EX_CANTCREAT_, "%s: %s: removed and recreated %d times while it was being opened", what, path, ATTEMPTS);
}

static void open_output(const struct plan *p, int target, const char *path) {
    int fd = open_job_file(p, "cannot create output file", path, O_WRONLY | (p->append ? O_APPEND : 0));
    /* Truncation only now: a file that failed the checks stays untouched. */
    if (!p->append && sys_ftruncate(fd, 0) != 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot truncate output file", path);
    if (sys_dup2(fd, target) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", path);
    sys_close(fd);
    report_file_id_as(target == STDOUT_FD ? "O1 " : "O2 ", target, "cannot stat output file", path);
}

static int open_lockfile(const struct plan *p) {
    int fd = open_job_file(p, "cannot create lockfile", p->lockfile, O_RDWR);
    if (sys_flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno_ == EWOULDBLOCK) fail(EX_UNAVAILABLE_, "lock conflict: %s is held by another process", p->lockfile);
        FAIL_ERRNO(EX_CANTCREAT_, "cannot lock lockfile", p->lockfile);
    }
    return fd;
}

static void write_pid(int fd, int pid, const char *path) {
    char text[24];
    size_t n = format_text(text, sizeof text, "%d\n", pid);
    if (sys_ftruncate(fd, 0) != 0 || sys_pwrite(fd, text, n, 0) != (long)n)
        FAIL_ERRNO(EX_CANTCREAT_, "cannot write pidfile", path);
    /* An explicit mode, whatever the umask: other tools read pidfiles. */
    if (sys_fchmod(fd, 0644) != 0) FAIL_ERRNO(EX_CANTCREAT_, "cannot chmod pidfile", path);
}

/* Tells blivetd which file the pidfile is, before anything could fail and leave it behind. */

static int open_pidfile(const struct plan *p) {
    /* No truncation yet: the old content goes only once we know the new pid is ours to write. */
    int fd = open_job_file(p, "cannot create pidfile", p->pidfile, O_WRONLY);
    report_file_id(fd, p->pidfile);
    return fd;
}

/* chroot and chdir by the rule too: an O_PATH descriptor reached without a symbolic link, then
   fchdir. The chdir is resolved from the new root, as the job will see it. */
static void enter_directory(const struct plan *p, const char *what, const char *path) {
    int fd = open_by_rule(path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0 || sys_fchdir(fd) != 0) fail_path(p, EX_OSERR_, what, path);
    sys_close(fd);
}

static void set_rlimits(const struct plan *p) {
    for (size_t i = 0; i < p->nrlimits; i++)
        if (sys_setrlimit(p->rlimits[i].resource, &p->rlimits[i].limit) != 0)
            fail(EX_OSERR_, "os error: setrlimit %s: %s", p->rlimits[i].name, error_text(errno_));
}

static void drop_privileges(const struct plan *p) {
    const unsigned unchanged = ~0U;
    if (sys_setgroups(p->ngroups, p->groups) != 0) fail(EX_NOPERM_, "permission denied: setgroups: %s", error_text(errno_));
    /* Real, effective and saved ids all, as setgid() and setuid() do for root. */
    if (sys_setresgid(p->gid, p->gid, p->gid) != 0)
        fail(EX_NOPERM_, "permission denied: setgid(%u): %s", p->gid, error_text(errno_));
    if (sys_setresuid(p->uid, p->uid, p->uid) != 0)
        fail(EX_NOPERM_, "permission denied: setuid(%u): %s", p->uid, error_text(errno_));
    /* Prove the drop cannot be undone: neither blivet nor daemonize2 checks this. */
    if (p->uid != 0 && (sys_setresuid(0, 0, 0) == 0 || sys_setresuid(unchanged, 0, unchanged) == 0))
        fail(EX_NOPERM_, "permission denied: privileges could be regained after setuid(%u)", p->uid);
    if (p->gid != 0 && p->uid != 0 && (sys_setresgid(0, 0, 0) == 0 || sys_setresgid(unchanged, 0, unchanged) == 0))
        fail(EX_NOPERM_, "permission denied: group 0 could be regained after setgid(%u)", p->gid);
}

__attribute__((noreturn))
static void fail_exec(const char *path, int err) {
    if (err == EACCES || err == EPERM)
        fail(EX_NOPERM_, "permission denied: execve %s: %s (can the job's user search every directory on the way?)",
             path, error_text(err));
    if (err == ENOENT && path_exists(path))
        fail(EX_NOINPUT_, "cannot run program: %s: its interpreter (#! line) or dynamic loader does not exist", path);
    fail(err == ENOENT ? EX_NOINPUT_ : EX_OSERR_, "%s: %s: %s", err == ENOENT ? "cannot run program" : "os error: execve",
         path, error_text(err));
}

/* A bare name is looked up in the job's own PATH, as the job's user and as execvpe does (an empty
   entry is the working directory): blivetd leaves the search to us so that root never probes
   the file system on a client's behalf. */
__attribute__((noreturn))
static void exec_program(const struct plan *p) {
    if (str_chr((char *)p->exec, '/')) {
        sys_execve(p->exec, p->argv, p->envp);
        fail_exec(p->exec, errno_);
    }
    const char *search = "/bin:/usr/bin"; /* execvpe's default, for an environment without PATH */
    for (size_t i = 0; i < p->envc; i++)
        if (memcmp(p->envp[i], "PATH=", 5) == 0) search = p->envp[i] + 5;
    size_t name_len = str_len(p->exec);
    bool denied = false;
    for (const char *dir = search;; dir++) {
        size_t dir_len = 0;
        while (dir[dir_len] && dir[dir_len] != ':') dir_len++;
        char candidate[PATH_MAX];
        if (dir_len + 1 + name_len < sizeof candidate) { /* longer: no such file, as execvpe sees it */
            size_t n = dir_len ? dir_len : 1;
            memcpy(candidate, dir_len ? dir : ".", n);
            candidate[n++] = '/';
            memcpy(candidate + n, p->exec, name_len + 1);
            sys_execve(candidate, p->argv, p->envp);
            if (errno_ == EACCES) denied = true;
            else if (errno_ != ENOENT && errno_ != ENOTDIR) fail_exec(candidate, errno_);
        }
        dir += dir_len;
        if (*dir == '\0') break;
    }
    if (denied)
        fail(EX_NOPERM_, "permission denied: %s: not executable by the job's user, or in a directory of PATH (%s) it"
             " may not search", p->exec, search);
    fail(EX_NOINPUT_, "cannot run program: %s: not found in PATH (%s)", p->exec, search);
}

static void sort_ints(int *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* The daemon: runs as the grandchild of blivetd, reparented to it (blivetd is a subreaper). */
__attribute__((noreturn))
static void become_daemon(const struct plan *p) {
    sys_umask(p->umask);
    redirect_null(STDIN_FD, O_RDONLY);
    if (p->drop) take_file_identity(p);

    /* Lock first: a second instance must fail before it touches the pidfile or the output files. */
    int lock_fd = p->lockfile ? open_lockfile(p) : -1;
    bool pid_via_lock = p->pidfile && p->lockfile && str_eq(p->pidfile, p->lockfile);

    if (p->stdout_path) open_output(p, STDOUT_FD, p->stdout_path);
    else redirect_null(STDOUT_FD, O_WRONLY);
    if (p->stderr_path && p->stdout_path && str_eq(p->stderr_path, p->stdout_path)) {
        if (sys_dup2(STDOUT_FD, STDERR_FD) < 0) FAIL_ERRNO(EX_OSERR_, "os error: dup2", p->stderr_path);
        report_file_id_as("O2 ", STDERR_FD, "cannot stat output file", p->stderr_path);
    } else if (p->stderr_path) {
        open_output(p, STDERR_FD, p->stderr_path);
    } else {
        redirect_null(STDERR_FD, O_WRONLY);
    }

    /* Opened now, with host paths; the pid is written last, once nothing can fail. */
    int pid_fd = p->pidfile ? (pid_via_lock ? lock_fd : open_pidfile(p)) : -1;
    if (pid_via_lock) report_file_id(lock_fd, p->pidfile);

    /* chroot after the files (their paths are the host's, as blivetd sees them), before the drop. */
    if (p->chroot) {
        enter_directory(p, "os error: chroot", p->chroot);
        if (sys_chroot(".") != 0) FAIL_ERRNO(EX_OSERR_, "os error: chroot", p->chroot);
    }
    enter_directory(p, "os error: chdir", p->chdir);

    /* Root may give its jobs limits beyond what their users could set; a client gets only its own. */
    if (!p->client_job) set_rlimits(p);
    if (p->drop) drop_privileges(p);
    if (p->client_job) set_rlimits(p);
    if (pid_fd >= 0) {
        write_pid(pid_fd, sys_getpid(), p->pidfile);
        if (!pid_via_lock) sys_close(pid_fd); /* before the notify fd's dup2 could land on its number */
    }

    /* Final fd layout: 0-2, the lock (held across exec), the notify fd, the report pipe. */
    int keep[3]; /* notify fd, lock, report pipe */
    size_t nkeep = 0;
    if (p->notify_fd >= 0) {
        if (lock_fd == p->notify_fd) {
            int moved = sys_fcntl(lock_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) FAIL_ERRNO(EX_OSERR_, "os error: fcntl", p->lockfile);
            lock_fd = moved; /* the old number is overwritten by dup2 below */
        }
        if (report_fd == p->notify_fd) {
            int moved = sys_fcntl(report_fd, F_DUPFD_CLOEXEC, p->notify_fd + 1);
            if (moved < 0) fail(EX_OSERR_, "os error: fcntl report pipe: %s", error_text(errno_));
            report_fd = moved;
        }
        if (p->notify_fd != READY_FD) {
            if (sys_dup2(READY_FD, p->notify_fd) < 0)
                fail(EX_OSERR_, "os error: dup2 notify fd %d: %s", p->notify_fd, error_text(errno_));
        } else {
            set_cloexec(READY_FD, false, "notify fd");
        }
        keep[nkeep++] = p->notify_fd;
    }
    if (lock_fd >= 0) {
        set_cloexec(lock_fd, false, p->lockfile);
        keep[nkeep++] = lock_fd;
    }
    keep[nkeep++] = report_fd;
    sort_ints(keep, nkeep);
    close_fds_except(keep, nkeep);

    report("P%d", sys_getpid());
    exec_program(p);
}

void helper_main(void) {
    reset_signals();
    /* Whatever the JVM leaked past posix_spawn goes before we read anything. */
    if (sys_fcntl(REPORT_FD, F_GETFD, 0) < 0) sys_exit(EX_SOFTWARE_); /* nowhere to report: not started by blivetd */
    close_fds_from(READY_FD + 1);
    set_cloexec(REPORT_FD, true, "report pipe");
    if (sys_fcntl(READY_FD, F_GETFD, 0) >= 0) set_cloexec(READY_FD, true, "notify pipe");

    size_t len;
    char *buf = read_plan(&len);
    struct plan plan;
    memset(&plan, 0, sizeof plan);
    parse_plan(buf, len, &plan);

    if (sys_setsid() < 0) fail(EX_OSERR_, "os error: setsid: %s", error_text(errno_));
    int daemon_pid = sys_fork();
    if (daemon_pid < 0) fail(EX_OSERR_, "os error: fork: %s", error_text(errno_));
    if (daemon_pid > 0) {
        /* The intermediate exits: the daemon is not a session leader, so it can never acquire a
           controlling terminal, and blivetd (a subreaper) becomes its parent. */
        report("F%d", daemon_pid);
        sys_exit(0);
    }
    become_daemon(&plan);
}
