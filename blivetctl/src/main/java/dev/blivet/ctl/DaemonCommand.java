package dev.blivet.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** A command that talks to blivetd: one connection for the whole command. */
abstract class DaemonCommand implements Callable<Void>, Commands.Subcommand {
    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    @Override
    public void spec(CommandSpec spec) {
        this.spec = spec;
    }

    /** The top command: shared options, output streams. Set as the command runs. */
    Main main;

    @Override
    public Void call() throws CliException {
        return call((Main) spec.root().userObject());
    }

    /** Runs the command with these shared options and streams: picocli's run, or {@link Shortcut}'s. */
    Void call(Main main) throws CliException {
        this.main = main;
        checkArguments();
        try (ControlClient client = main.connect()) {
            run(client);
        }
        return null;
    }

    /** Argument checks picocli cannot make, before connecting; throw {@link #usage}. */
    void checkArguments() {
    }

    /** Does the command's work; throws for a failure (the exit code is the exception's). */
    abstract void run(ControlClient client) throws CliException;

    /** A usage error (exit code 2) found after parsing, e.g. an unknown signal name. */
    ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** One request about one job. */
    interface JobAction {
        JsonNode apply(String name) throws CliException;
    }

    /**
     * Runs the action for each job, going on past a job's failure (but not past an unreachable
     * daemon). One job: its result is the JSON document, its failure the command's. Several:
     * {"jobs": [results], "errors": [{"name", "error"}]}, each failure reported as it happens,
     * and the exit code is the first failure's.
     */
    void forEach(List<String> names, JobAction action, Function<JsonNode, String> describe) throws CliException {
        if (names.size() == 1) {
            JsonNode result = action.apply(names.get(0));
            print(result, describe);
            return;
        }
        ObjectNode document = Json.object();
        ArrayNode jobs = document.putArray("jobs");
        ArrayNode errors = document.putArray("errors");
        CliExit first = null;
        for (String name : names) {
            try {
                JsonNode result = action.apply(name);
                jobs.add(result);
                if (!main.json) {
                    main.out().println(describe.apply(result));
                }
            } catch (CliException e) {
                if (e.exit() == CliExit.UNREACHABLE) {
                    throw e;
                }
                errors.addObject().put("name", name).set("error", Failures.errorDocument(e).get("error"));
                if (!main.json) {
                    main.out().flush();
                    Failures.report(main, e);
                } else {
                    main.err().println("blivetctl: " + e.getMessage());
                }
                first = first == null ? e.exit() : first;
            }
        }
        if (main.json) {
            main.printJson(document);
        }
        main.out().flush();
        if (first != null) {
            throw CliException.reported(first);
        }
    }

    /** The result as JSON with --json, else its description. */
    void print(JsonNode result, Function<JsonNode, String> describe) {
        if (main.json) {
            main.printJson(result);
        } else {
            main.out().println(describe.apply(result));
            main.out().flush();
        }
    }
}
