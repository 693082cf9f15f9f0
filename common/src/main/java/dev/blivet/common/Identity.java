package dev.blivet.common;

/** Who a job runs as, fully resolved: the helper sets exactly these groups, gid and uid. */
public record Identity(int uid, int gid, int[] groups) {
}
