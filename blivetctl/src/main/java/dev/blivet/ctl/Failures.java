package dev.blivet.ctl;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.DidYouMean;
import dev.blivet.common.SocketPaths;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one place a failure becomes output and an exit code, and so the one place blivetctl's
 * exit code is decided (a command that returns exits 0): a {@link CliException} carries its
 * {@link CliExit}; a command line picocli cannot parse is a usage error; anything else is
 * {@link CliExit#ERROR}. Messages go to stderr; with {@code --json}, stdout also gets
 * {@code {"error": {"code": ..., "message": ...}}} (blivetd's error object as it came, when blivetd
 * answered with one).
 */
final class Failures implements IExecutionExceptionHandler, IParameterExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        return handle(ex, main(commandLine));
    }

    /** A failure of a command as it ran: reported, and its exit code returned. */
    static int handle(Exception ex, Main main) {
        CliException failure = ex instanceof CliException c ? c
                : new CliException(CliExit.ERROR, "unexpected error: " + ex, ex);
        if (failure.reported()) {
            return failure.exit().code();
        }
        report(main, failure);
        if (!(ex instanceof CliException) && main.env.get("BLIVETCTL_DEBUG") != null) {
            ex.printStackTrace(main.err());
        }
        main.err().flush();
        return failure.exit().code();
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine commandLine = ex.getCommandLine();
        Main main = main(commandLine);
        PrintWriter err = commandLine.getErr();
        String unknown = unknownCommand(ex);
        if (unknown != null) {
            err.println("blivetctl: unknown command '" + unknown + "'" + DidYouMean.hint(unknown, Commands.names())
                    + "; known: " + String.join(", ", Commands.names()));
            err.println("Run 'blivetctl --help' for usage.");
            err.flush();
            if (main.json) {
                main.printJson(errorDocument(new CliException(CliExit.USAGE, "unknown command '" + unknown + "'")));
            }
            return CliExit.USAGE.code();
        }
        err.println("blivetctl: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Run '" + commandLine.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        if (main.json) {
            main.printJson(errorDocument(new CliException(CliExit.USAGE, ex.getMessage())));
        }
        return CliExit.USAGE.code();
    }

    /**
     * The word where the command belongs, when it names none: picocli calls that an unmatched
     * argument of the top command ("Unmatched argument at index 0"), which says nothing about
     * what was wrong. Null for any other parse failure.
     */
    private static String unknownCommand(ParameterException ex) {
        if (!(ex instanceof UnmatchedArgumentException unmatched) || ex.getCommandLine().getCommandSpec().parent() != null
                || unmatched.getUnmatched().isEmpty()) {
            return null;
        }
        String first = unmatched.getUnmatched().get(0);
        return first.startsWith("-") ? null : first;
    }

    /** Prints one failure: JSON to stdout with --json, and a message with advice to stderr. */
    static void report(Main main, CliException failure) {
        if (main.json) {
            main.printJson(errorDocument(failure));
        }
        main.err().println("blivetctl: " + failure.getMessage() + advice(failure, main));
        main.err().flush();
    }

    /** {"error": {"code": ..., "message": ..., ...}}. */
    static ObjectNode errorDocument(CliException failure) {
        ObjectNode document = JsonNodeFactory.instance.objectNode();
        ObjectNode error = failure.daemonError();
        if (error == null) {
            error = JsonNodeFactory.instance.objectNode().put("code", failure.exit().id())
                    .put("message", failure.getMessage());
        }
        document.set("error", error);
        return document;
    }

    /** What to do next, for the failures whose message from blivetd does not say it already. */
    private static String advice(CliException failure, Main main) {
        if (failure.daemonError() == null) {
            return "";
        }
        return switch (failure.exit()) {
            case PERMISSION_DENIED -> permissionAdvice(Uid.effective(), daemonUid(main));
            case NOT_FOUND -> !failure.getMessage().startsWith("no job named") ? ""
                    : "\n  'blivetctl status' lists the jobs you may see"
                            + (Uid.effective() == 0 ? "." : " (only your own: you are not root).");
            default -> "";
        };
    }

    /**
     * What a refused client may do, from whose blivetd refused it: root's tells a user what it
     * may do there; a user's own blivetd (its socket is the user's) can run jobs only as that
     * user, which root's power would not change, so sudo is no advice there.
     *
     * @param daemonUid the owner of blivetd's socket, or null when unknown
     */
    static String permissionAdvice(int uid, Integer daemonUid) {
        if (uid != 0 && daemonUid != null && daemonUid == uid) {
            return "\n  This blivetd runs as you (" + Uid.describe(uid) + "): it can run jobs only as you, and has no"
                    + " jobs of other users. Jobs as other users are for a root blivetd (" + SocketPaths.ROOT_SOCKET
                    + ", run by root).";
        }
        return "\n  You are " + Uid.describe(uid) + ": you may start jobs that run as yourself, and stop,"
                + " restart, signal and query the jobs you started; root's jobs and reload need root"
                + " (sudo blivetctl ...).";
    }

    private static Integer daemonUid(Main main) {
        try {
            return main.connected == null ? null : (Integer) java.nio.file.Files.getAttribute(main.connected, "unix:uid");
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static Main main(CommandLine commandLine) {
        return (Main) commandLine.getCommandSpec().root().userObject();
    }
}
