package dev.blivet.common;

/** A user as the passwd database has it. */
public record Account(String name, int uid, int gid, String home, String shell) {
}
