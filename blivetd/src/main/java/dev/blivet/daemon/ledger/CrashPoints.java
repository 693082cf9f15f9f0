package dev.blivet.daemon.ledger;

import java.util.Map;

/**
 * Test-only: halts the JVM, as a kill -9 would, at one named point of the custody protocol, so
 * the tests can prove the next JVM decides correctly from what the ledger holds at that instant.
 * Set by the environment variable {@value #ENV} (never in production: unset, nothing happens).
 */
public final class CrashPoints {
    public static final String ENV = "BLIVET_TEST_CRASH_AT";
    /**
     * Test-only, with {@link #ENV}: a file the halt creates (exclusively) first, so it happens once.
     * Under the keeper every JVM inherits {@link #ENV}, and the next JVM passes the same point
     * (finishing the very stop that was cut) without halting again.
     */
    public static final String ONCE_ENV = "BLIVET_TEST_CRASH_ONCE";
    /** After a start's intent is recorded, before its spawn. */
    public static final String AFTER_LEDGER_WRITE = "after-ledger-write";
    /**
     * After a start's intent is recorded and its spawn released, before a stopped job's
     * {@code NAME.down} marker is unlinked (JobLedger#desired).
     */
    public static final String AFTER_START_RECORDED = "after-start-recorded";
    /** After the spawned job's pid is recorded, before it is ready. */
    public static final String AFTER_SPAWN = "after-spawn";
    /** After a stop signal was sent, before the job ended. */
    public static final String DURING_STOP = "during-stop";
    /**
     * In blivetd's start rehearsal at boot, its job started and its scratch records written,
     * before any of it is cleared (server/StartRehearsal): the next boot must clear it all.
     */
    public static final String IN_REHEARSAL = "in-rehearsal";
    /** The exit code of a halt, as a kill -9 gives the parent. */
    private static final int HALT_STATUS = 137;

    private final String armed;
    private final String once;

    private CrashPoints(String armed, String once) {
        this.armed = armed;
        this.once = once;
    }

    public static CrashPoints none() {
        return new CrashPoints(null, null);
    }

    public static CrashPoints fromEnv(Map<String, String> env) {
        return new CrashPoints(env.get(ENV), env.get(ONCE_ENV));
    }

    public void reached(String point) {
        if (point.equals(armed) && firstTime()) {
            System.err.println("blivetd: test crash point " + point + " reached: halting");
            Runtime.getRuntime().halt(HALT_STATUS);
        }
    }

    private boolean firstTime() {
        if (once == null) {
            return true;
        }
        try {
            java.nio.file.Files.createFile(java.nio.file.Path.of(once));
            return true;
        } catch (java.io.IOException already) {
            return false;
        }
    }
}
