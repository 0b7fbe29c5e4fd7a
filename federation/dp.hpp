// Central differential privacy for mean-based aggregation.
//
// DP-FedAvg (McMahan et al., ICLR 2018, "Learning Differentially Private
// Recurrent Language Models"):
//   each delta is clipped to L2 norm C:   clip(D) = D * min(1, C / ||D||)   (||D|| = 0: unchanged)
//   the round's mean is over the m contributions: mean = sum_i f_i clip(D_i) / m
//   Gaussian noise is added to every coordinate: N(0, sigma^2), sigma = z C / m.
// (f_i is the staleness factor, <= 1, so each contribution still moves the sum
// by at most C; sample counts are not used: a sample-weighted mean has a
// sensitivity set by the largest claimed count.)
//
// Adaptive clipping (Andrew et al., NeurIPS 2021, "Differentially Private
// Learning with Adaptive Clipping"), with the paper's sign: b~ is the (noised)
// fraction of UNclipped updates, b~ = (sum_i [||D_i|| <= C] + N(0, sigma_b^2)) / m,
// and C <- C * exp(-eta_C (b~ - gamma)): if more than a gamma fraction of the
// updates fit under C, C shrinks; if fewer, it grows. (One popular
// implementation counts clipped updates with this sign, which moves C the
// wrong way.) When sigma_b > 0 the delta noise multiplier is raised to
// z_delta = (z^-2 - (2 sigma_b)^-2)^(-1/2) so that the two releases together
// cost what z alone would (the paper's Theorem 1); this needs 2 sigma_b > z.
//
// Design: DP is a configuration of the mean-based aggregators
// (AggregatorConfig::dp, see aggregator.hpp), applied in their add (clipping)
// and apply (noise, clip-norm update). Robust strategies refuse it. The
// current clip norm lives in the ServerState (vector "dp.clip_norm", one
// value) so that it survives restarts.
//
// Randomness: with seed != 0 the noise of round r is a deterministic function
// of (seed, r), reproducible across runs and thread counts (tests). seed = 0
// draws a fresh seed from std::random_device each round; the seed an apply
// used is reported by Aggregator::noise_seed_used() and can be given back with
// Aggregator::set_noise_seed() to replay that merge bit for bit. std::mt19937_64 is
// not a cryptographic generator and float sampling leaks low bits (Mironov
// 2012): adequate for research simulations, not a certified DP deployment.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fedhub::federation {

struct DpConfig {
  bool enabled = false;
  double noise_multiplier = 1.0;           // z (McMahan et al. 2018 used z ~ 1)
  double clip_norm = 0.1;                  // C0, initial (or fixed) clip norm
  bool adaptive_clipping = false;          // Andrew et al. 2021
  double target_unclipped_quantile = 0.5;  // gamma
  double clip_learning_rate = 0.2;         // eta_C
  double count_noise_stddev = 0.0;         // sigma_b on the unclipped count (the paper suggests m / 20); 0 = none
  uint64_t seed = 0;                       // 0 = std::random_device per round
};

// Empty if the configuration is usable, otherwise a sentence naming the bad
// field (negative/non-finite values, gamma outside [0, 1], 2 sigma_b <= z).
std::string check_dp_config(const DpConfig& dp);

// min(1, C / norm); 1 when norm == 0 (nothing to clip).
double clip_factor(double norm, double clip_norm);

// sigma = z C / m. Requires m >= 1.
double dp_noise_stddev(double noise_multiplier, double clip_norm, int64_t m);

// Andrew et al.'s delta noise multiplier: z if count_noise_stddev == 0, else
// (z^-2 - (2 sigma_b)^-2)^(-1/2). Throws std::invalid_argument if 2 sigma_b <= z.
double delta_noise_multiplier(double noise_multiplier, double count_noise_stddev);

// C * exp(-eta_C * (unclipped_fraction - gamma)).
double adaptive_clip_norm(double clip_norm, double unclipped_fraction, double gamma, double eta);

// Adds N(0, sigma^2) to every x_i. The values are a deterministic function of
// seed (and x.size()), independent of the thread count: x is split in blocks of
// 65536 values, block b drawing from std::mt19937_64 seeded with mix(seed, b).
void add_gaussian_noise(std::span<float> x, double sigma, uint64_t seed);

// The per-round seed: a 64-bit mix of (seed, round); a std::random_device
// draw when seed == 0. Never 0.
uint64_t round_seed(uint64_t seed, int64_t round);

}  // namespace fedhub::federation
