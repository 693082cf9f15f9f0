package dev.blivet.daemon.launch;

import dev.blivet.common.ExitCode;

/** A start that failed before the job could run; the message already names the culprit. */
final class LaunchException extends Exception {
    private final ExitCode code;

    LaunchException(ExitCode code, String message) {
        super(message);
        this.code = code;
    }

    ExitCode code() {
        return code;
    }
}
