package dev.blivet.ctl;

import dev.blivet.common.Defaults;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** A number of seconds on the command line: as blivetd takes them, from 0 to a day. */
final class Seconds {
    private Seconds() {
    }

    static void check(CommandLine commandLine, String option, Double value) {
        if (value != null && (value.isNaN() || value < 0 || value > Defaults.MAX_SECONDS)) {
            throw new ParameterException(commandLine, option + " must be a number of seconds from 0 to "
                    + Defaults.MAX_SECONDS + ": " + value);
        }
    }
}
