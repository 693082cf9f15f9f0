package dev.blivet.daemon.systemd;

import dev.blivet.common.protocol.JobState;
import dev.blivet.daemon.supervisor.JobSnapshot;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The STATUS= line {@code systemctl status blivetd} shows: "12 jobs: 10 running, 1 failed, 1 stopped". */
public final class JobCountStatus {
    /** Most telling first: what runs, then what moves, then what stays down. */
    private static final List<JobState> ORDER = List.of(JobState.RUNNING, JobState.STARTING, JobState.STOPPING,
            JobState.BACKOFF, JobState.FAILED, JobState.EXITED, JobState.STOPPED);

    private JobCountStatus() {
    }

    public static String of(List<JobSnapshot> jobs) {
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        for (JobSnapshot job : jobs) {
            counts.merge(job.state(), 1, Integer::sum);
        }
        StringBuilder text = new StringBuilder().append(jobs.size()).append(jobs.size() == 1 ? " job" : " jobs");
        String separator = ": ";
        List<JobState> states = new java.util.ArrayList<>(ORDER);
        java.util.EnumSet.complementOf(java.util.EnumSet.copyOf(ORDER)).forEach(states::add); // a state added later
        for (JobState state : states) {
            Integer n = counts.get(state);
            if (n != null) {
                text.append(separator).append(n).append(' ').append(state.jsonName());
                separator = ", ";
            }
        }
        return text.toString();
    }
}
