// Finite-difference gradient checks in double precision.
//
// Every layer is piecewise linear in each single input or parameter, so a
// central difference is exact up to rounding (about 1e-11 here) away from the
// kinks of ReLU and max pooling; a tolerance of 1e-6 relative therefore
// catches any real mistake (a wrong index, a missing term, a 1% error).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "training/random.hpp"

namespace fedhub::training::test {

struct GradientError {
  double worst = 0;  // largest relative error
  size_t index = 0;  // where
  double analytic = 0, numeric = 0;
};

// Relative error with a floor so that tiny gradients are compared absolutely.
inline double relative_error(double a, double n) { return std::abs(a - n) / std::max(1e-3, std::abs(a) + std::abs(n)); }

// Compares `analytic` with central differences of f over every coordinate of x (x is restored).
inline GradientError check_gradient(const std::function<double()>& f, std::vector<double>& x,
                                    const std::vector<double>& analytic, double h = 1e-5) {
  GradientError e;
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f();
    x[i] = saved - h;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double err = relative_error(analytic[i], numeric);
    if (err > e.worst) e = {err, i, analytic[i], numeric};
  }
  return e;
}

inline std::string describe(const GradientError& e) {
  return "worst relative error " + std::to_string(e.worst) + " at " + std::to_string(e.index) + ": analytic " +
         std::to_string(e.analytic) + ", numeric " + std::to_string(e.numeric);
}

inline std::vector<double> random_vector(size_t n, Random& rng, double lo = -1, double hi = 1) {
  std::vector<double> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

}  // namespace fedhub::training::test
