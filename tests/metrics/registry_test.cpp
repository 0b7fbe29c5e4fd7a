// metrics/registry.hpp: counters, histograms and gauges rendered in the
// Prometheus text format.
#include "metrics/registry.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>

using namespace fedhub::metrics;

BOOST_AUTO_TEST_SUITE(metrics_registry)

BOOST_AUTO_TEST_CASE(renders_counters_histograms_and_gauges) {
  Registry r;
  r.declare("a_total", Kind::counter, "Things.");
  r.declare("d_seconds", Kind::histogram, "Durations.", {0.1, 1});
  r.declare("g", Kind::gauge, "Now.");
  r.count("a_total", {{"reason", "st\"ale"}});
  r.count("a_total", {{"reason", "st\"ale"}}, 2);
  r.observe("d_seconds", {}, 0.05);
  r.observe("d_seconds", {}, 0.5);
  r.observe("d_seconds", {}, 7);
  r.gauge("g", [] { return std::vector<std::pair<Labels, double>>{{{{"door", "http"}}, 3}}; });
  const auto text = r.render();
  BOOST_TEST(text ==
             "# HELP a_total Things.\n# TYPE a_total counter\na_total{reason=\"st\\\"ale\"} 3\n"
             "# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n"
             "d_seconds_bucket{le=\"0.1\"} 1\nd_seconds_bucket{le=\"1\"} 2\nd_seconds_bucket{le=\"+Inf\"} 3\n"
             "d_seconds_sum 7.55\nd_seconds_count 3\n"
             "# HELP g Now.\n# TYPE g gauge\ng{door=\"http\"} 3\n");
  BOOST_TEST(r.value("a_total", {{"reason", "st\"ale"}}) == 3);
  BOOST_TEST(r.value("a_total", {{"reason", "other"}}) == 0);
}

BOOST_AUTO_TEST_CASE(refuses_undeclared_names) {
  Registry r;
  BOOST_CHECK_THROW(r.count("nothing"), std::logic_error);
  r.declare("c", Kind::counter, "C.");
  BOOST_CHECK_THROW(r.observe("c", {}, 1), std::logic_error);
  BOOST_CHECK_THROW(r.declare("c", Kind::gauge, "C."), std::logic_error);
}

BOOST_AUTO_TEST_CASE(the_hub_metrics_are_declared) {
  const auto text = global().render();
  for (const char* name : {"fedhub_contributions_accepted_total", "fedhub_contributions_rejected_total",
                           "fedhub_merges_total", "fedhub_merge_duration_seconds", "fedhub_payload_bytes_total",
                           "fedhub_store_write_seconds", "fedhub_connected_participants", "fedhub_http_connections"})
    BOOST_TEST(text.find(std::string("# TYPE ") + name + " ") != std::string::npos, name);
}

BOOST_AUTO_TEST_SUITE_END()
