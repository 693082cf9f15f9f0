package dev.blivet.daemon.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** This boot's id: a pid and a start time name a process only within one boot. */
public final class BootId {
    private static final Path FILE = Path.of("/proc/sys/kernel/random/boot_id");

    private BootId() {
    }

    public static String current() {
        try {
            return new String(Files.readAllBytes(FILE), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + FILE + ": " + e.getMessage(), e);
        }
    }
}
