/*
 * daemonize-bench: start-to-ready latency of Debian's daemonize(1), for comparison with blivet's
 * launcher (bench/run-launch.sh runs both in the same run).
 *
 * Each start:
 *   t0     clock_gettime(CLOCK_MONOTONIC), then posix_spawn("daemonize -p PIDFILE /bin/sleep N")
 *   ready  the daemon (the descendant of the spawned daemonize that execs) has exec'd /bin/sleep.
 *          Seen through the kernel's proc connector (netlink, needs root), which gives two numbers:
 *          exec_*  the kernel's CLOCK_MONOTONIC timestamp of that execve: "the daemon has exec'd",
 *                  the definition used to compare the tools (LaunchLatency reads the same event);
 *          p50_us... when this harness, blocked in poll, has read the event: daemonize itself
 *                  tells its caller nothing, so this is only the harness's own notification.
 *   check  (not timed) the pidfile holds the daemon's pid and /proc/PID/exe is /bin/sleep;
 *          a start that fails the check counts as failed.
 *   stop   (not in the latency, but in the start+stop cycle whose summed time gives starts
 *          per second) SIGKILL the daemon, then reap daemonize and the daemon: this program
 *          is a child subreaper, so the daemon is reparented to it, as blivetd's jobs are to
 *          blivetd.
 *
 * Debian's daemonize 1.7.8 forks once (the parent exits, the child calls setsid, writes the
 * pidfile and execs): with the harness's spawn that makes two processes and two execs per start,
 * as blivet's spawn of blivet-spawn plus its fork after setsid.
 *
 * With -i IN_FIFO -o OUT_FIFO [-b BLOCK] [-f], it takes turns with LaunchLatency block by block, so
 * both tools are measured across the same stretch of time (protocol: Turns.java): before a block
 * read a byte from IN ('t' your turn, 'x' the other side is done: run freely); after it write 't'
 * to OUT; at the end write 'x'. -f: this side goes first.
 *
 * Usage: daemonize-bench [-n STARTS] [-w WARMUP] [-d DAEMONIZE] [-p PIDFILE] [-t TIMEOUT_S]
 *                        [-i IN_FIFO -o OUT_FIFO [-b BLOCK] [-f]]
 * Prints one "RESULT ..." line on stdout, progress and problems on stderr.
 * Exit status: 0 if every start (warm-up included) succeeded, 1 otherwise, 2 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TREE 64

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "daemonize-bench: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- proc connector ---- */

static int nl_open(void) {
    int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (s < 0) die("socket(NETLINK_CONNECTOR)");
    int size = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind(CN_IDX_PROC) (needs root)");

    struct {
        struct nlmsghdr nl;
        struct cn_msg cn;
        enum proc_cn_mcast_op op;
    } __attribute__((packed)) msg;
    memset(&msg, 0, sizeof msg);
    msg.nl.nlmsg_len = sizeof msg;
    msg.nl.nlmsg_type = NLMSG_DONE;
    msg.nl.nlmsg_pid = (unsigned)getpid();
    msg.cn.id.idx = CN_IDX_PROC;
    msg.cn.id.val = CN_VAL_PROC;
    msg.cn.len = sizeof(enum proc_cn_mcast_op);
    msg.op = PROC_CN_MCAST_LISTEN;
    if (send(s, &msg, sizeof msg, 0) != (ssize_t)sizeof msg) die("send(PROC_CN_MCAST_LISTEN)");
    return s;
}

/* ---- one start's process tree ---- */

struct tree { pid_t pids[MAX_TREE]; int n; };

static bool tree_has(const struct tree *t, pid_t pid) {
    for (int i = 0; i < t->n; i++) if (t->pids[i] == pid) return true;
    return false;
}

static void tree_add(struct tree *t, pid_t pid) {
    if (t->n < MAX_TREE && !tree_has(t, pid)) t->pids[t->n++] = pid;
}

static long overruns;
static int complaints;

/* Problems go to stderr, the first few only: a broken setup must not flood the terminal. */
#define COMPLAIN(...) do { if (complaints++ < 10) fprintf(stderr, __VA_ARGS__); } while (0)

/*
 * Reads events until the exec of a descendant of `spawned` (not `spawned` itself, which execs
 * daemonize) or the deadline. Returns the daemon's pid, 0 on timeout; sets *exec_ns to the
 * kernel's timestamp of that exec.
 */
