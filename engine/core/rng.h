#pragma once
// Seeded random numbers. Everything random in the engine (weight init, shuffling,
// dropout masks) draws from an Rng passed in, so the same seed gives the same run.
#include <cstdint>
#include <random>

namespace qat {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : gen_(seed) {}
  float uniform(float lo = 0.0f, float hi = 1.0f) {
    return std::uniform_real_distribution<float>(lo, hi)(gen_);
  }
  float normal(float mean = 0.0f, float stddev = 1.0f) {
    return std::normal_distribution<float>(mean, stddev)(gen_);
  }
  uint64_t next() { return gen_(); }
  std::mt19937_64& engine() { return gen_; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace qat
