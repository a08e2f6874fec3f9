#pragma once
// A minimal protobuf wire-format decoder, the reading twin of protobuf_writer.h, for
// untrusted bytes (ONNX files read back for verification).
//
// A message is a sequence of fields, each a key varint (field_number << 3 | wire_type)
// and a payload:
//   0 VARINT            base-128, 7 bits per byte, low group first, at most 10 bytes
//   1 FIXED64           8 bytes little-endian (double, fixed64)
//   2 LENGTH_DELIMITED  varint length, then that many bytes (strings, bytes, nested
//                       messages, packed repeated scalars)
//   5 FIXED32           4 bytes little-endian (float, fixed32)
// Groups (wire types 3 and 4, deprecated since proto2) and field number 0 are refused.
// Every length is checked against the bytes left before anything is read, so a truncated
// or corrupted buffer gives an error, never a read out of bounds. Errors say what is wrong
// at which byte offset; the caller adds the file name.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat::deploy {

class ProtoReader {
 public:
  enum WireType : uint32_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

  struct Field {
    uint32_t number = 0;
    WireType type = Varint;
    uint64_t value = 0;               // Varint / Fixed64 / Fixed32 (raw bits)
    std::span<const uint8_t> bytes;   // LengthDelimited payload (a view into the buffer)
    size_t offset = 0;                // where the key starts, for messages
  };

  // `base` is the offset of `bytes` in the whole file, so errors give file offsets.
  explicit ProtoReader(std::span<const uint8_t> bytes, size_t base = 0) : buf_(bytes), base_(base) {}

  // Decodes the next field into `f`. Returns false at the end of the buffer; an error for
  // a malformed key or payload.
  Expected<bool> next(Field& f);

  // Payload interpretations of a decoded field (the caller checks f.type first).
  static int64_t asInt64(const Field& f) { return static_cast<int64_t>(f.value); }
  static float asFloat(const Field& f);
  std::string asString(const Field& f) const { return {f.bytes.begin(), f.bytes.end()}; }
  // A nested message's reader, keeping file offsets.
  ProtoReader nested(const Field& f) const {
    return ProtoReader(f.bytes, base_ + static_cast<size_t>(f.bytes.data() - buf_.data()));
  }

  // A repeated int32/int64 field, which may be packed (one length-delimited field of
  // varints) or not (one varint field per value): appends to `out`.
  Status appendInts(const Field& f, std::vector<int64_t>& out) const;
  // A repeated float field, packed (fixed32 values back to back) or not.
  Status appendFloats(const Field& f, std::vector<float>& out) const;

  static const char* wireTypeName(WireType t);

 private:
  // Decodes a varint at b[pos], advancing pos; `origin` is b's offset in buf_ (messages).
  Expected<uint64_t> varint(std::span<const uint8_t> b, size_t& pos, size_t origin) const;
  Error error(size_t pos, const std::string& what) const;

  std::span<const uint8_t> buf_;
  size_t base_ = 0;
  size_t pos_ = 0;
};

}  // namespace qat::deploy
