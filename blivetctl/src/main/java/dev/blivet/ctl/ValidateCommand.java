package dev.blivet.ctl;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.NativeAccounts;
import dev.blivet.common.SpecException;
import dev.blivet.common.SpecProblem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;

@Command(name = "validate", modelTransformer = ExitCodeList.class,
        description = {"Check job spec files offline, as blivetd would.",
                "The same validation blivetd runs on a start (keys and types, paths, users and groups, the"
                        + " program), here on behalf of your own uid, without blivetd.",
                "Prints OK, or every problem at once; exits with 8 if any file has one."},
        footer = {"", "Examples:",
                "  blivetctl validate examples/jobs/*.json",
                "  blivetctl validate web.json",
                "  web.json: 2 problems",
                "    invalid job spec: 'umask' must be an octal string such as \"022\": \"0999\"",
                "    cannot run program: /usr/bin/webd does not exist"})
final class ValidateCommand implements Callable<Void>, Commands.Subcommand {
    /** Set by {@link Commands} as picocli builds the model. */
    CommandSpec spec;

    @Override
    public void spec(CommandSpec spec) {
        this.spec = spec;
    }

    @Parameters(paramLabel = "FILE.json", arity = "1..*", description = "Job spec files.")
    List<Path> files;

    @Override
    public Void call() throws CliException {
        Main main = (Main) spec.root().userObject();
        JobSpecJson json = new JobSpecJson();
        JobSpecResolver resolver = new JobSpecResolver(new NativeAccounts(), main.env);
        ObjectNode document = Json.object();
        ArrayNode results = document.putArray("files");
        CliExit exit = CliExit.OK;
        for (Path file : files) {
            ObjectNode result = results.addObject().put("file", file.toString());
            ArrayNode problems = Json.array();
            try {
                JobSpec spec = json.parseFile(file);
                result.put("name", spec.name());
                resolver.resolve(spec);
            } catch (IOException e) {
                problems.addObject().put("exit_code", dev.blivet.common.ExitCode.NO_INPUT.code())
                        .put("message", "cannot read " + file + ": " + why(e));
                exit = exit == CliExit.OK ? CliExit.USAGE : exit;
            } catch (SpecException e) {
                for (SpecProblem problem : e.problems()) {
                    problems.addObject().put("exit_code", problem.code().code()).put("message", problem.toString());
                }
                exit = exit == CliExit.OK ? CliExit.INVALID_SPEC : exit;
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
