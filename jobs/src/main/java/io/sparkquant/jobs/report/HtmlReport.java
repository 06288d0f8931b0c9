package io.sparkquant.jobs.report;

import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no external resources) for people: headings,
 * paragraphs, tables and bar charts. Every text is escaped. Build it, then {@link #render()}.
 */
public final class HtmlReport {

  private static final String[] PALETTE = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
      "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  private static final int CHART_WIDTH = 720;
  private static final int LABEL_WIDTH = 200;
  private static final int BAR_HEIGHT = 18;

  private final String title;
  private final StringBuilder body = new StringBuilder();

  public HtmlReport(String title) {
    this.title = title;
    heading(1, title);
  }

  public HtmlReport heading(int level, String text) {
    body.append("<h").append(level).append('>').append(escape(text)).append("</h").append(level).append(">\n");
    return this;
  }

  public HtmlReport paragraph(String text) {
    body.append("<p>").append(escape(text)).append("</p>\n");
    return this;
  }

  /** A table; cells are shown as given (format numbers before). */
  public HtmlReport table(List<String> header, List<List<String>> rows) {
    body.append("<table>\n<tr>");
    for (String h : header) {
      body.append("<th>").append(escape(h)).append("</th>");
    }
    body.append("</tr>\n");
    for (List<String> row : rows) {
      body.append("<tr>");
      for (String cell : row) {
        body.append("<td>").append(escape(cell)).append("</td>");
      }
      body.append("</tr>\n");
    }
    body.append("</table>\n");
    return this;
  }

  /**
   * A horizontal bar chart, one bar per label; bars scale from 0 to the largest value (negative values draw as
   * empty bars). {@code format} renders the value next to the bar, e.g. "%.4f".
   */
  public HtmlReport barChart(String chartTitle, List<String> labels, double[] values, String format) {
    return groupedBarChart(chartTitle, labels, List.of(""), new double[][] {values}, format);
  }

  /** Horizontal bars grouped by category: one bar per series inside each category, with a legend. */
  public HtmlReport groupedBarChart(String chartTitle, List<String> categories, List<String> series,
      double[][] values, String format) {
    if (values.length != series.size()) {
      throw new IllegalArgumentException("one value row per series: " + series.size() + " series, "
          + values.length + " rows");
    }
    double max = 0;
    for (double[] row : values) {
      if (row.length != categories.size()) {
        throw new IllegalArgumentException("one value per category: " + categories.size() + " categories, got "
            + row.length);
      }
      for (double v : row) {
        if (Double.isFinite(v)) {
          max = Math.max(max, v);
        }
      }
    }
    boolean legend = series.size() > 1;
    int groupHeight = series.size() * BAR_HEIGHT + 8;
    int top = legend ? 24 : 4;
    int height = top + categories.size() * groupHeight + 4;
    int plotWidth = CHART_WIDTH - LABEL_WIDTH - 90;
    body.append("<figure><figcaption>").append(escape(chartTitle)).append("</figcaption>\n");
    body.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
        + " role=\"img\">%n", CHART_WIDTH, height));
    if (legend) {
      int x = LABEL_WIDTH;
      for (int s = 0; s < series.size(); s++) {
        body.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"4\" width=\"12\" height=\"12\" fill=\"%s\"/>"
            + "<text x=\"%d\" y=\"15\">%s</text>%n", x, color(s), x + 16, escape(series.get(s))));
        x += 24 + 8 * series.get(s).length();
      }
    }
    for (int c = 0; c < categories.size(); c++) {
      int y0 = top + c * groupHeight;
      body.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
          LABEL_WIDTH - 6, y0 + groupHeight / 2 + 4, escape(categories.get(c))));
      for (int s = 0; s < series.size(); s++) {
        double v = values[s][c];
        double w = max > 0 && Double.isFinite(v) && v > 0 ? plotWidth * v / max : 0;
        int y = y0 + s * BAR_HEIGHT;
        body.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
            + "<title>%s</title></rect><text x=\"%.1f\" y=\"%d\">%s</text>%n", LABEL_WIDTH, y, w,
            BAR_HEIGHT - 3, color(s), escape(series.get(s) + " " + categories.get(c)), LABEL_WIDTH + w + 4,
            y + BAR_HEIGHT - 6, escape(String.format(Locale.ROOT, format, v))));
      }
    }
    body.append("</svg></figure>\n");
    return this;
  }

  private static final String STYLE = "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;"
      + "padding:2px 8px;text-align:right}th{background:#f0f0f0}td:first-child{text-align:left}"
      + "svg text{font-size:12px}figure{margin:1em 0}figcaption{font-weight:bold}";

  public String render() {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
        + "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:60em}" + STYLE + "</style></head>\n"
        + "<body>\n" + body + "</body></html>\n";
  }

  /** The report as one {@code <div>} with its style scoped to it, to embed in a page (Zeppelin's {@code %html}). */
  public String fragment() {
    // every selector of STYLE prefixed with the div's class (selectors hold the only commas)
    String scoped = STYLE.replaceAll("(^|})([^{]+)\\{", "$1.sparkquant-report $2{")
        .replace(",", ",.sparkquant-report ");
    return "<div class=\"sparkquant-report\"><style>" + scoped + "</style>\n" + body + "</div>\n";
  }

  private static String color(int i) {
    return PALETTE[i % PALETTE.length];
  }

  /** HTML-escapes text for element content and attribute values. */
  public static String escape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(ch);
      }
    }
    return sb.toString();
  }
}
