package dev.blivet.ctl;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Columns padded to their widest cell, two spaces apart, one line per row. On a terminal the
 * last column is cut to the terminal's width ($COLUMNS, else 80), so a long error never wraps.
 */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... headings) {
        rows.add(headings);
    }

    void add(String... cells) {
        rows.add(cells);
    }

    void print(PrintWriter out, int width) {
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns - 1; i++) {
                line.append(row[i]).append(" ".repeat(widths[i] - row[i].length() + 2));
            }
            line.append(row[columns - 1]);
            if (width > 0 && line.length() > width) {
                line.setLength(Math.max(width - 3, 0));
                line.append("...");
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    /** The width to cut lines to: the terminal's, or 0 (never cut) when output is not a terminal. */
    static int terminalWidth(Map<String, String> env) {
        if (System.console() == null) {
            return 0;
        }
        try {
            int columns = Integer.parseInt(env.getOrDefault("COLUMNS", "80"));
            return columns >= 20 ? columns : 80;
        } catch (NumberFormatException e) {
            return 80;
        }
    }
}
