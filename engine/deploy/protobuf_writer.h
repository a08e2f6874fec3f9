#pragma once
// A minimal protobuf wire-format encoder, enough to write ONNX files without libprotobuf.
//
// Wire format: every field is a key varint (field_number << 3 | wire_type) followed by
// its payload. Wire types used here:
//   0 VARINT            int32/int64/uint64/bool/enum as a base-128 varint, 7 bits per byte,
//                       least significant group first, high bit set on all but the last
//                       byte; negative int32/int64 are sign-extended to 64 bits (10 bytes)
//   2 LENGTH_DELIMITED  varint byte length, then the bytes: strings, bytes, nested
//                       messages, packed repeated scalars
//   5 FIXED32           4 bytes little-endian: float
// Fields are appended in call order; a reader accepts any order, and repeated fields are
// simply the same field number appended again.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace qat::deploy {

class ProtoWriter {
 public:
  enum WireType : uint32_t { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 };

  // int32 / int64 / enum / bool: two's complement, so a negative value takes 10 bytes
  // as protobuf requires (not zigzag: that is only for sint32/sint64).
  void addInt(uint32_t field, int64_t v);
  void addUInt(uint32_t field, uint64_t v);
  void addFloat(uint32_t field, float v);
  void addString(uint32_t field, std::string_view s);
  void addBytes(uint32_t field, std::span<const uint8_t> bytes);
  // A nested message: its encoded bytes, length-delimited.
  void addMessage(uint32_t field, const ProtoWriter& message);
  // Packed repeated int64 (one length-delimited field holding the varints back to back).
  void addPackedInts(uint32_t field, std::span<const int64_t> values);
  // Packed repeated float (fixed32 values back to back).
  void addPackedFloats(uint32_t field, std::span<const float> values);

  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> take() { return std::move(buf_); }
  size_t size() const { return buf_.size(); }

  // Appends `v` as a base-128 varint.
  static void appendVarint(std::vector<uint8_t>& out, uint64_t v);
  static size_t varintSize(uint64_t v);

 private:
  void key(uint32_t field, WireType type);
  std::vector<uint8_t> buf_;
};

}  // namespace qat::deploy
