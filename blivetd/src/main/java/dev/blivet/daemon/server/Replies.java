package dev.blivet.daemon.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.blivet.common.Version;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.common.protocol.JobState;
import dev.blivet.common.protocol.Protocol;
import dev.blivet.daemon.supervisor.JobSnapshot;
import dev.blivet.daemon.supervisor.Limits;
import dev.blivet.daemon.supervisor.Refusal;
import dev.blivet.daemon.supervisor.Refused;
import dev.blivet.daemon.supervisor.ReloadReport;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The one place that knows the wire: every line blivetd sends (replies, errors, events, log
 * lines, a refused connection's last word) is built here, and every {@link Refusal} of the
 * supervisor is worded here with its stable {@link ErrorCode} (docs/protocol.md).
 */
final class Replies {
    private final ObjectMapper mapper;
    /** Read once: Version reads it from the jar, which cost every ping a seek and a read of it. */
    private final String version = Version.get();

    Replies(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    // ---- envelopes ----

    ObjectNode ok(JsonNode id, JsonNode result) {
        ObjectNode response = mapper.createObjectNode();
        response.set("id", id);
        response.put("ok", true);
        response.set("result", result);
        return response;
    }

    ObjectNode error(JsonNode id, ErrorCode code, String message, JsonNode details) {
        ObjectNode response = mapper.createObjectNode();
        response.set("id", id);
        response.put("ok", false);
        ObjectNode error = response.putObject("error");
        error.put("code", code.code());
        error.put("message", message);
        if (details != null) {
            details.fields().forEachRemaining(field -> error.set(field.getKey(), field.getValue()));
        }
        return response;
    }

    ObjectNode error(JsonNode id, RequestException e) {
        return error(id, e.code(), e.getMessage(), e.details());
    }

    /** The answer to a refusal from the supervisor or a request the server refused; null for anything else. */
    ObjectNode refusal(JsonNode id, Throwable failure) {
        if (failure instanceof RequestException e) {
            return error(id, e);
        }
        if (failure instanceof Refused refused) {
            return error(id, word(refused.refusal()));
        }
        return null;
    }

    /** The last line a connection refused at accept gets (too many clients, no thread for it). */
    ObjectNode connectionRefused(String why) {
        return error(NullNode.instance, ErrorCode.TOO_MANY_CLIENTS, why + "; try again later", null);
    }

    /** An events subscriber that fell too far behind gets this, then the close. */
    ObjectNode eventsCutOff(JsonNode id, int backlog) {
        return error(id, ErrorCode.TOO_MANY_CLIENTS, "events: this client fell more than " + backlog
                + " changes behind and was cut off; reconnect and query status", null);
    }

    byte[] line(JsonNode message) throws JsonProcessingException {
        return (mapper.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    // ---- results ----

    JsonNode ping(int uid) {
        ObjectNode result = mapper.createObjectNode();
        result.put("version", version);
        result.put("protocol", Protocol.VERSION);
        result.put("pid", ProcessHandle.current().pid());
        result.put("uid", uid);
        return result;
    }

    JsonNode job(JobSnapshot job) {
        return mapper.valueToTree(job);
    }

    JsonNode jobs(List<JobSnapshot> jobs) {
        ObjectNode result = mapper.createObjectNode();
        result.set("jobs", mapper.valueToTree(jobs));
        return result;
    }

    /** The short form of list: name, state, pid and owner. */
    JsonNode list(List<JobSnapshot> jobs) {
        ObjectNode result = mapper.createObjectNode();
        var array = result.putArray("jobs");
        for (JobSnapshot job : jobs) {
            ObjectNode item = array.addObject().put("name", job.name()).put("state", job.state().jsonName());
            if (job.pid() != null) {
                item.put("pid", job.pid());
            }
            item.put("owner", job.owner());
        }
        return result;
    }

    /**
     * A validate's answer: whether a start of this spec by {@code uid} would pass the checks, and
     * every problem as a refused start would list it; {@code probed} says whether blivetd looked
     * at the file system for this uid (not for a non-root client of a root blivetd).
     */
    JsonNode validated(String name, int uid, boolean probed, List<dev.blivet.common.SpecProblem> problems) {
        ObjectNode result = mapper.createObjectNode();
        if (name != null) {
            result.put("name", name);
        }
        result.put("valid", problems.isEmpty());
        result.put("uid", uid);
        result.put("probed", probed);
        var array = result.putArray("problems");
        for (var problem : problems) {
            array.addObject().put("exit_code", problem.code().code()).put("message", problem.toString());
        }
        return result;
    }

    /** @param warning what the operator should know though nothing failed (a missing jobs directory), or null */
    JsonNode reload(ReloadReport report, String warning) {
        ObjectNode result = mapper.valueToTree(report);
        if (warning != null) {
            result.putArray("warnings").add(warning);
        }
        return result;
    }

    JsonNode subscribed() {
        return mapper.createObjectNode().put("subscribed", true);
    }

    ObjectNode stateEvent(JobSnapshot change) {
        ObjectNode event = mapper.createObjectNode().put("event", "state");
        event.set("job", mapper.valueToTree(change));
        return event;
    }

    JsonNode logLines(String file, List<String> lines) {
        ObjectNode result = mapper.createObjectNode().put("file", file);
        var array = result.putArray("lines");
        lines.forEach(array::add);
        return result;
    }

    ObjectNode logEvent(String line) {
        return mapper.createObjectNode().put("event", "log").put("line", line);
    }

    // ---- the supervisor's refusals, worded ----

    RequestException word(Refusal refusal) {
        if (refusal instanceof Refusal.NotFound r) {
            return new RequestException(ErrorCode.NOT_FOUND, "no job named " + r.name()
                    + (r.removedWhileWaiting() ? " (it was removed while you waited)" : ""));
        } else if (refusal instanceof Refusal.NameTaken r) {
            return new RequestException(ErrorCode.CONFLICT, "job name " + r.name() + " is taken; choose another name");
        } else if (refusal instanceof Refusal.OwnedByOther r) {
            return new RequestException(ErrorCode.CONFLICT, "job " + r.name() + " belongs to uid " + r.owner()
                    + ": start it by name, or remove it before giving it a new spec");
        } else if (refusal instanceof Refusal.Conflict r) {
            return new RequestException(ErrorCode.CONFLICT, "job " + r.name() + " is " + r.state().jsonName()
                    + switch (r.kind()) {
                        case DIFFERENT_SPEC -> " with a different spec: stop it first";
                        case STILL_STOPPING -> ": wait for it to stop first";
                        case NO_PROCESS -> ": there is no process to signal";
                        case STILL_RUNNING -> ": stop it before removing it";
                        case LEFTOVERS -> " but other processes of it still run (kill_mode \"main\"):"
                                + " stop it, which stops them, before removing it";
                    });
        } else if (refusal instanceof Refusal.JobLimit r) {
            return new RequestException(ErrorCode.LIMIT_EXCEEDED, "uid " + r.uid() + " has " + r.held() + " jobs, the most"
                    + " a user may have (" + r.limit() + ", blivetd " + Limits.JOBS_OPTION + "): remove one first");
        } else if (refusal instanceof Refusal.StartLimit r) {
            return new RequestException(ErrorCode.LIMIT_EXCEEDED, "uid " + r.uid() + " has " + r.pending() + " starts"
                    + " pending, the most a user may have (" + r.limit() + ", blivetd " + Limits.STARTS_OPTION
                    + "): start again once one of them is ready or has failed");
        } else if (refusal instanceof Refusal.WaitTimeout r) {
            return new RequestException(ErrorCode.TIMEOUT, "job " + r.name() + " did not reach "
                    + r.states().stream().map(JobState::jsonName).sorted().toList() + " within "
                    + r.timeout().toMillis() / 1000.0 + " s");
        } else if (refusal instanceof Refusal.StartFailed r) {
            ObjectNode details = mapper.createObjectNode();
            details.put("exit_code", r.code().code());
            details.put("kind", r.code().kind());
            if (r.jobExit() != null) {
                details.put("job_exit", r.jobExit());
            }
            return new RequestException(ErrorCode.START_FAILED, r.message(), details);
        } else if (refusal instanceof Refusal.ShuttingDown) {
            return new RequestException(ErrorCode.SHUTTING_DOWN, "blivetd is shutting down");
        } else if (refusal instanceof Refusal.OutOfResources r) {
            return new RequestException(ErrorCode.INTERNAL, "internal error: blivetd ran out of resources for this"
                    + " request (" + r.error() + "); nothing was changed by it, try again");
        }
        throw new IllegalArgumentException("unworded refusal " + refusal);
    }
}
