// Staleness policies: how much a contribution trained from an older version
// counts.
//
// A contribution trained from base version tau, arriving when the model is at
// version t, has staleness s = t - tau (0 = fresh). A policy maps s to a factor
// f(s) in [0, 1]: 0 means "reject the contribution", anything else multiplies
// its aggregation weight (FedAvg: n * f(s); FedBuff: f(s) * delta; FedAsync:
// alpha_t = alpha * f(s)).
//
// Kinds (names as parsed/printed):
//   drop        f = 1 if s == 0, else 0 (reject). The paper's server: stale
//               results are ignored. max_staleness is not used.
//   constant    f = 1 for 0 <= s <= max_staleness (FedScale's "drop older than
//               max_staleness", its default 5), else 0.
//   polynomial  f = (s + 1)^(-a)                                (FedAsync, Xie et al. 2019)
//   hinge       f = 1 if s <= b, else 1 / (a (s - b) + 1)      (FedAsync, Xie et al. 2019)
//   fedbuff     f = 1 / sqrt(1 + s)                             (FedBuff, Nguyen et al. AISTATS 2022)
//               NOTE: this is Nguyen et al.'s function, NOT NVIDIA FLARE's
//               1 / (1 + sqrt(s)); the two differ (s = 4: 0.447 vs 0.333).
// For every kind but drop, a contribution with s > max_staleness is rejected
// (f = 0); max_staleness < 0 means "no bound".
//
// Defaults: max_staleness 0; a = 0.5 (the polynomial exponent FedAsync's
// experiments used); b = 4 (the hinge knee of FedAsync's experiments, which
// used a = 10 with it: set a = 10 for the paper's hinge). A common
// implementation (see docs/aggregation.md) uses a = 1, b = 10 instead.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fedhub::federation {

enum class StalenessKind { drop, constant, polynomial, hinge, fedbuff };

struct StalenessPolicy {
  StalenessKind kind = StalenessKind::drop;
  int64_t max_staleness = 0;  // reject s > max_staleness (not used by drop); < 0 = unbounded
  double a = 0.5;             // polynomial exponent / hinge slope, >= 0
  double b = 4;               // hinge knee, >= 0
};

// f(s) in [0, 1] as described above; 0 means reject. Throws
// std::invalid_argument for a negative staleness (a base version newer than
// the model) or an invalid policy (see check_policy).
double staleness_weight(const StalenessPolicy& policy, int64_t staleness);

// Empty if the policy is usable, otherwise a sentence naming the bad field
// (a or b negative or not finite).
std::string check_policy(const StalenessPolicy& policy);

// "drop" | "constant" | "polynomial" | "hinge" | "fedbuff".
std::string to_string(StalenessKind kind);

// Parses the names above (exact, lower case). Throws std::invalid_argument
// naming the input and the accepted names.
StalenessKind parse_staleness_kind(std::string_view name);

}  // namespace fedhub::federation
