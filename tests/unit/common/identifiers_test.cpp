#include "common/identifiers.hpp"

#include <gtest/gtest.h>

#include "mapping/mapping.hpp"

namespace nqs::intake {
namespace {

TEST(Identifiers, IinAndBinCheckDigits) {
  EXPECT_FALSE(check_iin_or_bin("850101300124").has_value());
  EXPECT_FALSE(check_iin_or_bin("120340501232").has_value());
  // The second weighting (3..11, 1, 2) when the first sum mod 11 is 10.
  EXPECT_FALSE(check_iin_or_bin("100000000205").has_value());
  EXPECT_EQ(check_iin_or_bin("850101300125").value(),
            "'850101300125' fails its check digit (expected 4, found 5)");
  EXPECT_EQ(check_iin_or_bin("85010130012").value(), "'85010130012' is not 12 digits");
  EXPECT_EQ(check_iin_or_bin("85010130012a").value(), "'85010130012a' is not 12 digits");
}

TEST(Identifiers, IbanMod97) {
  EXPECT_FALSE(check_iban("KZ86125KZT5004100100").has_value());
  EXPECT_FALSE(check_iban("KZ76722S000000012345").has_value());
  EXPECT_TRUE(check_iban("KZ86125KZT5004100101").has_value());
  EXPECT_TRUE(check_iban("KZ86125kzt5004100100").has_value());
}

TEST(Identifiers, CertificateNumbers) {
  EXPECT_FALSE(check_certificate_number("25110-72120001-3-151025-0042-00000117").has_value());
  EXPECT_EQ(check_certificate_number("25110-72120001-9-151025-0042-00000117").value(),
            "'25110-72120001-9-151025-0042-00000117': qualification level 9 is not 1 to 8");
  EXPECT_TRUE(check_certificate_number("25110-72120001-3-290225-0042-00000117").has_value());
  EXPECT_FALSE(check_certificate_number("25110-72120001-3-290224-0042-00000117").has_value());
  EXPECT_TRUE(check_certificate_number("2511-072120001-3-151025-0042-00000117").has_value());
  EXPECT_TRUE(check_certificate_number("25110-72120001-3-151025-0042-00000117-1").has_value());
}

TEST(Money, TengeToTiynExactly) {
  EXPECT_EQ(mapping::parse_money_tiyn("0"), 0);
  EXPECT_EQ(mapping::parse_money_tiyn("12500.75"), 1250075);
  EXPECT_EQ(mapping::parse_money_tiyn("3932.5"), 393250);
  EXPECT_EQ(mapping::parse_money_tiyn("27524"), 2752400);
  EXPECT_FALSE(mapping::parse_money_tiyn("1.005").has_value());
  EXPECT_FALSE(mapping::parse_money_tiyn("-1").has_value());
  EXPECT_FALSE(mapping::parse_money_tiyn(".5").has_value());
  EXPECT_FALSE(mapping::parse_money_tiyn("5.").has_value());
  EXPECT_FALSE(mapping::parse_money_tiyn("1e3").has_value());
  EXPECT_FALSE(mapping::parse_money_tiyn("1234567890123456").has_value());
}

}  // namespace
}  // namespace nqs::intake
