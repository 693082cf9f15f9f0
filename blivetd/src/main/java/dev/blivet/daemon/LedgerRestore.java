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

    List<Supervisor.Restored> read(Readoption readoption) {
        JobLedger.Contents contents;
        try {
            contents = ledger.load();
        } catch (IOException e) {
            log.error("cannot read the ledger: " + e.getMessage() + "; no job of an earlier blivetd is taken over");
            return List.of();
        }
        contents.warnings().forEach(log::warn);
        List<Supervisor.Restored> jobs = new ArrayList<>();
        Map<String, RunRecord> runs = new HashMap<>(contents.runs());
        for (SpecRecord record : contents.specs()) {
            if (contents.refused().containsKey(record.name())) {
                continue; // its run record was refused: listed below
            }
            RunRecord run = runs.remove(record.name());
            Verdict verdict = readoption.decide(record.name(), run, record.up());
            ResolvedJob resolved;
            try {
                resolved = resolver.resolve(record.spec(), record.owner());
            } catch (SpecException e) {
                String pid = verdict instanceof Verdict.Adopt adopt ? "; its process " + adopt.process().pid()
                        + " runs on, unsupervised" : "";
                String why = "its spec no longer resolves: " + e.getMessage() + pid;
                log.warn("job " + record.name() + ": " + why);
                jobs.add(new Supervisor.Restored(record.name(), record.owner(), record.source(), record.spec(), null,
                        record.up(), verdict, why));
                continue;
            }
            log.info("job " + record.name() + " from the ledger: " + describe(verdict));
            jobs.add(new Supervisor.Restored(record.name(), record.owner(), record.source(), record.spec(), resolved,
                    record.up(), verdict, null));
        }
        contents.refused().forEach((name, why) -> {
            log.warn("job " + name + ": " + why);
            jobs.add(new Supervisor.Restored(name, euid, REFUSED_SOURCE, null, null, false, null, why));
        });
        runs.keySet().stream().filter(name -> !contents.refused().containsKey(name)).forEach(name -> log.warn(
                "job " + name + ": a run record without a spec record is ignored (" + runs.get(name) + ")"));
        return jobs;
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
