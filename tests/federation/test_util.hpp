// Helpers shared by the federation tests.
#pragma once

#include <omp.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <span>
#include <type_traits>
#include <vector>

namespace fedhub::federation::test {

// Checks |actual_i - expected_i| <= tol * max(1, |expected_i|) for every i.
inline void check_close(std::span<const float> actual, std::initializer_list<double> expected, double tol = 1e-6) {
  BOOST_TEST_REQUIRE(actual.size() == expected.size());
  size_t i = 0;
  for (double e : expected) {
    const double a = actual[i];
    BOOST_TEST(std::abs(a - e) <= tol * std::max(1.0, std::abs(e)),
               "index " << i << ": got " << a << ", expected " << e);
    ++i;
  }
}

// The OpenMP thread counts the determinism tests compare (one, the two cores,
// more threads than cores).
inline constexpr int kThreadCounts[] = {1, 2, 3};

// Sets the OpenMP thread count for its lifetime; restores the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(omp_get_max_threads()) { omp_set_num_threads(threads); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// fn() run once under each of kThreadCounts (the thread count restored after
// each run, also when fn throws), the results in that order.
template <class Fn>
auto under_thread_counts(Fn&& fn) {
  std::vector<std::invoke_result_t<Fn&>> results;
  for (const int t : kThreadCounts) {
    ThreadCount guard(t);
    results.push_back(fn());
  }
  return results;
}

// Bit-for-bit equality (memcmp: distinguishes -0 from 0, compares NaN payloads).
inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Checks that every result equals the first (1 thread) bit for bit.
template <class T>
void check_same_bits(const std::vector<T>& results, const char* what) {
  for (size_t i = 1; i < results.size(); ++i)
    BOOST_TEST(same_bits(results[0], results[i]),
               what << ": " << kThreadCounts[i] << " threads differ from " << kThreadCounts[0]);
}

}  // namespace fedhub::federation::test
