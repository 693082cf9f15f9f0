package dev.blivet.daemon.server;

/** Who is on the other end of a connection, as SO_PEERCRED told at accept time. */
record Peer(int pid, int uid, int gid) {
    boolean isRoot() {
        return uid == 0;
    }

    /**
     * Whether this peer may act on blivetd itself (reload, reexec): root, or the user a blivetd
     * of its own runs as, whose socket no one else can reach.
     */
    boolean administers(int daemonUid) {
        return uid == 0 || uid == daemonUid;
    }
}
