// The adapter's hashes and ids, against values computed elsewhere (SHA-256's test vector, Python's
// uuid.uuid5 with the adapter's namespace): command ids must not change between versions, or a
// redelivered input would produce other commands.
#include "common/ids.hpp"

#include <gtest/gtest.h>

namespace nqs {
namespace {

TEST(Ids, HexIsTwoLowercaseDigitsAByte) {
  EXPECT_EQ(to_hex(std::string_view("\x00\x0f\xf0\xff\x5a", 5)), "000ff0ff5a");
  EXPECT_EQ(to_hex(""), "");
}

TEST(Ids, Sha256HexOfTheStandardsVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Ids, UuidForIsVersion5InTheAdaptersNamespace) {
  // Python: uuid.uuid5(uuid.UUID(bytes=<the namespace>), "delivery-1/command-0")
  EXPECT_EQ(uuid_for("delivery-1/command-0"), "af582c11-a9bf-581b-b21b-72773383d67a");
  EXPECT_EQ(uuid_for("delivery-1/command-0"), uuid_for("delivery-1/command-0"));
  EXPECT_NE(uuid_for("delivery-1/command-0"), uuid_for("delivery-1/command-1"));
}

}  // namespace
}  // namespace nqs
