package dev.blivet.daemon.usage;

/**
 * One process of a job, as status shows it.
 *
 * @param command its command line (arguments joined by spaces, cut at {@link ProcessLister#MAX_COMMAND}
 *     bytes), or its name in brackets when it has none
 */
public record JobProcess(int pid, String command) {
}
