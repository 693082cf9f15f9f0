package dev.blivet.ctl;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;

/**
 * A failure to report and exit with: its exit code, a message that says what to do next, and,
 * for an error blivetd answered with, that error object as it came (for {@code --json}).
 * {@link Failures} is the only place these become output and exit codes: a command either
 * returns (exit 0) or throws one of these, so blivetctl has one exit path.
 */
final class CliException extends Exception {
    private final CliExit exit;
    private final transient ObjectNode daemonError;
    private final boolean reported;

    CliException(CliExit exit, String message) {
        this(exit, message, null, null);
    }

    CliException(CliExit exit, String message, Throwable cause) {
        this(exit, message, null, cause);
    }

    private CliException(CliExit exit, String message, ObjectNode daemonError, Throwable cause) {
        this(exit, message, daemonError, cause, false);
    }

    private CliException(CliExit exit, String message, ObjectNode daemonError, Throwable cause, boolean reported) {
        super(message, cause);
        this.exit = exit;
        this.daemonError = daemonError;
        this.reported = reported;
    }

    /**
     * An outcome the command has shown in its output already (a job that is not running, the
     * problems of a spec, each failure of several jobs): only its exit code is left to give.
     */
    static CliException reported(CliExit exit) {
        return new CliException(exit, exit.meaning(), null, null, true);
    }

    /** From a response's {"code", "message", ...} error object. */
    static CliException fromDaemon(CliExit exit, String message, ObjectNode error) {
        return new CliException(exit, message, error, null);
    }

    /** The same failure told differently (e.g. naming the job), keeping its code and blivetd's error. */
    CliException withMessage(String message) {
        return new CliException(exit, message, daemonError, getCause());
    }

    CliExit exit() {
        return exit;
    }

    /** Shown already: {@link Failures} adds nothing to the output. */
    boolean reported() {
        return reported;
    }

    /** blivetd's error object, or null when blivetctl itself failed. */
    ObjectNode daemonError() {
        return daemonError;
    }
}