static pid_t await_daemon_exec(int nl, pid_t spawned, int64_t deadline, int64_t *exec_ns, struct tree *tree) {
    tree->n = 0;
    tree_add(tree, spawned);
    char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    while (true) {
        int64_t left = deadline - now_ns();
        if (left <= 0) return 0;
        struct pollfd pfd = {.fd = nl, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)((left + 999999) / 1000000));
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) die("poll");
        if (rc == 0) continue;
        ssize_t len = recv(nl, buf, sizeof buf, 0);
        if (len < 0) {
            if (errno == ENOBUFS) { overruns++; continue; } /* events lost: the deadline catches it */
            if (errno == EINTR) continue;
            die("recv(netlink)");
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type != NLMSG_DONE) continue;
            struct cn_msg *cn = NLMSG_DATA(h);
            if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) continue;
            struct proc_event *ev = (struct proc_event *)cn->data;
            if (ev->what == PROC_EVENT_FORK) {
                if (tree_has(tree, ev->event_data.fork.parent_tgid)
                    && ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
                    tree_add(tree, ev->event_data.fork.child_tgid);
            } else if (ev->what == PROC_EVENT_EXEC) {
                pid_t pid = ev->event_data.exec.process_tgid;
                if (pid != spawned && tree_has(tree, pid)) {
                    *exec_ns = (int64_t)ev->timestamp_ns;
                    return pid;
                }
            }
        }
    }
}

/* Drops queued events of earlier starts (and of the rest of the system) before a new start. */
static void nl_drain(int nl) {
    char buf[16384];
    while (recv(nl, buf, sizeof buf, MSG_DONTWAIT) > 0 || errno == ENOBUFS) {
    }
}

/* ---- checks and clean-up ---- */

static bool pidfile_holds(const char *pidfile, pid_t pid) {
    FILE *f = fopen(pidfile, "re");
    if (!f) return false;
    long got = -1;
    bool ok = fscanf(f, "%ld", &got) == 1 && got == pid;
    fclose(f);
    return ok;
}

/* /proc/PID/exe names the resolved file: /usr/bin/sleep on a merged-/usr system. */
static bool exe_is(pid_t pid, const char *path) {
    char link[64], target[4096], want[4096];
    if (!realpath(path, want)) return false;
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return false;
    target[n] = '\0';
    return strcmp(target, want) == 0;
}

/* ---- taking turns with the other benchmark ---- */

static int turn_in = -1, turn_out = -1;
static bool turns_free = true, turn_mine;

/* Waits for this side's turn; true if it had to wait (the other side ran meanwhile). */
static bool turn_await(void) {
    if (turns_free || turn_mine) { turn_mine = false; return false; }
    struct pollfd pfd = {.fd = turn_in, .events = POLLIN};
    char b = 0;
    int rc;
    do rc = poll(&pfd, 1, 60000); while (rc < 0 && errno == EINTR);
    if (rc <= 0 || read(turn_in, &b, 1) != 1) {
        fprintf(stderr, "daemonize-bench: no word from the other benchmark for 60 s; running alone\n");
        turns_free = true;
    } else if (b == 'x') {
        turns_free = true;
    }
    return true;
}

static void turn_send(char b) {
    if (turn_out >= 0 && write(turn_out, &b, 1) != 1) turns_free = true;
}

static volatile sig_atomic_t alarmed;
static void on_alarm(int sig) { (void)sig; alarmed = 1; }

