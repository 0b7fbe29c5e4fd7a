// http/route.hpp: which endpoint a request line names, and the path tricks
// refused before any handler or file is reached.
#include "http/route.hpp"

#include <boost/test/unit_test.hpp>

#include "http/http_error.hpp"

using namespace fedhub::http;

namespace {

// The status and error code route() refuses with.
std::pair<unsigned, std::string> refusal(const char* method, const char* target) {
  try {
    route(method, target);
  } catch (const HttpError& e) {
    return {e.status(), e.code()};
  }
  return {0, ""};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_route)

BOOST_AUTO_TEST_CASE(names_every_endpoint) {
  BOOST_TEST(route("GET", "/").file == "index.html");
  BOOST_TEST(route("GET", "/static/dashboard.js").file == "dashboard.js");
  BOOST_TEST((route("GET", "/metrics").endpoint == Endpoint::metrics));
  BOOST_TEST((route("GET", "/api/v1/whoami").endpoint == Endpoint::whoami));
  BOOST_TEST((route("GET", "/api/v1/models?x=1").endpoint == Endpoint::models));  // the query is ignored
  auto m = route("GET", "/api/v1/models/fm%20nist");
  BOOST_TEST((m.endpoint == Endpoint::model));
  BOOST_TEST(m.model == "fm nist");
  auto p = route("HEAD", "/api/v1/models/fmnist/versions/current/package");
  BOOST_TEST((p.endpoint == Endpoint::package));
  BOOST_TEST(p.version == "current");
  BOOST_TEST((route("GET", "/api/v1/models/a/versions/3").endpoint == Endpoint::version_status));
  BOOST_TEST((route("POST", "/api/v1/models/a/contributions").endpoint == Endpoint::contributions));
  BOOST_TEST((route("POST", "/api/v1/models/a/merge").endpoint == Endpoint::merge));
  BOOST_TEST((route("PATCH", "/api/v1/models/a/policy").endpoint == Endpoint::policy));
  BOOST_TEST((route("GET", "/api/v1/models/a/events").endpoint == Endpoint::model_events));
  BOOST_TEST((route("GET", "/api/v1/events").endpoint == Endpoint::events));
  BOOST_TEST((route("POST", "/api/v1/keys").endpoint == Endpoint::keys));
  BOOST_TEST(route("DELETE", "/api/v1/keys/org-1").name == "org-1");
}

BOOST_AUTO_TEST_CASE(refuses_unknown_routes_and_methods) {
  BOOST_TEST((refusal("GET", "/api/v2/models") == std::pair<unsigned, std::string>{404, "not_found"}));
  BOOST_TEST(
      (refusal("GET", "/api/v1/models/a/versions/3/weights") == std::pair<unsigned, std::string>{404, "not_found"}));
  BOOST_TEST((refusal("DELETE", "/api/v1/models") == std::pair<unsigned, std::string>{405, "method_not_allowed"}));
  BOOST_TEST((refusal("GET", "/api/v1/models/a/merge") == std::pair<unsigned, std::string>{405, "method_not_allowed"}));
  try {
    route("POST", "/api/v1/models");
    BOOST_FAIL("POST /api/v1/models was routed");
  } catch (const HttpError& e) {
    BOOST_TEST(e.headers().at(0).first == "Allow");
    BOOST_TEST(e.headers().at(0).second == "GET, HEAD");
  }
}

BOOST_AUTO_TEST_CASE(refuses_path_tricks) {
  for (const char* t : {"/static/../etc/passwd", "/static/..", "/static/%2e%2e", "/static/.", "/static/a%2Fb",
                        "/static/a%2fb", "/static/a%5Cb", "/static/a\\b", "/static//x", "/static/x/", "/static/a%00",
                        "/static/a%0a", "/static/%", "/static/%4", "/static/%zz", "static/x", ""})
    BOOST_TEST((refusal("GET", t) == std::pair<unsigned, std::string>{400, "bad_request"}), t);
  BOOST_TEST(decode_segment("a%41%62") == "aAb");
}

BOOST_AUTO_TEST_SUITE_END()
