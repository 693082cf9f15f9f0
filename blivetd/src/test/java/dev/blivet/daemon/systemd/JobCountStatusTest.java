package dev.blivet.daemon.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.supervisor.JobSnapshot;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobCountStatusTest {
    private static JobSnapshot job(String name, JobState state) {
        return new JobSnapshot(name, state, null, null, 0, null, null, null, null, null, null, 0, null, null, "client", true, null);
    }

    @Test
    void countsByStateMostTellingFirst() {
        List<JobSnapshot> jobs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            jobs.add(job("web" + i, JobState.RUNNING));
        }
        jobs.add(job("stopped", JobState.STOPPED));
        jobs.add(job("failed", JobState.FAILED));
        assertEquals("12 jobs: 10 running, 1 failed, 1 stopped", JobCountStatus.of(jobs));
        assertEquals("1 job: 1 starting", JobCountStatus.of(List.of(job("a", JobState.STARTING))));
        assertEquals("0 jobs", JobCountStatus.of(List.of()));
    }

    @Test
    void everyStateIsCounted() {
        List<JobSnapshot> jobs = new ArrayList<>();
        for (JobState state : JobState.values()) {
            jobs.add(job(state.jsonName(), state));
        }
        assertEquals("7 jobs: 1 running, 1 starting, 1 stopping, 1 backoff, 1 failed, 1 exited, 1 stopped",
                JobCountStatus.of(jobs));
    }
}
