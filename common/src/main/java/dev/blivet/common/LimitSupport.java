package dev.blivet.common;

import java.util.Optional;

/**
 * Whether a cgroup limit can be applied where the jobs will run. blivetd answers from its cgroup
 * mode and the controllers its job cgroups get; a limit that cannot be applied is a validation
 * error, never silently ignored.
 */
@FunctionalInterface
public interface LimitSupport {
    /**
     * Where the answer is not known here (a resolver outside blivetd, e.g. {@code blivetctl
     * validate} run offline): blivetd checks again at the start.
     */
    LimitSupport UNKNOWN = (key, controller) -> Optional.empty();

    /** Why {@code key}, which needs the cgroup v2 {@code controller}, cannot be applied; empty if it can. */
    Optional<String> whyNot(String key, String controller);
}
