package dev.blivet.daemon.supervisor;

import java.util.List;
import java.util.Map;

/** What a reload of the jobs directory did, by job name; errors by file. */
public record ReloadReport(List<String> added, List<String> changed, List<String> removed, Map<String, String> errors) {
}
