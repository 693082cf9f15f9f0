package dev.blivet.common;

/**
 * The one job name no client and no jobs-directory file may use: blivetd's own start rehearsal at
 * boot runs a job of this name (docs/architecture.md, "The start rehearsal at boot"). A job's
 * cgroup is named after its job, and the rehearsal clears what a crashed boot left in its own, so
 * a job of anyone else under this name could have its processes killed by the next boot.
 */
public final class ReservedName {
    /** The rehearsal's job name: a valid job name, so the cgroup and ledger code take it unchanged. */
    public static final String REHEARSAL = "blivetd-rehearsal";

    private ReservedName() {
    }

    public static boolean is(String name) {
        return REHEARSAL.equals(name);
    }

    /** Why {@code name} is refused, naming it: for a spec's name and for a start by name alike. */
    public static String refusal(String name) {
        return "job name '" + name + "' is reserved for blivetd's start rehearsal at boot: choose another name";
    }
}
