package dev.blivet.daemon.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.JobSpec;
import dev.blivet.common.JobSpecJson;
import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.ReservedName;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.Signals;
import dev.blivet.common.SpecException;
import dev.blivet.common.SpecProblem;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.common.protocol.JobState;
import dev.blivet.common.protocol.Op;
import dev.blivet.daemon.supervisor.JobSnapshot;
import dev.blivet.daemon.supervisor.JobsDirectory;
import dev.blivet.daemon.supervisor.Supervisor;
import dev.blivet.daemon.usage.JobCgroups;
import dev.blivet.daemon.usage.UsageReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Turns one request object into a supervisor call, and its result into JSON through {@link Replies}.
 * Field checks name the field at fault; streaming ops (events, logs) are the {@link Connection}'s.
 */
public final class RequestHandler {
    private static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    private final Supervisor supervisor;
    private final JobSpecResolver resolver;
    private final JobsDirectory jobsDirectory;
    private final Replies replies;
    /** Shared by every connection's handler: its ObjectMapper holds the built JobSpec deserializer. */
    private final JobSpecJson specJson;
    private final JobCgroups cgroups;
    private final UsageReader usage;
    private final Reexec reexec;
    /** Shared by every connection's handler: the requests being answered, which the warm-up waits for. */
    private final Answering answering;

