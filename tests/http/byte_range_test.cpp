// http/byte_range.hpp: the Range header of downloads, and http_error's statuses.
#include "http/byte_range.hpp"

#include <boost/test/unit_test.hpp>

#include "http/http_error.hpp"

using namespace fedhub::http;

BOOST_AUTO_TEST_SUITE(http_byte_range)

BOOST_AUTO_TEST_CASE(reads_the_three_forms) {
  auto r = parse_range("bytes=0-9", 100);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->begin == 0u);
  BOOST_TEST(r->end == 10u);
  r = parse_range("bytes=90-", 100);
  BOOST_TEST(r->begin == 90u);
  BOOST_TEST(r->end == 100u);
  r = parse_range("bytes=-5", 100);
  BOOST_TEST(r->begin == 95u);
  BOOST_TEST(r->end == 100u);
  r = parse_range("bytes=-500", 100);  // more than there is: all of it
  BOOST_TEST(r->begin == 0u);
  r = parse_range("bytes=50-5000", 100);  // an end past the package: to its end
  BOOST_TEST(r->end == 100u);
}

BOOST_AUTO_TEST_CASE(serves_the_whole_package_for_what_it_does_not_take) {
  BOOST_TEST(!parse_range("", 100));
  BOOST_TEST(!parse_range("items=0-1", 100));
  BOOST_TEST(!parse_range("bytes=0-1,5-6", 100));
}

BOOST_AUTO_TEST_CASE(refuses_ranges_outside_the_package_with_416) {
  for (const char* h : {"bytes=100-", "bytes=5-2", "bytes=-0", "bytes=x-", "bytes=1", "bytes=18446744073709551616-"}) {
    try {
      parse_range(h, 100);
      BOOST_FAIL(std::string("took ") + h);
    } catch (const HttpError& e) {
      BOOST_TEST(e.status() == 416u, h);
      BOOST_TEST(e.headers().at(0).second == "bytes */100");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_error_code_has_its_status) {
  using fedhub::ErrorCode;
  BOOST_TEST(status_of(ErrorCode::bad_request) == 400u);
  BOOST_TEST(status_of(ErrorCode::unauthorized) == 401u);
  BOOST_TEST(status_of(ErrorCode::forbidden) == 403u);
  BOOST_TEST(status_of(ErrorCode::unknown_model) == 404u);
  BOOST_TEST(status_of(ErrorCode::stale) == 409u);
  BOOST_TEST(status_of(ErrorCode::duplicate) == 409u);
  BOOST_TEST(status_of(ErrorCode::non_finite) == 422u);
  BOOST_TEST(status_of(ErrorCode::busy) == 503u);
  BOOST_TEST(status_of(ErrorCode::timeout) == 504u);
  for (int c = 1; c <= 29; ++c) {
    const unsigned s = status_of(static_cast<ErrorCode>(c));
    BOOST_TEST((s >= 400u && s < 600u), "code " << c);
  }
  const HttpError e(fedhub::RequestError(ErrorCode::stale, "base 2 is old"));
  BOOST_TEST(e.status() == 409u);
  BOOST_TEST(e.code() == "stale");
  BOOST_TEST(error_body(e.code(), e.what()) == "{\"error\":\"stale\",\"message\":\"base 2 is old\"}\n");
}

BOOST_AUTO_TEST_SUITE_END()
