package dev.blivet.ctl;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
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
        Main main = main(commandLine);
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
        err.println("blivetctl: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Run '" + commandLine.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        if (main.json) {
            main.printJson(errorDocument(new CliException(CliExit.USAGE, ex.getMessage())));
        }
        return CliExit.USAGE.code();
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
            case PERMISSION_DENIED -> {
                int uid = Uid.effective();
                yield "\n  You are " + Uid.describe(uid) + ": you may start jobs that run as yourself, and stop,"
                        + " restart, signal and query the jobs you started; root's jobs and reload need root"
                        + " (sudo blivetctl ...).";
            }
            case NOT_FOUND -> !failure.getMessage().startsWith("no job named") ? ""
                    : "\n  'blivetctl status' lists the jobs you may see"
                            + (Uid.effective() == 0 ? "." : " (only your own: you are not root).");
            default -> "";
        };
    }

    private static Main main(CommandLine commandLine) {
        return (Main) commandLine.getCommandSpec().root().userObject();
    }
}
