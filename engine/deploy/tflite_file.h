#pragma once
// .tflite files (TFLite flatbuffer, schema version 3, file identifier "TFL3"; field ids in
// QUANT_SPEC.md §5), written with the flatbuffers library's builder API from an
// IntegerGraph, and read back into one (our own exports and files written by TensorFlow's
// converter, for inspection and comparison). A C header export wraps the bytes for
// microcontroller firmware.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/deploy/integer_graph.h"

namespace qat::deploy {

struct TfliteWriteOptions {
  // Weights trained on a 4-bit grid (GraphTensor::valueBits == 4) written as INT4
  // (TensorType 17, two values per byte) instead of int8; newer runtimes only.
  bool int4Weights = false;
  std::string description = "QAT Studio";
};

// Buffer 0 is the empty sentinel; operator codes carry deprecated_builtin_code (code < 127)
// and builtin_code. Errors name the op or tensor that cannot be expressed.
Expected<std::vector<uint8_t>> tfliteBytes(const IntegerGraph& graph, const TfliteWriteOptions& options = {});
// Written to a temporary file and renamed.
Status writeTflite(const IntegerGraph& graph, const std::string& path, const TfliteWriteOptions& options = {});

// Reads the first subgraph. Operators the IntegerGraph does not model are an error naming
// them (e.g. SHAPE, STRIDED_SLICE in TF-written MobileNet files). Verifies the flatbuffer
// before touching it: damaged files give an error, never a crash.
Expected<IntegerGraph> readTflite(const std::string& path);
Expected<IntegerGraph> parseTflite(const std::vector<uint8_t>& bytes, const std::string& what);

// A C header with `alignas(16) const unsigned char <symbol>[] = {...};` and
// `const unsigned int <symbol>_len`, written atomically.
Status writeCHeader(const std::vector<uint8_t>& bytes, const std::string& path, const std::string& symbol);

}  // namespace qat::deploy
