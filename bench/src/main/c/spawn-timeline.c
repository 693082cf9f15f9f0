/*
 * spawn-timeline: where the start-to-ready time goes, from the kernel's point of view.
 *
 * Watches the proc connector (netlink, needs root) while another process, ROOT, starts daemons,
 * and follows each start's process tree:
 *
 *   fork1  ROOT creates the first child (blivet-spawn or daemonize; posix_spawn's clone)
 *   exec1  that child execs the helper program
 *   fork2  the helper forks the daemon (blivet-spawn after setsid; daemonize before it)
 *   exec2  the daemon execs the job (/bin/sleep): "ready" for both tools
 *
 * All four are the kernel's CLOCK_MONOTONIC timestamps, so the steps add up exactly; what the
 * requester measures on top of fork1..exec2 is its own work before the first fork and the wakeup
 * after the exec (for blivet: the JVM side of Launcher.launch).
 *
 * Usage: spawn-timeline ROOT_PID LABEL   (runs until ROOT_PID exits)
 * Prints one "TIMELINE ..." line with p50 and mean (microseconds) of each step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PID (1 << 22) /* the kernel's PID_MAX_LIMIT */
#define MAX_STARTS 100000

struct proc { int64_t fork_ns, exec_ns; pid_t parent; };
struct start { int64_t fork1, exec1, fork2, exec2; };

static struct proc *procs;
static struct start starts[MAX_STARTS];
static int nstarts;

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void step(const char *name, int64_t *v, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += (double)v[i];
    qsort(v, (size_t)n, sizeof *v, compare_i64);
    printf(" %s_p50_us=%.1f %s_mean_us=%.1f", name, v[(n - 1) / 2] / 1e3, name, sum / n / 1e3);
}

/* Running, not gone nor a zombie waiting for its parent's wait. */
static bool alive(pid_t pid) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return false;
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *state = ok ? strrchr(line, ')') : NULL; /* "pid (comm) S ...": comm may hold spaces */
    return state && state[1] == ' ' && state[2] != 'Z' && state[2] != 'X';
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: spawn-timeline ROOT_PID LABEL\n"); return 2; }
    pid_t root = (pid_t)atoi(argv[1]);
    procs = calloc(MAX_PID, sizeof *procs);
    if (!procs) { perror("calloc"); return 2; }

    int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (s < 0) { perror("socket(NETLINK_CONNECTOR)"); return 2; }
    int size = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind (needs root)"); return 2; }
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
    msg.cn.len = sizeof msg.op;
    msg.op = PROC_CN_MCAST_LISTEN;
    if (send(s, &msg, sizeof msg, 0) != (ssize_t)sizeof msg) { perror("send"); return 2; }

    long overruns = 0;
    char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
    while (alive(root)) {
        struct pollfd pfd = {.fd = s, .events = POLLIN};
        if (poll(&pfd, 1, 200) <= 0) continue;
        ssize_t len = recv(s, buf, sizeof buf, 0);
        if (len < 0) { if (errno == ENOBUFS) overruns++; continue; }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
            struct cn_msg *cn = NLMSG_DATA(h);
            if (h->nlmsg_type != NLMSG_DONE || cn->id.idx != CN_IDX_PROC) continue;
            struct proc_event *ev = (struct proc_event *)cn->data;
            if (ev->what == PROC_EVENT_FORK) {
                pid_t parent = ev->event_data.fork.parent_tgid, child = ev->event_data.fork.child_tgid;
                if (child != ev->event_data.fork.child_pid || child >= MAX_PID || parent >= MAX_PID) continue;
                /* A child of ROOT is a first child; a child of a first child is a daemon. */
                bool ours = parent == root || (procs[parent].parent == root && procs[parent].exec_ns);
                procs[child] = (struct proc){.fork_ns = (int64_t)ev->timestamp_ns, .exec_ns = 0,
                                             .parent = ours ? parent : 0};
            } else if (ev->what == PROC_EVENT_EXEC) {
                pid_t pid = ev->event_data.exec.process_tgid;
                if (pid >= MAX_PID || procs[pid].parent == 0 || procs[pid].exec_ns) continue;
                procs[pid].exec_ns = (int64_t)ev->timestamp_ns;
                pid_t first = procs[pid].parent;
                if (first != root && nstarts < MAX_STARTS && procs[first].parent == root) {
                    starts[nstarts++] = (struct start){procs[first].fork_ns, procs[first].exec_ns,
                                                       procs[pid].fork_ns, procs[pid].exec_ns};
                }
            }
        }
    }
    if (nstarts == 0) { fprintf(stderr, "spawn-timeline: no start seen\n"); return 1; }
    int64_t *v = calloc((size_t)nstarts, sizeof *v);
    printf("TIMELINE label=%s starts=%d", argv[2], nstarts);
    for (int i = 0; i < nstarts; i++) v[i] = starts[i].exec1 - starts[i].fork1;
    step("fork1_exec1", v, nstarts);
    for (int i = 0; i < nstarts; i++) v[i] = starts[i].fork2 - starts[i].exec1;
    step("exec1_fork2", v, nstarts);
    for (int i = 0; i < nstarts; i++) v[i] = starts[i].exec2 - starts[i].fork2;
    step("fork2_exec2", v, nstarts);
    for (int i = 0; i < nstarts; i++) v[i] = starts[i].exec2 - starts[i].fork1;
    step("fork1_exec2", v, nstarts);
    printf(" netlink_overruns=%ld\n", overruns);
    return 0;
}
