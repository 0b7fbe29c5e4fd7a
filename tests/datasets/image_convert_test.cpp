#include "datasets/image_convert.hpp"

#include <boost/test/unit_test.hpp>

using namespace fedhub::datasets;

namespace {

std::vector<uint8_t> convert(const std::vector<uint8_t>& src, int64_t h, int64_t w, int64_t c,
                             std::vector<int64_t> shape) {
  const auto target = check_target_shape(shape);
  std::vector<uint8_t> out(static_cast<size_t>(target.size), 77);
  convert_image(ImageView{src.data(), h, w, c}, target, out.data(), "test image");
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_convert)

// Values from the half-pixel-centre formula, the same as
// torch.nn.functional.interpolate(mode="bilinear", align_corners=False) and
// cv2.resize(INTER_LINEAR), rounded.
BOOST_AUTO_TEST_CASE(bilinear_upscale_uses_half_pixel_centres) {
  const auto out = convert({0, 100, 200, 255}, 2, 2, 1, {4, 4, 1});
  const std::vector<uint8_t> expected{0,   25,  75,  100,  //
                                      50,  72,  117, 139,  //
                                      150, 167, 200, 216,  //
                                      200, 214, 241, 255};
  BOOST_TEST(out == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bilinear_downscale_averages_neighbours) {
  BOOST_TEST((convert({0, 100, 200, 255}, 1, 4, 1, {1, 2, 1}) == std::vector<uint8_t>{50, 228}));
  // A constant image stays constant at any size.
  BOOST_TEST((convert(std::vector<uint8_t>(28 * 28, 93), 28, 28, 1, {32, 32, 1}) == std::vector<uint8_t>(32 * 32, 93)));
}

BOOST_AUTO_TEST_CASE(grey_is_repeated_over_three_channels) {
  BOOST_TEST((convert({10, 20}, 1, 2, 1, {1, 2, 3}) == std::vector<uint8_t>{10, 10, 10, 20, 20, 20}));
  const auto grey = convert({0, 100, 200, 255}, 2, 2, 1, {4, 4, 1});
  const auto rgb = convert({0, 100, 200, 255}, 2, 2, 1, {4, 4, 3});
  BOOST_REQUIRE(rgb.size() == 48u);
  for (size_t p = 0; p < 16; ++p)
    for (size_t k = 0; k < 3; ++k) BOOST_TEST(rgb[p * 3 + k] == grey[p]);
}

BOOST_AUTO_TEST_CASE(colour_becomes_luma) {
  const std::vector<uint8_t> rgb{255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  BOOST_TEST((convert(rgb, 1, 4, 3, {1, 4, 1}) == std::vector<uint8_t>{76, 150, 29, 255}));
  // Resized in float after the conversion: the mean of 76.245 and 149.685.
  BOOST_TEST((convert({255, 0, 0, 0, 255, 0}, 1, 2, 3, {1, 1, 1}) == std::vector<uint8_t>{113}));
}

BOOST_AUTO_TEST_CASE(alpha_is_dropped) {
  BOOST_TEST(
      (convert({10, 20, 30, 0, 40, 50, 60, 255}, 1, 2, 4, {1, 2, 3}) == std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));
  BOOST_TEST((convert({10, 0, 20, 255}, 1, 2, 2, {1, 2, 3}) == std::vector<uint8_t>{10, 10, 10, 20, 20, 20}));
}

BOOST_AUTO_TEST_CASE(flat_input_takes_the_image_as_it_is) {
  std::vector<uint8_t> img(28 * 28);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i % 251);
  BOOST_TEST(convert(img, 28, 28, 1, {784}) == img);
  BOOST_TEST((convert({1, 2, 3, 9, 4, 5, 6, 9}, 1, 2, 4, {6}) == std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
  try {
    convert(img, 28, 28, 1, {3072});
    BOOST_FAIL("no error");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("test image") != std::string::npos);
    BOOST_TEST(what.find("image input") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(unusable_shapes_are_errors) {
  BOOST_CHECK_THROW(check_target_shape(std::vector<int64_t>{32, 32, 2}), std::runtime_error);
  BOOST_CHECK_THROW(check_target_shape(std::vector<int64_t>{32, 32}), std::runtime_error);
  BOOST_CHECK_THROW(check_target_shape(std::vector<int64_t>{0}), std::runtime_error);
  BOOST_CHECK_THROW(check_target_shape(std::vector<int64_t>{0, 32, 3}), std::runtime_error);
  BOOST_CHECK_THROW(check_target_shape(std::vector<int64_t>{}), std::runtime_error);
  const auto t = check_target_shape(std::vector<int64_t>{32, 28, 3});
  BOOST_TEST(!t.flat);
  BOOST_TEST(t.size == 32 * 28 * 3);
}

BOOST_AUTO_TEST_SUITE_END()
