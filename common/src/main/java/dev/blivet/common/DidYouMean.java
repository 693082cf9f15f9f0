package dev.blivet.common;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The known word a typo most likely meant: a key of a job spec, a restart policy, a signal name.
 * A suggestion that is wrong costs the reader more than none, so it is made only for a close
 * match: a known alias (another tool's name for the same thing, such as supervisord's or
 * systemd's), the same word in another case or separator style ({@code readyTimeout}), or one
 * edit away (a transposition counts as one: {@code TREM} is one edit from {@code TERM}), two for
 * a word of {@value #TWO_EDITS_FROM} letters or more: two edits turn many short words into others
 * ({@code bogus} into {@code logs}).
 */
public final class DidYouMean {
    /** Two edits catch a doubled, dropped or swapped letter or two; three start matching unrelated words. */
    public static final int MAX_EDITS = 2;
    /** The shortest word allowed {@link #MAX_EDITS} edits; shorter ones get one. */
    public static final int TWO_EDITS_FROM = 8;

    private DidYouMean() {
    }

    /** The closest of {@code known} to {@code typo}, first by alias, then by spelling. */
    public static Optional<String> closest(String typo, Collection<String> known, Map<String, String> aliases) {
        String alias = aliases.get(typo.toLowerCase(Locale.ROOT));
        if (alias != null) {
            return Optional.of(alias);
        }
        String folded = fold(typo);
        String best = null;
        int bestEdits = Integer.MAX_VALUE;
        for (String candidate : known) {
            if (fold(candidate).equals(folded)) {
                return Optional.of(candidate);
            }
            if (Math.abs(typo.length() - candidate.length()) > MAX_EDITS) {
                continue; // at least that many edits apart; and a client's long key costs nothing here
            }
            int edits = edits(typo.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (edits < bestEdits) {
                best = candidate;
                bestEdits = edits;
            }
        }
        boolean close = bestEdits <= (typo.length() >= TWO_EDITS_FROM ? MAX_EDITS : 1);
        return close ? Optional.of(best) : Optional.empty();
    }

    public static Optional<String> closest(String typo, Collection<String> known) {
        return closest(typo, known, Map.of());
    }

    /** " (did you mean \"on-failure\"?)", or "" when nothing is close. */
    public static String hint(String typo, Collection<String> known, Map<String, String> aliases) {
        return closest(typo, known, aliases).map(word -> " (did you mean \"" + word + "\"?)").orElse("");
    }

    public static String hint(String typo, Collection<String> known) {
        return hint(typo, known, Map.of());
    }

    /** readyTimeout, ready-timeout, READY_TIMEOUT all fold to readytimeout. */
    private static String fold(String word) {
        return word.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions. */
    static int edits(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
