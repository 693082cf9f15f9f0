package dev.blivet.daemon.server;

/** Who is on the other end of a connection, as SO_PEERCRED told at accept time. */
record Peer(int pid, int uid, int gid) {
    boolean isRoot() {
        return uid == 0;
    }
}
