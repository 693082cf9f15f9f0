package dev.blivet.daemon.supervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Makes the jobs from the jobs directory match a fresh scan of it: new jobs are added (and
 * started if autostart), changed specs take effect at their next start, jobs whose file is gone
 * are stopped and removed. Jobs clients started are left alone. Loop thread only.
 */
final class JobsReconciler {
    private final JobTable table;
    private final ActionRunner runner;
    private final Function<JobsDirectory.Entry, Job> newJob;

    /** @param newJob a fresh job owned by blivetd's own uid, for an entry of the directory */
    JobsReconciler(JobTable table, ActionRunner runner, Function<JobsDirectory.Entry, Job> newJob) {
        this.table = table;
        this.runner = runner;
        this.newJob = newJob;
    }

    ReloadReport apply(JobsDirectory.Scan scan) {
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        Map<String, String> errors = new TreeMap<>(scan.errors());
        for (JobsDirectory.Entry entry : scan.jobs().values()) {
            Job job = table.get(entry.spec().name());
            if (job != null && job.spec == null && !job.state().hasProcess()) {
                runner.forget(job); // a ledger record blivetd refused: the directory's file is the spec
                job = null;
            }
            if (job != null && !JobsDirectory.SOURCE.equals(job.source)) {
                errors.put(entry.file().toString(), "job name " + job.name + " is taken by a job uid " + job.owner
                        + " started; skipped (stop and remove that job: blivetctl stop " + job.name
                        + " && blivetctl remove " + job.name + ", then reload)");
                continue;
            }
            if (job == null) {
                job = newJob.apply(entry);
                table.add(job);
                added.add(job.name);
                if (entry.resolved().supervision().autostart()) {
                    runner.act(job, job.lifecycle.start());
                }
            } else {
                // Its file came back while it was being stopped for a reload without it: it stays
                // (stopped), rather than be forgotten with its file present.
                job.removeWhenStopped = false;
                if (!job.spec.equals(entry.spec())) {
                    job.setSpec(entry.spec(), entry.resolved());
                    changed.add(job.name);
                }
                if (job.startWithJobsDirectory) {
                    job.startWithJobsDirectory = false;
                    if (entry.resolved().supervision().autostart()) {
                        runner.act(job, job.lifecycle.start());
                    }
                }
            }
        }
        // An incomplete scan (the directory refused or unreadable) says nothing of what is gone.
        for (Job job : scan.complete() ? table.all() : List.<Job>of()) {
            if (JobsDirectory.SOURCE.equals(job.source) && !scan.jobs().containsKey(job.name)) {
                removed.add(job.name);
                if (job.state().hasProcess()) {
                    job.removeWhenStopped = true;
                    runner.stop(job, null, null);
                } else {
                    runner.act(job, job.lifecycle.stop());
                    runner.forget(job);
                }
            }
        }
        // A directory that could not be read says nothing of them: they start as the ledger has them.
        for (Job job : table.all()) {
            if (job.startWithJobsDirectory) {
                job.startWithJobsDirectory = false;
                runner.act(job, job.lifecycle.start());
            }
        }
        return new ReloadReport(added, changed, removed, errors);
    }
}
