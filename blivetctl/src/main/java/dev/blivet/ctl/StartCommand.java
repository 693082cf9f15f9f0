package dev.blivet.ctl;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.CliExit;
import dev.blivet.common.StrictJson;
import dev.blivet.common.protocol.JobState;
import dev.blivet.common.protocol.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "start", modelTransformer = ExitCodeList.class,
        description = {"Start a job and wait until it is ready; print its pid.",
                "A FILE is a job spec (JSON) sent to blivetd, which adds the job or updates a stopped one;"
                        + " a NAME is a job blivetd already knows (from its jobs directory, or started before)."},
        footer = {"", "Examples:",
                "  blivetctl start examples/jobs/sleeper.json",
                "  sleeper: running, pid 4242",
                "  blivetctl start sleeper                     start a known job again",
                "  blivetctl start web.json --timeout 10       exit code 6 if not ready in 10 s",
                "  blivetctl start web.json --no-wait          return once it is launched",
                "  blivetctl start web.json --json | jq .pid"})
final class StartCommand extends DaemonCommand {
    /** Any state but the two a start passes through: where a start under --timeout ends up. */
    private static final List<String> SETTLED = Stream.of(JobState.RUNNING, JobState.FAILED, JobState.EXITED,
            JobState.BACKOFF, JobState.STOPPED).map(JobState::jsonName).toList();

    @Parameters(paramLabel = "FILE.json|NAME", arity = "1..*",
            description = "A job spec file (an existing file is read as one), or the name of a known job.")
    List<String> jobs;

    @Option(names = "--no-wait", description = "Return once the job is launched, without waiting for it to be ready.")
    boolean noWait;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Wait at most SECONDS for the job to be ready (exit code 6 after that; the job goes on"
                    + " starting). Without it, blivetd waits as long as the job's ready_timeout.")
    Double timeout;

    @Override
    void checkArguments() {
        Seconds.check(spec.commandLine(), "--timeout", timeout);
        if (noWait && timeout != null) {
            throw usage("--no-wait and --timeout exclude each other");
        }
        for (String job : jobs) {
            if (job.contains("/") && !Files.isRegularFile(Path.of(job))) {
                throw usage("no such file: " + job + " (a job name has no '/')");
            }
        }
    }

    @Override
    void run(ControlClient client) throws CliException {
        forEach(jobs, job -> start(client, job), Format::describe);
    }

    private JsonNode start(ControlClient client, String job) throws CliException {
        ObjectNode request = client.request("start");
        String name = job;
        Path file = Path.of(job);
        boolean byName = !Files.isRegularFile(file);
        if (!byName) {
            JsonNode spec = readSpec(file);
            request.set("spec", spec);
            name = spec.path("name").asText(job);
        } else {
            request.put("name", job);
        }
        JsonNode before = stateBefore(client, name);
        if (noWait || timeout != null) {
            request.put("wait", false);
        }
        JsonNode started;
        try {
            started = client.call(request);
            if (timeout != null) {
                started = client.call(client.request("wait").put("name", name).put("timeout", timeout)
                        .set("state", Json.strings(SETTLED)));
            }
        } catch (CliException e) {
            if (byName && e.exit() == CliExit.NOT_FOUND && looksLikeAFile(job)) {
                throw e.withMessage("no such file: " + job + "; nor does blivetd know a job of that name (an existing"
                        + " file is read as a job spec, anything else is taken as a job's name)");
            }
            if (ranAndFailed(e)) {
                throw e.withMessage("cannot start " + name + ": " + e.getMessage() + "\n  " + nextSteps(name));
            }
            throw e;
        }
        String state = started.path("state").asText();
        if (!noWait && !state.equals(JobState.RUNNING.jsonName())) {
            throw new CliException(CliExit.NOT_RUNNING, "cannot start " + name + ": it is " + Format.state(started)
                    + "\n  " + nextSteps(name));
        }
        if (before != null && JobState.RUNNING.jsonName().equals(before.path("state").asText())
                && state.equals(JobState.RUNNING.jsonName()) && before.path("pid").equals(started.path("pid"))) {
            return Format.withNote(started, "already running"); // blivetd answered with the running job as it was
        }
        return started;
    }

    /** The job as it was before the start, or null when blivetd does not know it (yet). */
    private static JsonNode stateBefore(ControlClient client, String name) throws CliException {
        try {
            return client.call(client.request("status").put("name", name));
        } catch (CliException e) {
            if (e.exit() == CliExit.UNREACHABLE) {
                throw e;
            }
            return null;
        }
    }

    /** A name that is more likely a file someone meant than a job: "web.json". */
    private static boolean looksLikeAFile(String job) {
        return job.endsWith(".json");
    }

    /**
     * The job was started and did not come up (a failed start, or not ready in time): then its
     * state and its stderr say why. Not for a refusal before any start (a conflict, a limit),
     * whose message says what to do.
     */
    private static boolean ranAndFailed(CliException e) {
        if (e.exit() == CliExit.TIMEOUT) {
            return true;
        }
        return e.daemonError() != null
                && dev.blivet.common.protocol.ErrorCode.START_FAILED.code().equals(e.daemonError().path("code").asText());
    }

    private static String nextSteps(String name) {
        return "'blivetctl status " + name + "' shows its state and last exit; 'blivetctl logs " + name
                + " --stderr' what it said.";
    }

    /**
     * The spec file read by the very reader {@code validate} and the jobs directory use, with the
     * same limits, so that a file one of them refuses the others refuse too; blivetd then checks
     * keys and types of the parsed tree it receives.
     */
    private static JsonNode readSpec(Path file) throws CliException {
        StrictJson reader = new StrictJson(Protocol.SPEC_LIMITS);
        JsonNode spec;
        try {
            spec = reader.parse(reader.readFile(file));
        } catch (StrictJson.LimitException e) {
            throw new CliException(CliExit.INVALID_SPEC, file + ": the spec is too large: " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")";
            throw new CliException(CliExit.INVALID_SPEC, file + ": malformed JSON: " + e.getOriginalMessage() + where, e);
        } catch (IOException e) {
            throw new CliException(CliExit.USAGE, "cannot read " + file + ": " + e.getMessage(), e);
        }
        if (spec == null || !spec.isObject()) {
            throw new CliException(CliExit.INVALID_SPEC, file + ": a job spec is a JSON object");
        }
        return spec;
    }
}
