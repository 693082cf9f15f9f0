package dev.blivet.common;

import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/** Signal names and numbers for Linux (x86_64 and arm64 share them), as kill -l lists them. */
public final class Signals {
    /** What a stop sends after the stop timeout, and a failed launch to what it started. */
    public static final int SIGKILL = 9;

    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", SIGKILL), Map.entry("USR1", 10),
            Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18),
            Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22),
            Map.entry("URG", 23), Map.entry("XCPU", 24), Map.entry("XFSZ", 25), Map.entry("VTALRM", 26),
            Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29), Map.entry("PWR", 30),
            Map.entry("SYS", 31));

    private Signals() {
    }

    /** "TERM", "SIGTERM", "term" or "15" to 15; empty for anything else. */
    public static OptionalInt number(String nameOrNumber) {
        if (nameOrNumber == null) {
            return OptionalInt.empty();
        }
        String text = nameOrNumber.trim().toUpperCase(Locale.ROOT);
        if (!text.isEmpty() && text.chars().allMatch(Character::isDigit) && text.length() <= 2) {
            int n = Integer.parseInt(text);
            return n >= 1 && n <= 64 ? OptionalInt.of(n) : OptionalInt.empty();
        }
        Integer n = NUMBERS.get(text.startsWith("SIG") ? text.substring(3) : text);
        return n == null ? OptionalInt.empty() : OptionalInt.of(n);
    }

    /** The names without SIG, as {@link #number} takes them: "HUP", "INT", ... */
    public static java.util.Set<String> names() {
        return new java.util.TreeSet<>(NUMBERS.keySet());
    }

    /** "SIGTERM" for 15, "SIG42" for a real-time one. */
    public static String name(int number) {
        return NUMBERS.entrySet().stream().filter(e -> e.getValue() == number).map(e -> "SIG" + e.getKey()).findFirst()
                .orElse("SIG" + number);
    }
}
