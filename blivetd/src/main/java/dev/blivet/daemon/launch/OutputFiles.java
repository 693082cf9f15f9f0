package dev.blivet.daemon.launch;

/**
 * Which files a run's stdout and stderr are, as the helper opened them with the job's identity
 * (null: /dev/null, or not reported). `logs` shows a user's job only from these very files:
 * whatever its path names now, root never reads for a user a file that user could not open.
 */
public record OutputFiles(FileId stdout, FileId stderr) {
    public static final OutputFiles NONE = new OutputFiles(null, null);
}
