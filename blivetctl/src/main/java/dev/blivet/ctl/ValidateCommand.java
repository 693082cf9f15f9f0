package dev.blivet.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.ExitCode;
import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SpecException;
import dev.blivet.common.SpecProblem;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "validate", modelTransformer = ExitCodeList.class,
        description = {"Check job spec files as a start of them would, without starting anything.",
                "When blivetd answers (at --socket, $BLIVETD_SOCKET or your default socket), blivetd checks each spec"
                        + " as it would check your start of it (the same parser, checks, identity and file-system"
                        + " look-ups) and starts or stores nothing; a root blivetd leaves your paths and program to"
                        + " the start, which opens them as you, so blivetctl looks at them itself, as you.",
                "When blivetd does not answer (or with --offline), blivetctl checks the specs itself, as if a"
                        + " blivetd running as you would start them, and says so: it cannot know blivetd's own user"
                        + " and environment (a root blivetd refuses inherit_env to other users), nor its jobs.",
                "Prints OK, or every problem at once; exits with 8 if any file has one."},
        footer = {"", "Examples:",
                "  blivetctl validate examples/jobs/*.json",
                "  blivetctl validate web.json",
                "  web.json: 3 problems",
                "    invalid job spec: unknown key 'cwd' (did you mean 'chdir'?)",
                "    invalid job spec: 'restart': \"on-falure\" is not one of no, on-failure, always (did you mean"
                        + " \"on-failure\"?)",
                "    cannot run program: /usr/bin/webd does not exist",
                "  blivetctl validate --offline web.json       never connects"})
final class ValidateCommand implements Callable<Void>, Commands.Subcommand {
    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    @Override
    public void spec(CommandSpec spec) {
        this.spec = spec;
    }

    @Parameters(paramLabel = "FILE.json", arity = "1..*", description = "Job spec files.")
    List<Path> files;

    @Option(names = "--offline", description = "Check here, without asking blivetd (see above for what that cannot know);"
            + " with --socket, a usage error.")
    boolean offline;

    /** Who checks: blivetd over a connection, or this process. */
    private interface Checker {
        /** The spec's problems, worded as a start would word them. */
        List<JsonNode> check(JsonNode tree) throws CliException;
    }

    @Override
    public Void call() throws CliException {
        Main main = (Main) spec.root().userObject();
        if (offline && main.socket != null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--offline never connects: --socket has no use with it");
        }
        ObjectNode document = Json.object();
        ControlClient client = null;
        String offlineWhy = "--offline";
        if (!offline) {
            try {
                client = main.connect();
            } catch (CliException e) {
                offlineWhy = e.getMessage().lines().findFirst().orElse("").replaceFirst("\\.$", "");
            }
        }
        try {
            Checker checker = null;
            if (client != null) {
                checker = online(main, client, document);
                if (checker == null) {
                    offlineWhy = "blivetd at " + client.socket() + " is older than the validate request";
                }
            }
            if (checker == null) {
                checker = offline(main, document, offlineWhy);
            }
            return check(main, checker, document);
        } finally {
            if (client != null) {
                client.close();
            }
        }
    }

    /** blivetd's checker, or null when this blivetd does not know the validate request. */
    private Checker online(Main main, ControlClient client, ObjectNode document) throws CliException {
        JsonNode ping = client.call(client.request("ping"));
        String uid = ping.path("uid").asText("?");
        JobSpecResolver local = new JobSpecResolver(new NativeAccounts(), main.env);
        JobSpecJson json = new JobSpecJson();
        Checker checker = tree -> {
            JsonNode answer;
            try {
                answer = client.call(client.request("validate").set("spec", tree));
            } catch (CliException e) {
                if (e.daemonError() != null && ErrorCode.UNKNOWN_OP.code().equals(e.daemonError().path("code").asText())) {
                    return null;
                }
                throw e;
            }
            List<JsonNode> problems = new java.util.ArrayList<>();
            answer.path("problems").forEach(problems::add);
            if (!answer.path("probed").asBoolean(true) && problems.isEmpty()) {
                // blivetd checked all it checks for this client; the paths and program are checked
                // by the start as this very user, so the look-ups are this process's to make.
                try {
                    for (SpecProblem problem : local.probe(json.fromTree(tree))) {
                        problems.add(problem(problem.code().code(), problem.toString()));
                    }
                } catch (SpecException e) {
                    // blivetd found the spec sound: a disagreement here is not the user's problem
                }
            }
            return problems;
        };
        // One request first: a blivetd that does not know validate says so before anything is reported.
        if (checker.check(Json.object()) == null) {
            return null;
        }
        document.put("checked_by", "blivetd").put("socket", client.socket().toString()).put("uid", uid);
        if (!main.json) {
            main.err().println("checked by blivetd at " + client.socket() + " as uid " + uid);
            main.err().flush();
        }
        return checker;
    }

