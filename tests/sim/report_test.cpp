// A simulation's outputs: the results CSV (exact header and rows, NaN as an
// empty field, sanitised and unique column names, atomic writes) and the SVG
// line chart (well-formed, titled, a legend entry and a line per series,
// escaped text, nice ticks, gaps at NaN, "no data").
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "sim/results_csv.hpp"
#include "sim/svg_chart.hpp"
#include "support/temp_dir.hpp"

using namespace fedhub;
using namespace fedhub::sim;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

training::Evaluation evaluation(int64_t samples, double accuracy, double loss, std::vector<double> per_class = {}) {
  training::Evaluation e;
  e.samples = samples;
  e.accuracy = accuracy;
  e.loss = loss;
  e.per_class_accuracy = std::move(per_class);
  e.per_class_count.assign(e.per_class_accuracy.size(), 10);
  return e;
}

// Version 0 (the initial weights) and version 3 (three merged contributions).
std::vector<VersionResult> two_results() {
  VersionResult v0;
  v0.version = 0;
  v0.virtual_s = 0;
  v0.wall_s = 0.0123;
  v0.overall = evaluation(200, 0.1, 2.302585093, {0.05, kNaN, 0.123456789});
  v0.per_set = {evaluation(100, 0.1, 2.3), evaluation(100, 0.1, 2.3)};
  VersionResult v3;
  v3.version = 3;
  v3.virtual_s = 12.5;
  v3.wall_s = 1.23456;
  v3.overall = evaluation(200, 0.8123456, 0.51234567, {0.9, 0.7, 0.75});
  v3.per_set = {evaluation(100, 0.8, 0.5), evaluation(100, 0.82469, 0.52)};
  v3.contributions = 3;
  v3.mean_staleness = 2.0 / 3.0;
  v3.max_staleness = 2;
  v3.mean_train_loss = 0.4;
  v3.refused = 1;
  return {v0, v3};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The texts of the <text class="CLASS" ...> elements.
std::vector<std::string> texts(const std::string& svg, const std::string& cls) {
  std::vector<std::string> out;
  const std::regex re("<text[^>]*class=\"" + cls + "\"[^>]*>([^<]*)</text>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

// Whether xmllint accepts `svg` as well-formed XML; true (with a message)
// when there is no xmllint to ask.
bool well_formed(const std::string& svg) {
  if (!std::filesystem::exists("/usr/bin/xmllint")) {
    BOOST_TEST_MESSAGE("no /usr/bin/xmllint: the SVG's well-formedness is not checked");
    return true;
  }
  testing::TempDir dir;
  const std::string path = dir / "chart.svg";
  std::ofstream(path, std::ios::binary) << svg;
  return std::system(("/usr/bin/xmllint --noout " + path + " 2>&1").c_str()) == 0;
}

// Whether the tick labels are evenly spaced by 1, 2 or 5 times a power of ten.
bool nice(const std::vector<std::string>& labels) {
  if (labels.size() < 2) return false;
  std::vector<double> v;
  for (const auto& l : labels) v.push_back(std::stod(l));
  const double step = v[1] - v[0];
  if (!(step > 0)) return false;
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  if (std::abs(mantissa - 1) > 1e-6 && std::abs(mantissa - 2) > 1e-6 && std::abs(mantissa - 5) > 1e-6) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::abs(v[i] - (v[0] + static_cast<double>(i) * step)) > step * 1e-6) return false;
    if (std::abs(v[i] / step - std::round(v[i] / step)) > 1e-6) return false;  // on multiples of the step
  }
  return true;
}

Chart accuracy_chart() {
  Chart c;
  c.title = "Accuracy per round";
  c.x_label = "round";
  c.y_label = "accuracy";
  c.y_min = 0;
  c.y_max = 1;
  Series fed{"federation", {}}, central{"centralized baseline", {}, true};
  for (int r = 0; r <= 100; ++r) {
    fed.points.emplace_back(r, 0.84 * (1 - std::exp(-r / 12.0)));
    central.points.emplace_back(r, 0.1 + 0.78 * (1 - std::exp(-r / 4.0)));
  }
  c.series = {fed, central};
  c.y_marks.emplace_back(0.789, "paper baseline");
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(csv_header_and_rows_are_exact) {
  const auto csv = results_csv(two_results(), {"test", "Hold-out set"}, {"T-shirt/top", "Trouser", "Ankle boot"});
  const auto l = lines(csv);
  BOOST_REQUIRE(l.size() == 3u);
  BOOST_TEST(l[0] ==
             "round,version,virtual_s,wall_s,accuracy,accuracy_test,accuracy_hold_out_set,"
             "accuracy_class_t_shirt_top,accuracy_class_trouser,accuracy_class_ankle_boot,"
             "loss,contributions,mean_staleness,max_staleness,train_loss,refused");
  // A class without samples and no train_loss: empty fields.
  BOOST_TEST(l[1] == "0,0,0.000,0.012,0.1,0.1,0.1,0.05,,0.123457,2.30259,0,0,0,,0");
  BOOST_TEST(l[2] == "1,3,12.500,1.235,0.812346,0.8,0.82469,0.9,0.7,0.75,0.512346,3,0.666667,2,0.4,1");
  BOOST_TEST(csv.back() == '\n');
  BOOST_TEST(results_csv({}, {}, {}) ==
             "round,version,virtual_s,wall_s,accuracy,loss,contributions,mean_staleness,max_staleness,train_loss,"
             "refused\n");
}

BOOST_AUTO_TEST_CASE(csv_leaves_unknown_values_empty) {
  VersionResult r;  // no evaluation set: nothing evaluated, no class accuracies
  r.version = 7;
  r.virtual_s = 3.0004;
  r.mean_train_loss = std::numeric_limits<double>::infinity();
  const auto l = lines(results_csv({r}, {}, {"a", "b"}));
  BOOST_REQUIRE(l.size() == 2u);
  BOOST_TEST(l[1] == "0,7,3.000,0.000,,,,,0,0,0,inf,0");
}

BOOST_AUTO_TEST_CASE(csv_column_names_are_sanitised_and_unique) {
  BOOST_TEST(sanitize_column_name("T-shirt/top") == "t_shirt_top");
  BOOST_TEST(sanitize_column_name("Ankle boot") == "ankle_boot");
  BOOST_TEST(sanitize_column_name("a & b, c") == "a_b_c");
  BOOST_TEST(sanitize_column_name("snake_case_42") == "snake_case_42");
  BOOST_TEST(sanitize_column_name("Zürich") == "z_rich");
  BOOST_TEST(sanitize_column_name("") == "unnamed");
  BOOST_TEST(sanitize_column_name("!!") == "_");
  VersionResult r;
  r.per_set = {evaluation(1, 1, 0), evaluation(1, 1, 0), evaluation(1, 1, 0)};
  r.overall = evaluation(3, 1, 0, {1, 1, 1});
  const auto header = lines(results_csv({r}, {"Test", "test", "class x"}, {"x", "X", ""}))[0];
  BOOST_TEST(header ==
             "round,version,virtual_s,wall_s,accuracy,accuracy_test,accuracy_test_2,accuracy_class_x,"
             "accuracy_class_x_2,accuracy_class_x_3,accuracy_class_unnamed,"
             "loss,contributions,mean_staleness,max_staleness,train_loss,refused");
}

BOOST_AUTO_TEST_CASE(csv_refuses_results_that_do_not_match_the_names) {
  const auto results = two_results();
  BOOST_CHECK_THROW(results_csv(results, {"test"}, {"a", "b", "c"}), std::invalid_argument);  // two sets
  BOOST_CHECK_THROW(results_csv(results, {"a", "b"}, {"a", "b"}), std::invalid_argument);     // three classes
  try {
    results_csv(results, {"a", "b"}, {"a", "b"});
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("version 0") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(csv_is_written_atomically_and_failures_name_the_path) {
  testing::TempDir dir;
  const std::string path = dir / "results.csv";
  const std::vector<std::string> sets{"test", "b"}, labels{"a", "b", "c"};
  write_results_csv(path, two_results(), sets, labels);
  BOOST_TEST(read(path) == results_csv(two_results(), sets, labels));
  write_results_csv(path, {}, sets, labels);  // replaces it
  BOOST_TEST(lines(read(path)).size() == 1u);
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  const std::string bad = dir / "missing/results.csv";
  try {
    write_results_csv(bad, {}, sets, labels);
    BOOST_FAIL("writing into a missing directory succeeded");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).find(bad) != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(svg_chart_has_title_legend_lines_marks_and_nice_ticks) {
  const auto svg = svg_line_chart(accuracy_chart());
  BOOST_TEST(well_formed(svg));
  BOOST_TEST(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"480\"") != std::string::npos);
  BOOST_TEST(svg.find(">Accuracy per round</text>") != std::string::npos);
  BOOST_TEST(count(svg, "class=\"legend-entry\"") == 2u);
  BOOST_TEST(svg.find(">federation</text></g>") != std::string::npos);
  BOOST_TEST(svg.find(">centralized baseline</text></g>") != std::string::npos);
  BOOST_TEST(count(svg, "<polyline") == 2u);
  BOOST_TEST(count(svg, "stroke-linejoin=\"round\" stroke-linecap=\"round\" stroke-dasharray") ==
             1u);  // the dashed one
  BOOST_TEST(count(svg, "class=\"ymark\"") == 1u);
  BOOST_TEST(texts(svg, "ymark-label") == std::vector<std::string>{"paper baseline"});
  BOOST_TEST(texts(svg, "xlabel") == std::vector<std::string>{"round"});
  BOOST_TEST(texts(svg, "ylabel") == std::vector<std::string>{"accuracy"});
  BOOST_TEST(texts(svg, "ytick") == (std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  BOOST_TEST(texts(svg, "xtick") == (std::vector<std::string>{"0", "20", "40", "60", "80", "100"}));
  // Nothing external, nothing that runs.
  BOOST_TEST(svg.find("href") == std::string::npos);
  BOOST_TEST(svg.find("<script") == std::string::npos);
  BOOST_TEST(svg.find("@import") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(svg_ticks_are_nice_numbers_whatever_the_data) {
  const std::vector<std::pair<double, double>> ranges{{0, 1},          {-0.15, 2.3}, {3, 3},      {0.0012, 0.0047},
                                                      {-5000, 123456}, {97, 103},    {1e-7, 3e-7}};
  for (const auto& [lo, hi] : ranges)
    for (const int height : {200, 480, 900}) {
      Chart c;
      c.series.push_back({"s", {{lo * 10, lo}, {hi * 10 + 1, hi}}});
      const auto svg = svg_line_chart(c, 800, height);
      const auto y = texts(svg, "ytick"), x = texts(svg, "xtick");
      BOOST_TEST(nice(y), lo << ".." << hi << " at " << height << ": y ticks " << y.front() << ".." << y.back());
      BOOST_TEST(nice(x), lo << ".." << hi << ": x ticks " << x.front() << ".." << x.back());
      BOOST_TEST(std::stod(y.front()) <= lo);  // a free bound moves out to a tick
      BOOST_TEST(std::stod(y.back()) >= hi);
      BOOST_TEST(y.size() <= 11u);
    }
}

BOOST_AUTO_TEST_CASE(svg_text_is_escaped) {
  Chart c;
  c.title = "A <b> & \"c\" 'd'";
  c.x_label = "x < 1";
  c.series.push_back({"fed & <avg>", {{0, 0}, {1, 1}}});
  c.y_marks.emplace_back(0.5, "a > b");
  const std::string bad_bytes = std::string("bell\x07 and \xff");
  c.y_label = bad_bytes;
  const auto svg = svg_line_chart(c);
  BOOST_TEST(well_formed(svg));
  BOOST_TEST(svg.find(">A &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</text>") != std::string::npos);
  BOOST_TEST(svg.find(">x &lt; 1</text>") != std::string::npos);
  BOOST_TEST(svg.find(">fed &amp; &lt;avg&gt;</text>") != std::string::npos);
  BOOST_TEST(svg.find(">a &gt; b</text>") != std::string::npos);
  BOOST_TEST(svg.find("<b>") == std::string::npos);
  BOOST_TEST(svg.find('\x07') == std::string::npos);
  BOOST_TEST(svg.find(">bell and \xEF\xBF\xBD</text>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(svg_non_finite_points_break_the_line) {
  Chart c;
  c.series.push_back({"gappy", {{0, 0.1}, {1, 0.2}, {2, kNaN}, {3, 0.4}, {4, 0.5}}});
  c.series.push_back({"inf", {{0, 0.3}, {1, std::numeric_limits<double>::infinity()}, {2, 0.3}, {3, 0.2}}});
  c.series.push_back({"lonely", {{kNaN, 1}, {2, 0.9}, {kNaN, 1}}});
  const auto svg = svg_line_chart(c);
  BOOST_TEST(well_formed(svg));
  BOOST_TEST(count(svg, "<polyline") == 3u);  // gappy: two; inf: one after a lone point; lonely: none
  BOOST_TEST(count(svg, "<circle") == 2u);    // inf's first point and lonely's only one
  BOOST_TEST(svg.find("nan") == std::string::npos);
  BOOST_TEST(svg.find("inf\"") == std::string::npos);
  BOOST_TEST(count(svg, "class=\"legend-entry\"") == 3u);
}

BOOST_AUTO_TEST_CASE(svg_without_data_says_so) {
  const auto empty = svg_line_chart(Chart{});
  BOOST_TEST(well_formed(empty));
  BOOST_TEST(texts(empty, "no-data") == std::vector<std::string>{"no data"});
  BOOST_TEST(count(empty, "<polyline") == 0u);

  Chart c;
  c.title = "Nothing yet";
  c.series.push_back({"federation", {}});
  c.series.push_back({"all NaN", {{0, kNaN}, {kNaN, 1}}});
  const auto svg = svg_line_chart(c, 400, 300);
  BOOST_TEST(well_formed(svg));
  BOOST_TEST(svg.find(">no data</text>") != std::string::npos);
  BOOST_TEST(svg.find(">federation (no data)</text>") != std::string::npos);
  BOOST_TEST(svg.find(">all NaN (no data)</text>") != std::string::npos);

  c.series.push_back({"some", {{0, 1}, {1, 2}}});  // one series with data: a chart, the empty ones say so
  const auto partly = svg_line_chart(c);
  BOOST_TEST(texts(partly, "no-data").empty());
  BOOST_TEST(partly.find(">federation (no data)</text>") != std::string::npos);
  BOOST_TEST(count(partly, "<polyline") == 1u);
}

BOOST_AUTO_TEST_CASE(svg_long_texts_are_cut_short_and_bad_arguments_refused) {
  Chart c = accuracy_chart();
  c.title = std::string(300, 'W');
  const auto svg = svg_line_chart(c, 400, 300);
  BOOST_TEST(well_formed(svg));
  const auto title = texts(svg, "title");
  BOOST_REQUIRE(title.size() == 1u);
  BOOST_TEST(title[0].size() < 60u);
  BOOST_TEST(title[0].ends_with("..."));

  BOOST_CHECK_THROW(svg_line_chart(c, 100, 480), std::invalid_argument);
  BOOST_CHECK_THROW(svg_line_chart(c, 800, 100), std::invalid_argument);
  c.y_min = 1;
  c.y_max = 0;
  BOOST_CHECK_THROW(svg_line_chart(c), std::invalid_argument);
  c.y_max = kNaN;
  BOOST_CHECK_THROW(svg_line_chart(c), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(svg_is_written_atomically) {
  testing::TempDir dir;
  const std::string path = dir / "chart.svg";
  const auto svg = svg_line_chart(accuracy_chart());
  write_svg(path, svg);
  BOOST_TEST(read(path) == svg);
  BOOST_CHECK_THROW(write_svg(dir / "missing/chart.svg", svg), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
