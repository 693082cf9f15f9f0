package dev.blivet.daemon;

import dev.blivet.common.JobSpecResolver;
import dev.blivet.common.ResolvedJob;
import dev.blivet.common.SpecException;
import dev.blivet.daemon.ledger.JobLedger;
import dev.blivet.daemon.ledger.Readoption;
import dev.blivet.daemon.ledger.RunRecord;
import dev.blivet.daemon.ledger.SpecRecord;
import dev.blivet.daemon.ledger.Verdict;
import dev.blivet.daemon.supervisor.Supervisor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the ledger at start-up and turns each record into a job for the supervisor with what
 * re-adoption decided for it. A record the ledger refused, or a spec that no longer resolves,
 * becomes a FAILED job that says why (blivetd still starts).
 */
final class LedgerRestore {
    /** The source shown for a job whose record was refused: nothing of it can be trusted. */
    private static final String REFUSED_SOURCE = "ledger";

    private final JobLedger ledger;
    private final JobSpecResolver resolver;
    private final Log log;
    private final int euid;

    LedgerRestore(JobLedger ledger, JobSpecResolver resolver, Log log, int euid) {
        this.ledger = ledger;
        this.resolver = resolver;
        this.log = log;
        this.euid = euid;
    }

    /** A job of the ledger with its run record, to be decided. */
    private record Pending(SpecRecord record, RunRecord run) {
    }

    /** What was decided for one job, and its log line (null for a plain re-adoption). */
    private record Decided(Supervisor.Restored job, String warning, String info) {
    }

    List<Supervisor.Restored> read(Readoption readoption) {
        long began = System.nanoTime();
        JobLedger.Contents contents;
        try {
            contents = ledger.load();
        } catch (IOException e) {
            log.error("cannot read the ledger: " + e.getMessage() + "; no job of an earlier blivetd is taken over");
            return List.of();
        }
        long read = System.nanoTime();
        contents.warnings().forEach(log::warn);
        Map<String, RunRecord> runs = new HashMap<>(contents.runs());
        List<Pending> pending = new ArrayList<>();
        for (SpecRecord record : contents.specs()) {
            if (!contents.refused().containsKey(record.name())) { // else its run record was refused: listed below
                pending.add(new Pending(record, runs.remove(record.name())));
            }
        }
        // Each decision is its own job's (its record, its pid's /proc entry, its cgroup): decided
        // on every core, logged and handed over in the ledger's order (docs/architecture.md, "Custody").
        List<Decided> decided;
        try {
            decided = pending.parallelStream().map(job -> decide(readoption, job)).toList();
        } finally {
            readoption.decided();
        }
        long done = System.nanoTime();
        List<Supervisor.Restored> jobs = new ArrayList<>(decided.size() + contents.refused().size());
        int adopted = 0;
        for (Decided one : decided) {
            jobs.add(one.job());
            if (one.warning() != null) {
                log.warn(one.warning());
            } else if (one.info() != null) {
                log.info(one.info());
            } else {
                adopted++;
            }
        }
        contents.refused().forEach((name, why) -> {
            log.warn("job " + name + ": " + why);
            jobs.add(new Supervisor.Restored(name, euid, REFUSED_SOURCE, null, null, false, null, why));
        });
        runs.keySet().stream().filter(name -> !contents.refused().containsKey(name)).forEach(name -> log.warn(
                "job " + name + ": a run record without a spec record is ignored (" + runs.get(name) + ")"));
        // The plain re-adoptions are not logged one by one here: the supervisor logs each with its
        // pid as it takes the job over. Every other outcome has its line above.
        log.info("ledger: " + jobs.size() + " jobs, " + adopted + " re-adopted as they ran, " + (jobs.size() - adopted)
                + " otherwise (each logged); read in " + (read - began) / 1_000_000 + " ms, decided in "
                + (done - read) / 1_000_000 + " ms");
        return jobs;
    }

    private Decided decide(Readoption readoption, Pending pending) {
        SpecRecord record = pending.record();
        Verdict verdict = readoption.decide(record.name(), pending.run(), record.up());
        ResolvedJob resolved;
        try {
            resolved = resolver.resolve(record.spec(), record.owner());
        } catch (SpecException e) {
            String pid = verdict instanceof Verdict.Adopt adopt ? "; its process " + adopt.process().pid()
                    + " runs on, unsupervised" : "";
            String why = "its spec no longer resolves: " + e.getMessage() + pid;
            return new Decided(new Supervisor.Restored(record.name(), record.owner(), record.source(), record.spec(), null,
                    record.up(), verdict, why), "job " + record.name() + ": " + why, null);
        }
        boolean plain = verdict instanceof Verdict.Adopt adopt && !adopt.stop();
        return new Decided(new Supervisor.Restored(record.name(), record.owner(), record.source(), record.spec(), resolved,
                record.up(), verdict, null), null, plain ? null : "job " + record.name() + " from the ledger: "
                + describe(verdict));
    }

    private static String describe(Verdict verdict) {
        if (verdict instanceof Verdict.Adopt adopt) {
            return "re-adopting pid " + adopt.process().pid() + (adopt.stop() ? ", then stopping it" : "");
        }
        if (verdict instanceof Verdict.Ended ended) {
            return "pid " + ended.pid() + " ended while blivetd was down ("
                    + (ended.exit() != null ? ended.exit().describe() : "exit status unknown") + ")";
        }
        if (verdict instanceof Verdict.Restart) {
            return "nothing of it runs; starting it again";
        }
        if (verdict instanceof Verdict.Unknown unknown) {
            return unknown.reason();
        }
        if (verdict instanceof Verdict.Over) {
            return "its last run ended earlier in this boot with no restart pending: it stays down";
        }
        return "not running";
    }
}