/* Reaps children until `count` have been reaped or `seconds` pass; returns how many were. */
static int reap(int count, unsigned seconds) {
    int reaped = 0;
    alarmed = 0;
    alarm(seconds);
    while (reaped < count && !alarmed) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid > 0) reaped++;
        else if (errno == ECHILD) break;
    }
    alarm(0);
    return reaped;
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank, as in the Java side (Stats.percentile). */
static int64_t percentile(const int64_t *sorted, int n, double p) {
    int rank = (int)((p / 100.0) * n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

int main(int argc, char **argv) {
    int starts = 1000, warmup = 100, timeout_s = 10, block = 100;
    const char *daemonize = "/usr/bin/daemonize";
    const char *pidfile = "/tmp/daemonize-bench.pid";
    const char *in_fifo = NULL, *out_fifo = NULL;
    for (int c; (c = getopt(argc, argv, "n:w:d:p:t:i:o:b:f")) != -1;) {
        switch (c) {
            case 'n': starts = atoi(optarg); break;
            case 'w': warmup = atoi(optarg); break;
            case 'd': daemonize = optarg; break;
            case 'p': pidfile = optarg; break;
            case 't': timeout_s = atoi(optarg); break;
            case 'i': in_fifo = optarg; break;
            case 'o': out_fifo = optarg; break;
            case 'b': block = atoi(optarg); break;
            case 'f': turn_mine = true; break;
            default:
                fprintf(stderr, "usage: daemonize-bench [-n STARTS] [-w WARMUP] [-d DAEMONIZE] [-p PIDFILE]"
                                " [-t TIMEOUT_S] [-i IN_FIFO -o OUT_FIFO [-b BLOCK] [-f]]\n");
                return 2;
        }
    }
    if (starts < 1 || warmup < 0 || timeout_s < 1 || block < 1 || !in_fifo != !out_fifo) {
        fprintf(stderr, "daemonize-bench: bad arguments\n");
        return 2;
    }
    if (in_fifo) {
        turn_in = open(in_fifo, O_RDONLY | O_CLOEXEC);
        turn_out = open(out_fifo, O_WRONLY | O_CLOEXEC);
        if (turn_in < 0 || turn_out < 0) die("open turn fifos");
        turns_free = false;
        signal(SIGPIPE, SIG_IGN);
    }

    /* Like blivetd: the daemon is reparented to us, and we reap it. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) die("prctl(PR_SET_CHILD_SUBREAPER)");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    int nl = nl_open();

    char *const child_argv[] = {"daemonize", "-p", (char *)pidfile, "/bin/sleep", "1000", NULL};
    char *const child_envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    int64_t *latency = calloc((size_t)starts, sizeof *latency);
    int64_t *exec_latency = calloc((size_t)starts, sizeof *exec_latency);
    if (!latency || !exec_latency) die("calloc");
    long failed = 0, hung = 0, lost = 0, unmeasured_bad = 0;
    int measured = 0;
    int64_t cycles = 0; /* summed start+stop cycles of measured starts, as on the Java side */

    for (int i = 0; i < warmup + starts; i++) {
        /* After waiting for its turn, one extra start that is not counted (as LaunchLatency does):
           the first start after an idle pause finds cold caches, which isolated runs never see. */
        bool rewarm = false;
        if (i % block == 0) {
            if (i > 0) turn_send('t');
            rewarm = turn_await();
        }
        for (int pass = rewarm ? 0 : 1; pass < 2; pass++) {
            bool counted = pass == 1 && i >= warmup;
            nl_drain(nl);
            int64_t t0 = now_ns();
            pid_t spawned;
            int rc = posix_spawn(&spawned, daemonize, NULL, NULL, child_argv, child_envp);
            if (rc != 0) { errno = rc; die("posix_spawn daemonize"); }
            int64_t exec_ns = 0;
            struct tree tree;
            pid_t daemon = await_daemon_exec(nl, spawned, t0 + (int64_t)timeout_s * 1000000000, &exec_ns, &tree);
            int64_t t1 = now_ns();
            bool ok = daemon > 0 && pidfile_holds(pidfile, daemon) && exe_is(daemon, "/bin/sleep");
            if (daemon <= 0) {
                COMPLAIN("daemonize-bench: start %d: no exec within %d s (netlink overruns so far: %ld)\n",
                        i, timeout_s, overruns);
                if (counted) hung++; else unmeasured_bad++;
                for (int k = 0; k < tree.n; k++) kill(tree.pids[k], SIGKILL); /* whatever of it we saw */
            } else {
                if (!ok) {
                    COMPLAIN("daemonize-bench: start %d: pid %d exec'd but pidfile/exe check failed\n", i, (int)daemon);
                    if (counted) failed++; else unmeasured_bad++;
                }
                kill(daemon, SIGKILL);
            }
            /* daemonize itself and the daemon: two children to reap (daemonize 1.7.8 forks once). */
            int expect = daemon > 0 ? tree.n : 1;
            int reaped = reap(expect, (unsigned)timeout_s);
            if (reaped < expect) {
                COMPLAIN("daemonize-bench: start %d: reaped %d of %d processes\n", i, reaped, expect);
                if (counted) lost++; else unmeasured_bad++;
            }
            if (counted) cycles += now_ns() - t0;
            if (counted && ok) {
                latency[measured] = t1 - t0;
                exec_latency[measured] = exec_ns - t0;
                measured++;
            }
        }
    }
    turn_send('x');
    reap(MAX_TREE, 1); /* anything left over from a failed start */

    if (measured == 0) { fprintf(stderr, "daemonize-bench: no successful start\n"); return 1; }
    double sum = 0;
    for (int i = 0; i < measured; i++) sum += (double)latency[i];
    qsort(latency, (size_t)measured, sizeof *latency, compare_i64);
    qsort(exec_latency, (size_t)measured, sizeof *exec_latency, compare_i64);
    printf("RESULT tool=daemonize variant=pidfile starts=%d ok=%d failed=%ld hung=%ld lost=%ld"
           " p50_us=%.1f p99_us=%.1f mean_us=%.1f max_us=%.1f starts_per_s=%.1f"
           " exec_p50_us=%.1f exec_p99_us=%.1f netlink_overruns=%ld unmeasured_bad=%ld\n",
           starts, measured, failed, hung, lost,
           percentile(latency, measured, 50) / 1e3, percentile(latency, measured, 99) / 1e3,
           sum / measured / 1e3, latency[measured - 1] / 1e3, starts / (cycles / 1e9),
           percentile(exec_latency, measured, 50) / 1e3, percentile(exec_latency, measured, 99) / 1e3,
           overruns, unmeasured_bad);
    return failed == 0 && hung == 0 && lost == 0 && unmeasured_bad == 0 ? 0 : 1;
}