    public RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, ObjectMapper mapper) {
        this(supervisor, resolver, jobsDirectory, new Replies(mapper), JobCgroups.NONE, Reexec.WITHOUT_KEEPER);
    }

    /** @param cgroups where each job's cgroup is, for the processes and usage a status shows */
    public RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, ObjectMapper mapper,
            JobCgroups cgroups) {
        this(supervisor, resolver, jobsDirectory, new Replies(mapper), cgroups, Reexec.WITHOUT_KEEPER);
    }

    public RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, ObjectMapper mapper,
            Reexec reexec) {
        this(supervisor, resolver, jobsDirectory, new Replies(mapper), JobCgroups.NONE, reexec);
    }

    /**
     * @param cgroups where each job's cgroup is, for the processes and usage a status shows
     * @param reexec how this JVM hands over to the next one (the keeper's), or {@link Reexec#WITHOUT_KEEPER}
     */
    public RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, ObjectMapper mapper,
            JobCgroups cgroups, Reexec reexec) {
        this(supervisor, resolver, jobsDirectory, new Replies(mapper), cgroups, reexec);
    }

    RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, Replies replies) {
        this(supervisor, resolver, jobsDirectory, replies, JobCgroups.NONE, Reexec.WITHOUT_KEEPER);
    }

    RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, Replies replies,
            Reexec reexec) {
        this(supervisor, resolver, jobsDirectory, replies, JobCgroups.NONE, reexec);
    }

    private RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, Replies replies,
            JobCgroups cgroups, Reexec reexec) {
        this(supervisor, resolver, jobsDirectory, replies, cgroups, reexec, new JobSpecJson(), new Answering());
    }

    private RequestHandler(Supervisor supervisor, JobSpecResolver resolver, JobsDirectory jobsDirectory, Replies replies,
            JobCgroups cgroups, Reexec reexec, JobSpecJson specJson, Answering answering) {
        this.answering = answering;
        this.supervisor = supervisor;
        this.resolver = resolver;
        this.jobsDirectory = jobsDirectory;
        this.replies = replies;
        this.usage = new UsageReader(cgroups, Path.of("/proc"));
        this.reexec = reexec;
        this.specJson = specJson;
        this.cgroups = cgroups;
    }

    /**
     * The reply to {@code reexec} (the pid that answers, which the next JVM's will differ from);
     * the {@link Connection} writes it, then calls {@link #beginReexec}.
     */
    JsonNode reexec(Peer peer) {
        if (!peer.administers(resolver.daemonUid())) {
            throw new RequestException(ErrorCode.PERMISSION_DENIED, "only root may re-exec blivetd; you are uid "
                    + peer.uid());
        }
        String refusal = reexec.refusal();
        if (refusal != null) {
            throw new RequestException(ErrorCode.CONFLICT, refusal);
        }
        return replies.ping(peer.uid());
    }

    void beginReexec() {
        reexec.begin();
    }

    /**
     * This handler for one connection: the same everything, but the requester's account (and any
     * other uid's) looked up once for the connection's life, not at every start.
     */
    RequestHandler forConnection() {
        return new RequestHandler(supervisor, resolver.withAccounts(ConnectionAccounts::new), jobsDirectory, replies,
                cgroups, reexec, specJson, answering);
    }

    /** The requests of every connection being answered now. */
    Answering answering() {
        return answering;
    }

    /** Answers every op but the streaming ones (events, logs), which are the {@link Connection}'s. */
    CompletableFuture<JsonNode> handle(Op op, ObjectNode request, Peer peer) {
        int uid = peer.uid();
        return switch (op) {
            case PING -> CompletableFuture.completedFuture(replies.ping(uid));
            case START -> start(request, uid).thenApply(replies::job);
            case STOP -> stop(request, uid);
            case RESTART -> supervisor.restart(Fields.name(request), uid).thenApply(replies::job);
            case SIGNAL -> supervisor.signal(Fields.name(request), uid, signal(request, "signal"),
                    Fields.bool(request, "group", false)).thenApply(replies::job);
            // The live part (processes, usage) is read here, on the connection's thread, from the
            // published snapshot: never on the supervisor's loop, never at publication.
            case STATUS -> request.has("name")
                    ? CompletableFuture.completedFuture(replies.job(live(supervisor.status(Fields.name(request), uid).join())))
                    : CompletableFuture.completedFuture(replies.jobs(supervisor.list(uid).join().stream()
                            .map(this::liveForTable).toList()));
            case LIST -> supervisor.list(uid).thenApply(replies::list);
            case REMOVE -> supervisor.remove(Fields.name(request), uid).thenApply(replies::job);
            case RELOAD -> reload(peer);
            case WAIT -> supervisor.waitFor(Fields.name(request), uid, states(request),
                    Fields.seconds(request, "timeout", DEFAULT_WAIT)).thenApply(replies::job);
            case VALIDATE -> CompletableFuture.completedFuture(validate(request, uid));
            case REEXEC -> CompletableFuture.completedFuture(reexec(peer)); // the Connection's, to begin it after the reply
            case EVENTS, LOGS -> throw new IllegalArgumentException(op.wire() + " is a stream: the connection's");
        };
    }

    private JobSnapshot live(JobSnapshot job) {
        if (job.pid() == null) {
            return job;
        }
        UsageReader.Live live = usage.read(job.name(), job.pid());
        return job.withUsage(live.listing().processes(), live.listing().total(), live.usage());
    }

    private JobSnapshot liveForTable(JobSnapshot job) {
        UsageReader.Live live = job.pid() == null ? null : usage.readForTable(job.name());
        return live == null ? job : job.withUsage(null, live.listing().total(), live.usage());
    }

    private CompletableFuture<JobSnapshot> start(ObjectNode request, int uid) {
        boolean wait = Fields.bool(request, "wait", true);
        JsonNode specNode = request.get("spec");
        if (specNode == null) {
            String name = Fields.name(request);
            if (ReservedName.is(name) && !resolver.allowsReservedName()) {
                throw new RequestException(ErrorCode.BAD_REQUEST, ReservedName.refusal(name));
            }
            return supervisor.start(name, uid, wait);
        }
        JobSpec spec;
        ResolvedJob resolved;
        try {
            spec = specJson.fromTree(specObject(specNode)); // already read strictly with the request
            resolved = resolver.resolve(spec, uid);
        } catch (SpecException e) {
            // Every problem, as validate lists them: the shape's and the rest's.
            List<SpecProblem> all = specJson.problems(specNode, sound -> resolver.resolve(sound, uid));
            throw invalidSpec(all.isEmpty() ? e : new SpecException(all));
        }
        return supervisor.start(spec, resolved, uid, wait);
    }

    /** An inline spec bound as a start binds it, nothing more: for {@link Warmup}'s dry runs. */
    JobSpec specOnly(JsonNode specNode) throws SpecException {
        return specJson.fromTree(specObject(specNode));
    }

    /** What a start of this spec would launch, nothing more: for {@link Warmup}'s dry runs. */
    ResolvedJob resolveOnly(JobSpec spec, int uid) throws SpecException {
        return resolver.resolve(spec, uid);
    }

    private static JsonNode specObject(JsonNode specNode) {
        if (specNode == null || !specNode.isObject()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'spec' must be a JSON object (a job spec)");
        }
        return specNode;
    }

    /**
     * A start's checks, step for step (the same parser, the resolver on behalf of the same uid,
     * so the same probes), and nothing after them: the supervisor is not asked, nothing is stored.
     */
    private JsonNode validate(ObjectNode request, int uid) {
        JsonNode specNode = specObject(request.get("spec"));
        List<SpecProblem> problems = specJson.problems(specNode, spec -> resolver.resolve(spec, uid));
        JsonNode name = specNode.get("name");
        return replies.validated(name != null && name.isTextual() ? name.asText() : null, uid, resolver.probesFor(uid),
                problems);
    }

    private RequestException invalidSpec(SpecException e) {
        ObjectNode details = JsonNodeFactory.instance.objectNode();
        details.put("exit_code", e.code().code());
        var problems = details.putArray("problems");
        for (SpecProblem problem : e.problems()) {
            problems.addObject().put("exit_code", problem.code().code()).put("message", problem.toString());
        }
        ErrorCode code = e.code() == dev.blivet.common.ExitCode.NO_PERMISSION ? ErrorCode.PERMISSION_DENIED
                : ErrorCode.INVALID_SPEC;
        return new RequestException(code, e.getMessage(), details);
    }

    private CompletableFuture<JsonNode> stop(ObjectNode request, int uid) {
        Integer signal = request.has("signal") ? signal(request, "signal") : null;
        Duration timeout = request.has("timeout") ? Fields.seconds(request, "timeout", null) : null;
        if (!Fields.bool(request, "all", false)) {
            return supervisor.stop(Fields.name(request), uid, signal, timeout).thenApply(replies::job);
        }
        return supervisor.list(uid).thenCompose(jobs -> {
            List<CompletableFuture<JobSnapshot>> stops = new ArrayList<>();
            for (JobSnapshot job : jobs) {
                stops.add(supervisor.stop(job.name(), uid, signal, timeout));
            }
            return CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .thenApply(done -> replies.jobs(stops.stream().map(CompletableFuture::join).toList()));
        });
    }

    private CompletableFuture<JsonNode> reload(Peer peer) {
        if (!peer.administers(resolver.daemonUid())) {
            throw new RequestException(ErrorCode.PERMISSION_DENIED, "only root may reload the jobs directory; you are uid "
                    + peer.uid());
        }
        return supervisor.applyJobsDirectory(jobsDirectory.scan())
                .thenApply(report -> replies.reload(report, jobsDirectory.missingWarning()));
    }

    private static int signal(ObjectNode request, String field) {
        JsonNode node = request.get(field);
        String text = node == null ? null : node.isIntegralNumber() ? node.asText() : node.isTextual() ? node.asText() : null;
        OptionalInt number = Signals.number(text);
        if (number.isEmpty()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a signal name (\"TERM\", \"SIGHUP\")"
                    + " or number");
        }
        return number.getAsInt();
    }

    private static Set<JobState> states(ObjectNode request) {
        JsonNode node = request.get("state");
        List<JsonNode> items = new ArrayList<>();
        if (node != null && node.isTextual()) {
            items.add(node);
        } else if (node != null && node.isArray()) {
            node.forEach(items::add);
        }
        if (items.isEmpty()) {
            throw new RequestException(ErrorCode.BAD_REQUEST, "'state' must be a state name or an array of them:"
                    + " " + java.util.Arrays.stream(JobState.values()).map(JobState::jsonName)
                    .collect(java.util.stream.Collectors.joining(", ")));
        }
        Set<JobState> states = EnumSet.noneOf(JobState.class);
        for (JsonNode item : items) {
            try {
                states.add(JobState.fromJson(item.asText()));
            } catch (IllegalArgumentException e) {
                throw new RequestException(ErrorCode.BAD_REQUEST, "'state': unknown state '" + item.asText() + "'");
            }
        }
        return states;
    }
}
