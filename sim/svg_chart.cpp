#include "sim/svg_chart.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>
#include <stdexcept>

#include "messages/files.hpp"

namespace fedhub::sim {

namespace {

// Okabe & Ito, "Color Universal Design" (2008), yellow last: it is the
// faintest on white.
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr const char* kFont = "Arial, Helvetica, 'Liberation Sans', sans-serif";
constexpr double kPad = 12;
constexpr double kTitleSize = 17, kLabelSize = 13, kTickSize = 12, kLegendSize = 13, kMarkSize = 12;

// ---- text -------------------------------------------------------------------

// `s` as its characters (UTF-8 sequences): invalid bytes become U+FFFD, tabs
// and line breaks spaces, other control characters (not allowed in XML) are
// dropped.
std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n > 1) {
      uint32_t cp = c & (0x7Fu >> n);
      for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
      constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // shorter forms are overlong
      ok = cp >= kMin[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF;
    }
    if (!ok) {
      out.emplace_back("\xEF\xBF\xBD");
      ++i;
      continue;
    }
    if (n == 1 && c < 0x20) {
      if (c == '\t' || c == '\n' || c == '\r') out.emplace_back(" ");
    } else {
      out.push_back(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

// An estimate of a character's advance in ems, on the generous side, for
// Arial-like fonts (the picture has no font metrics).
double advance(const std::string& ch) {
  if (ch.size() >= 3) return 1.0;  // CJK and symbols: up to a full em
  if (ch.size() == 2) return 0.7;
  const char c = ch[0];
  if (std::string_view("il.,:;'|!").find(c) != std::string_view::npos) return 0.3;
  if (std::string_view("fjrtI()[]- ").find(c) != std::string_view::npos) return 0.4;
  if (std::string_view("mwMW@").find(c) != std::string_view::npos) return 0.92;
  if (c >= 'A' && c <= 'Z') return 0.72;
  return 0.58;
}

double text_width(const std::vector<std::string>& chars, double size) {
  double em = 0;
  for (const auto& c : chars) em += advance(c);
  return em * size;
}

double text_width(const std::string& s, double size) { return text_width(characters(s), size); }

// `s` cut short with "..." to at most `max_width` pixels at `size`.
std::vector<std::string> fit(const std::string& s, double size, double max_width) {
  auto chars = characters(s);
  if (text_width(chars, size) <= max_width) return chars;
  const double dots = 3 * advance(".") * size;
  while (!chars.empty() && text_width(chars, size) + dots > max_width) chars.pop_back();
  while (!chars.empty() && chars.back() == " ") chars.pop_back();
  chars.insert(chars.end(), 3, ".");
  return chars;
}

std::string escape(const std::vector<std::string>& chars) {
  std::string out;
  for (const auto& c : chars) {
    if (c == "&")
      out += "&amp;";
    else if (c == "<")
      out += "&lt;";
    else if (c == ">")
      out += "&gt;";
    else if (c == "\"")
      out += "&quot;";
    else if (c == "'")
      out += "&apos;";
    else
      out += c;
  }
  return out;
}

std::string escape(const std::string& s) { return escape(characters(s)); }

// A coordinate: at most 2 decimals, no trailing zeros, never "-0"; kept
// within +-1e5 so that a wild value outside the plot stays a number a
// renderer takes (it is cut off by the clip anyway).
std::string num(double v) {
  v = std::clamp(v, -1e5, 1e5);
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2);
  std::string s(buf, r.ptr);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

// ---- axes -------------------------------------------------------------------

// The nice steps (1, 2 or 5 times a power of ten) from about span/100 up.
std::vector<double> nice_steps(double span) {
  std::vector<double> out;
  const double e = std::floor(std::log10(span)) - 2;
  for (int k = 0; k < 4; ++k)
    for (const double m : {1.0, 2.0, 5.0}) out.push_back(m * std::pow(10.0, e + k));
  return out;
}

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;  // one per tick
};

// The axis over [lo, hi] with at most `target` intervals between ticks: a
// bound that is not fixed moves out to the nearest tick.
Axis make_axis(double lo, double hi, bool fixed_lo, bool fixed_hi, int target) {
  if (!(hi > lo)) {
    const double d = lo != 0 ? std::abs(lo) * 0.1 : 1;
    if (fixed_lo && !fixed_hi)
      hi = lo + d;
    else if (fixed_hi && !fixed_lo)
      lo = hi - d;
    else
      lo -= d, hi += d;
  }
  // The finest nice step that gives at most `target` intervals once the
  // free bounds have moved out to ticks.
  double step = 0;
  for (const double candidate : nice_steps(hi - lo)) {
    step = candidate;
    const double from = fixed_lo ? lo / step : std::floor(lo / step + 1e-9);
    const double to = fixed_hi ? hi / step : std::ceil(hi / step - 1e-9);
    if (to - from <= target + 1e-9) break;
  }
  if (!fixed_lo) lo = std::floor(lo / step + 1e-9) * step;
  if (!fixed_hi) hi = std::ceil(hi / step - 1e-9) * step;
  Axis a;
  a.lo = lo;
  a.hi = hi;
  const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  const bool plain = step >= 1e-4 && std::max(std::abs(lo), std::abs(hi)) < 1e9;
  for (double k = first; k <= last; ++k) {
    double v = k * step;
    if (std::abs(v) < step * 1e-6) v = 0;
    a.ticks.push_back(v);
    char buf[64];
    const auto r = plain ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals)
                         : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 3);
    a.labels.emplace_back(buf, r.ptr);
  }
  return a;
}

// ---- geometry -----------------------------------------------------------------

struct Box {
  double x0, y0, x1, y1;
};

bool inside(const Box& b, double x, double y) { return x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1; }

bool overlaps(const Box& a, const Box& b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; }

// Whether the segment (x0,y0)-(x1,y1) meets the box (Liang-Barsky).
bool crosses(const Box& b, double x0, double y0, double x1, double y1) {
  double t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const double p[] = {-dx, dx, -dy, dy};
  const double q[] = {x0 - b.x0, b.x1 - x0, y0 - b.y0, b.y1 - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
    } else {
      const double t = q[i] / p[i];
      if (p[i] < 0)
        t0 = std::max(t0, t);
      else
        t1 = std::min(t1, t);
      if (t0 > t1) return false;
    }
  }
  return true;
}

