package dev.blivet.ctl;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** A number of seconds on the command line: as blivetd takes them, from 0 to a day. */
final class Seconds {
    static final double MAX = 86_400;

    private Seconds() {
    }

    static void check(CommandLine commandLine, String option, Double value) {
        if (value != null && (value.isNaN() || value < 0 || value > MAX)) {
            throw new ParameterException(commandLine, option + " must be a number of seconds from 0 to 86400: " + value);
        }
    }
}
