package dev.blivet.daemon.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.blivet.common.ExitCode;
import dev.blivet.common.protocol.ErrorCode;
import dev.blivet.common.protocol.JobState;
import dev.blivet.common.protocol.Op;
import dev.blivet.common.protocol.ProtocolJson;
import dev.blivet.daemon.supervisor.Refusal;
import dev.blivet.daemon.supervisor.Refused;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The protocol's edge: every refusal of the supervisor gets its stable code and words. */
class RepliesTest {
    private final Replies replies = new Replies(ProtocolJson.newMapper());

    private JsonNode error(Refusal refusal) {
        return replies.refusal(NullNode.instance, new Refused(refusal)).get("error");
    }

    private void assertWorded(Refusal refusal, ErrorCode code, String message) {
        JsonNode error = error(refusal);
        assertEquals(code.code(), error.get("code").asText(), refusal.toString());
        assertEquals(message, error.get("message").asText());
    }

    @Test
    void everyRefusalHasItsCodeAndWords() {
        assertWorded(new Refusal.NotFound("web", false), ErrorCode.NOT_FOUND, "no job named web");
        assertWorded(new Refusal.NotFound("web", true), ErrorCode.NOT_FOUND,
                "no job named web (it was removed while you waited)");
        assertWorded(new Refusal.NameTaken("web"), ErrorCode.CONFLICT, "job name web is taken; choose another name");
        assertWorded(new Refusal.OwnedByOther("web", 1000), ErrorCode.CONFLICT,
                "job web belongs to uid 1000: start it by name, or remove it before giving it a new spec");
        assertWorded(new Refusal.Conflict("web", JobState.RUNNING, Refusal.Conflict.Kind.DIFFERENT_SPEC),
                ErrorCode.CONFLICT, "job web is running with a different spec: stop it first");
        assertWorded(new Refusal.Conflict("web", JobState.STOPPING, Refusal.Conflict.Kind.STILL_STOPPING),
                ErrorCode.CONFLICT, "job web is stopping: wait for it to stop first");
        assertWorded(new Refusal.Conflict("web", JobState.EXITED, Refusal.Conflict.Kind.NO_PROCESS),
                ErrorCode.CONFLICT, "job web is exited: there is no process to signal");
        assertWorded(new Refusal.Conflict("web", JobState.STARTING, Refusal.Conflict.Kind.STILL_RUNNING),
                ErrorCode.CONFLICT, "job web is starting: stop it before removing it");
        assertWorded(new Refusal.JobLimit(1000, 64, 64), ErrorCode.LIMIT_EXCEEDED, "uid 1000 has 64 jobs, the most a"
                + " user may have (64, blivetd --max-jobs-per-user): remove one first");
        assertWorded(new Refusal.StartLimit(1000, 8, 8), ErrorCode.LIMIT_EXCEEDED, "uid 1000 has 8 starts pending,"
                + " the most a user may have (8, blivetd --max-starts-per-user): start again once one of them is ready"
                + " or has failed");
        assertWorded(new Refusal.WaitTimeout("web", Set.of(JobState.RUNNING, JobState.FAILED), Duration.ofMillis(1500)),
                ErrorCode.TIMEOUT, "job web did not reach [failed, running] within 1.5 s");
        assertWorded(new Refusal.ShuttingDown(), ErrorCode.SHUTTING_DOWN, "blivetd is shutting down");
        assertWorded(new Refusal.OutOfResources(new OutOfMemoryError("Java heap space")), ErrorCode.INTERNAL,
                "internal error: blivetd ran out of resources for this request (java.lang.OutOfMemoryError: Java heap"
                        + " space); nothing was changed by it, try again");
    }

    @Test
    void aFailedStartCarriesItsExitCodeAndHowTheJobEnded() {
        JsonNode error = error(new Refusal.StartFailed(ExitCode.JOB_EXITED, "web exited before ready", "exit code 3"));
        assertEquals("start_failed", error.get("code").asText());
        assertEquals("web exited before ready", error.get("message").asText());
        assertEquals(70, error.get("exit_code").asInt());
        assertEquals("start failed", error.get("kind").asText());
        assertEquals("exit code 3", error.get("job_exit").asText());
    }

    @Test
    void aRefusedConnectionGetsOneLineWithANullId() throws Exception {
        assertEquals("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"too_many_clients\",\"message\":\"blivetd already"
                + " serves 256 connections; try again later\"}}\n",
                new String(replies.line(replies.connectionRefused("blivetd already serves 256 connections")), "UTF-8"));
    }

    @Test
    void theKnownOpsAreTheOpEnum() {
        assertEquals("ping, start, stop, restart, signal, status, list, remove, reload, wait, validate, events, logs, reexec",
                Op.known());
    }
}