using Run = std::vector<std::pair<double, double>>;  // pixel points drawn as one line

// ---- the document ---------------------------------------------------------------

struct Writer {
  std::string out;

  void text(double x, double y, const std::string& escaped, double size, const std::string& attrs = {}) {
    out += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" font-size=\"" + num(size) + "\"";
    if (!attrs.empty()) out += " " + attrs;
    out += ">" + escaped + "</text>\n";
  }
  void line(double x0, double y0, double x1, double y1, const std::string& attrs) {
    out += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y1) + "\" " +
           attrs + "/>\n";
  }
};

struct LegendEntry {
  std::string text;  // escaped
  double width;      // swatch, gap and text
};

}  // namespace

std::string svg_line_chart(const Chart& chart, int width, int height) {
  if (width < 200 || height < 150)
    throw std::invalid_argument("svg_line_chart: the picture must be at least 200 x 150 pixels, not " +
                                std::to_string(width) + " x " + std::to_string(height));
  if ((chart.y_min && !std::isfinite(*chart.y_min)) || (chart.y_max && !std::isfinite(*chart.y_max)))
    throw std::invalid_argument("svg_line_chart: y_min and y_max must be finite");
  if (chart.y_min && chart.y_max && !(*chart.y_min < *chart.y_max))
    throw std::invalid_argument("svg_line_chart: y_min must be below y_max");
  const double W = width, H = height;

  // The data's extent.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  std::vector<bool> has_data(chart.series.size(), false);
  for (size_t s = 0; s < chart.series.size(); ++s)
    for (const auto& [x, y] : chart.series[s].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      has_data[s] = true;
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  const bool no_data = !(x_lo <= x_hi);
  if (!no_data)
    for (const auto& [v, label] : chart.y_marks)
      if (std::isfinite(v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
  if (chart.y_min) y_lo = *chart.y_min, y_hi = std::max(y_hi, y_lo);
  if (chart.y_max) y_hi = *chart.y_max, y_lo = std::min(y_lo, y_hi);

  // The legend: entries flowed into rows below the plot.
  const double legend_room = W - 2 * kPad;
  std::vector<std::vector<size_t>> rows;
  std::vector<LegendEntry> entries;
  {
    double used = 0;
    for (size_t s = 0; s < chart.series.size(); ++s) {
      const std::string name = chart.series[s].name + (has_data[s] ? "" : " (no data)");
      const auto chars = fit(name, kLegendSize, legend_room - 34);
      const double w = 34 + text_width(chars, kLegendSize);
      if (rows.empty() || used + 22 + w > legend_room) {
        rows.emplace_back();
        used = -22;
      }
      used += 22 + w;
      rows.back().push_back(s);
      entries.push_back({escape(chars), w});
    }
  }

  // The plot's frame: top and bottom first (they do not depend on the
  // ticks), then the y axis, whose labels give the left margin, then x.
  const double top = chart.title.empty() ? kPad + 8 : kPad + kTitleSize + 16;
  const double x_label_gap = chart.x_label.empty() ? 0 : 22;
  const double bottom = 22 + x_label_gap + (rows.empty() ? 0 : 8 + 22 * static_cast<double>(rows.size())) + kPad;
  const double plot_top = top, plot_bottom = H - bottom;
  const double plot_h = std::max(20.0, plot_bottom - plot_top);
  Axis ya, xa;
  if (!no_data)
    ya = make_axis(y_lo, y_hi, chart.y_min.has_value(), chart.y_max.has_value(),
                   std::clamp(static_cast<int>(plot_h / 50), 3, 10));
  double tick_w = 0;
  for (const auto& l : ya.labels) tick_w = std::max(tick_w, text_width(l, kTickSize));
  const double plot_left = kPad + (chart.y_label.empty() ? 0 : kLabelSize + 12) + tick_w + 9;
  double plot_right = W - kPad - 8;
  if (!no_data) {
    xa = make_axis(x_lo, x_hi, false, false, std::clamp(static_cast<int>((plot_right - plot_left) / 80), 3, 10));
    // The last x tick label is centred on the right edge: leave it room.
    if (!xa.labels.empty()) plot_right = std::min(plot_right, W - 4 - text_width(xa.labels.back(), kTickSize) / 2);
  }
  const double plot_w = std::max(20.0, plot_right - plot_left);
  plot_right = plot_left + plot_w;
  const auto px = [&](double x) { return plot_left + (x - xa.lo) / (xa.hi - xa.lo) * plot_w; };
  const auto py = [&](double y) { return plot_bottom - (y - ya.lo) / (ya.hi - ya.lo) * plot_h; };

  Writer w;
  w.out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  w.out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
           std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
           "\" font-family=\"" + kFont + "\" role=\"img\">\n";
  if (!chart.title.empty()) w.out += "<title>" + escape(chart.title) + "</title>\n";
  w.out += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!chart.title.empty())
    w.text(W / 2, kPad + kTitleSize, escape(fit(chart.title, kTitleSize, W - 2 * kPad)), kTitleSize,
           "class=\"title\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#222222\"");

  // Grid and ticks.
  if (!no_data) {
    for (size_t i = 0; i < ya.ticks.size(); ++i) {
      const double y = py(ya.ticks[i]);
      w.line(plot_left, y, plot_right, y, "stroke=\"#e4e4e4\" stroke-width=\"1\"");
      w.line(plot_left - 5, y, plot_left, y, "stroke=\"#555555\" stroke-width=\"1\"");
      w.text(plot_left - 8, y + kTickSize * 0.35, escape(ya.labels[i]), kTickSize,
             "class=\"ytick\" text-anchor=\"end\" fill=\"#333333\"");
    }
    for (size_t i = 0; i < xa.ticks.size(); ++i) {
      const double x = px(xa.ticks[i]);
      w.line(x, plot_top, x, plot_bottom, "stroke=\"#e4e4e4\" stroke-width=\"1\"");
      w.line(x, plot_bottom, x, plot_bottom + 5, "stroke=\"#555555\" stroke-width=\"1\"");
      w.text(x, plot_bottom + 5 + kTickSize + 2, escape(xa.labels[i]), kTickSize,
             "class=\"xtick\" text-anchor=\"middle\" fill=\"#333333\"");
    }
  }
  w.out += "<rect x=\"" + num(plot_left) + "\" y=\"" + num(plot_top) + "\" width=\"" + num(plot_w) + "\" height=\"" +
           num(plot_h) + "\" fill=\"none\" stroke=\"#888888\" stroke-width=\"1\"/>\n";

  // Axis labels.
  if (!chart.x_label.empty())
    w.text(plot_left + plot_w / 2, plot_bottom + 22 + kLabelSize + 4, escape(fit(chart.x_label, kLabelSize, plot_w)),
           kLabelSize, "class=\"xlabel\" text-anchor=\"middle\" fill=\"#222222\"");
  if (!chart.y_label.empty()) {
    const double x = kPad + kLabelSize, y = plot_top + plot_h / 2;
    w.text(x, y, escape(fit(chart.y_label, kLabelSize, plot_h)), kLabelSize,
           "class=\"ylabel\" text-anchor=\"middle\" fill=\"#222222\" transform=\"rotate(-90 " + num(x) + " " + num(y) +
               ")\"");
  }

  if (no_data) {
    w.text(plot_left + plot_w / 2, plot_top + plot_h / 2 + 6, "no data", 16,
           "class=\"no-data\" text-anchor=\"middle\" fill=\"#777777\"");
  } else {
    // The series, each cut into runs at its non-finite points.
    std::vector<std::vector<Run>> runs(chart.series.size());
    for (size_t s = 0; s < chart.series.size(); ++s) {
      Run run;
      for (const auto& [x, y] : chart.series[s].points) {
        if (std::isfinite(x) && std::isfinite(y)) {
          run.emplace_back(px(x), py(y));
        } else if (!run.empty()) {
          runs[s].push_back(std::move(run));
          run.clear();
        }
      }
      if (!run.empty()) runs[s].push_back(std::move(run));
    }

    w.out += "<defs><clipPath id=\"fedhub-plot\"><rect x=\"" + num(plot_left) + "\" y=\"" + num(plot_top) +
             "\" width=\"" + num(plot_w) + "\" height=\"" + num(plot_h) + "\"/></clipPath></defs>\n";
    w.out += "<g clip-path=\"url(#fedhub-plot)\">\n";
    for (size_t s = 0; s < chart.series.size(); ++s) {
      const std::string colour = kPalette[s % std::size(kPalette)];
      w.out += "<g class=\"series\"><title>" + escape(chart.series[s].name) + "</title>\n";
      for (const auto& run : runs[s]) {
        if (run.size() == 1) {
          w.out += "<circle cx=\"" + num(run[0].first) + "\" cy=\"" + num(run[0].second) + "\" r=\"2.5\" fill=\"" +
                   colour + "\"/>\n";
          continue;
        }
        w.out += "<polyline fill=\"none\" stroke=\"" + colour +
                 "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"";
        if (chart.series[s].dashed) w.out += " stroke-dasharray=\"7 5\"";
        w.out += " points=\"";
        for (size_t i = 0; i < run.size(); ++i) {
          if (i) w.out += ' ';
          w.out += num(run[i].first);
          w.out += ',';
          w.out += num(run[i].second);
        }
        w.out += "\"/>\n";
      }
      w.out += "</g>\n";
    }
    w.out += "</g>\n";

    // The y marks, each labelled where it covers the fewest lines (and no
    // earlier mark's label).
    std::vector<Box> placed;
    for (const auto& [v, label] : chart.y_marks) {
      if (!std::isfinite(v) || v < ya.lo || v > ya.hi) continue;
      const double y = py(v);
      w.line(plot_left, y, plot_right, y,
             "class=\"ymark\" stroke=\"#555555\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\"");
      if (label.empty()) continue;
      const auto chars = fit(label, kMarkSize, plot_w - 12);
      const double tw = text_width(chars, kMarkSize);
      struct Place {
        double x, baseline;
        const char* anchor;
        Box box;
      };
      std::vector<Place> places;
      for (const bool above : {true, false})
        for (const bool right : {true, false}) {
          const double baseline = above ? y - 5 : y + 5 + kMarkSize * 0.8;
          const double x = right ? plot_right - 6 : plot_left + 6;
          const double x0 = right ? x - tw : x;
          places.push_back({x, baseline, right ? "end" : "start",
                            Box{x0 - 2, baseline - kMarkSize * 0.8 - 2, x0 + tw + 2, baseline + kMarkSize * 0.25}});
        }
      size_t best = 0;
      double best_cost = INFINITY;
      for (size_t i = 0; i < places.size(); ++i) {
        const Box& b = places[i].box;
        double cost = (b.y0 < plot_top || b.y1 > plot_bottom) ? 1000 : 0;
        for (const auto& p : placed) cost += overlaps(p, b) ? 100 : 0;
        for (const auto& series_runs : runs)
          for (const auto& run : series_runs) {
            if (run.size() == 1) cost += inside(b, run[0].first, run[0].second);
            for (size_t k = 1; k < run.size(); ++k)
              cost += crosses(b, run[k - 1].first, run[k - 1].second, run[k].first, run[k].second);
          }
        if (cost < best_cost) best = i, best_cost = cost;
      }
      const Place& p = places[best];
      placed.push_back(p.box);
      w.text(p.x, p.baseline, escape(chars), kMarkSize,
             std::string("class=\"ymark-label\" text-anchor=\"") + p.anchor +
                 "\" fill=\"#333333\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" "
                 "paint-order=\"stroke\"");
    }
  }

  // The legend, each row centred under the plot (or the picture, if wider).
  double row_y = plot_bottom + 22 + x_label_gap + 8 + 11;
  size_t e = 0;
  for (const auto& row : rows) {
    double row_w = -22;
    for (size_t i = 0; i < row.size(); ++i) row_w += 22 + entries[e + i].width;
    double x = std::clamp(plot_left + plot_w / 2 - row_w / 2, kPad, std::max(kPad, W - kPad - row_w));
    for (const size_t s : row) {
      const std::string colour = kPalette[s % std::size(kPalette)];
      w.out += "<g class=\"legend-entry\">";
      w.out += "<line x1=\"" + num(x) + "\" y1=\"" + num(row_y - 4) + "\" x2=\"" + num(x + 26) + "\" y2=\"" +
               num(row_y - 4) + "\" stroke=\"" + colour + "\" stroke-width=\"3\" stroke-linecap=\"round\"" +
               (chart.series[s].dashed ? " stroke-dasharray=\"7 5\"" : "") + "/>";
      w.out += "<text x=\"" + num(x + 34) + "\" y=\"" + num(row_y) + "\" font-size=\"" + num(kLegendSize) +
               "\" fill=\"#222222\">" + entries[e].text + "</text></g>\n";
      x += entries[e].width + 22;
      ++e;
    }
    row_y += 22;
  }

  w.out += "</svg>\n";
  return w.out;
}

void write_svg(const std::string& path, const std::string& svg) {
  write_file_atomic(path, std::span<const char>(svg.data(), svg.size()));
}

}  // namespace fedhub::sim
