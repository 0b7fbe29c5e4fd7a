#include "federation/staleness.hpp"

#include <cmath>
#include <stdexcept>

namespace fedhub::federation {

std::string check_policy(const StalenessPolicy& p) {
  if (!std::isfinite(p.a) || p.a < 0) return "staleness policy: a must be finite and >= 0, got " + std::to_string(p.a);
  if (!std::isfinite(p.b) || p.b < 0) return "staleness policy: b must be finite and >= 0, got " + std::to_string(p.b);
  return {};
}

double staleness_weight(const StalenessPolicy& p, int64_t s) {
  if (s < 0)
    throw std::invalid_argument("staleness_weight: negative staleness " + std::to_string(s) +
                                " (the base version is newer than the model)");
  if (auto err = check_policy(p); !err.empty()) throw std::invalid_argument(err);
  if (p.kind == StalenessKind::drop) return s == 0 ? 1.0 : 0.0;
  if (p.max_staleness >= 0 && s > p.max_staleness) return 0.0;
  const double sd = static_cast<double>(s);
  switch (p.kind) {
    case StalenessKind::constant:
      return 1.0;
    case StalenessKind::polynomial:
      return std::pow(sd + 1.0, -p.a);
    case StalenessKind::hinge:
      return sd <= p.b ? 1.0 : 1.0 / (p.a * (sd - p.b) + 1.0);
    case StalenessKind::fedbuff:
      return 1.0 / std::sqrt(1.0 + sd);
    case StalenessKind::drop:
      break;
  }
  return 0.0;
}

std::string to_string(StalenessKind kind) {
  switch (kind) {
    case StalenessKind::drop:
      return "drop";
    case StalenessKind::constant:
      return "constant";
    case StalenessKind::polynomial:
      return "polynomial";
    case StalenessKind::hinge:
      return "hinge";
    case StalenessKind::fedbuff:
      return "fedbuff";
  }
  return "unknown";
}

StalenessKind parse_staleness_kind(std::string_view name) {
  if (name == "drop") return StalenessKind::drop;
  if (name == "constant") return StalenessKind::constant;
  if (name == "polynomial") return StalenessKind::polynomial;
  if (name == "hinge") return StalenessKind::hinge;
  if (name == "fedbuff") return StalenessKind::fedbuff;
  throw std::invalid_argument("unknown staleness policy '" + std::string(name) +
                              "' (expected drop|constant|polynomial|hinge|fedbuff)");
}

}  // namespace fedhub::federation