    private Checker offline(Main main, ObjectNode document, String why) {
        int uid = Uid.effective();
        document.put("checked_by", "offline").put("uid", Integer.toUnsignedString(uid)).put("reason", why);
        if (!main.json) {
            main.err().println("checked offline as uid " + Integer.toUnsignedString(uid) + " (" + why + "): as if a"
                    + " blivetd running as you started these specs. An offline check cannot know blivetd's own user and"
                    + " environment (a root blivetd refuses inherit_env to other users), nor the jobs it has.");
            main.err().flush();
        }
        JobSpecJson json = new JobSpecJson();
        JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), main.env);
        return tree -> json.problems(tree, resolver::resolve).stream()
                .<JsonNode>map(p -> problem(p.code().code(), p.toString())).toList();
    }

    private Void check(Main main, Checker checker, ObjectNode document) throws CliException {
        ArrayNode results = document.putArray("files");
        CliExit exit = CliExit.OK;
        StrictJson reader = new StrictJson(Protocol.SPEC_LIMITS);
        for (Path file : files) {
            ObjectNode result = results.addObject().put("file", file.toString());
            ArrayNode problems = Json.array();
            try {
                JsonNode tree = reader.parse(reader.readFile(file));
                if (tree.path("name").isTextual()) {
                    result.put("name", tree.get("name").asText());
                }
                if (!tree.isObject()) {
                    problems.add(problem(ExitCode.USAGE.code(), ExitCode.USAGE.kind() + ": a job spec is a JSON object"));
                } else {
                    problems.addAll(checker.check(tree));
                }
                exit = problems.isEmpty() || exit != CliExit.OK ? exit : CliExit.INVALID_SPEC;
            } catch (StrictJson.LimitException e) {
                problems.add(problem(ExitCode.USAGE.code(), ExitCode.USAGE.kind() + ": the spec is too large: "
                        + e.getOriginalMessage()));
                exit = exit == CliExit.OK ? CliExit.INVALID_SPEC : exit;
            } catch (JsonProcessingException e) {
                String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
                problems.add(problem(ExitCode.USAGE.code(), ExitCode.USAGE.kind() + ": malformed JSON: "
                        + e.getOriginalMessage() + where));
                exit = exit == CliExit.OK ? CliExit.INVALID_SPEC : exit;
            } catch (IOException e) {
                problems.add(problem(ExitCode.NO_SPEC.code(), "cannot read " + file + ": " + why(e)));
                exit = exit == CliExit.OK ? CliExit.USAGE : exit;
            }
            result.put("valid", problems.isEmpty());
            result.set("problems", problems);
            if (!main.json) {
                report(main, file, problems);
            }
        }
        document.put("valid", exit == CliExit.OK);
        if (main.json) {
            main.printJson(document);
        }
        if (exit != CliExit.OK) {
            throw CliException.reported(exit);
        }
        return null;
    }

    private static ObjectNode problem(int exitCode, String message) {
        ObjectNode problem = Json.object();
        problem.put("exit_code", exitCode).put("message", message);
        return problem;
    }

    private static String why(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage();
    }

    private static void report(Main main, Path file, ArrayNode problems) {
        if (problems.isEmpty()) {
            main.out().println(file + ": OK");
        } else if (problems.size() == 1) {
            main.out().println(file + ": " + problems.get(0).path("message").asText());
        } else {
            main.out().println(file + ": " + problems.size() + " problems");
            problems.forEach(problem -> main.out().println("  " + problem.path("message").asText()));
        }
        main.out().flush();
    }
}
