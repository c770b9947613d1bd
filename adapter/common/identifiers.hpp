#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nqs {

// Each returns nothing when the identifier is valid, or what is wrong with it.

// IIN or BIN: 12 digits, the last a check digit (domain.md, "Identity"): s = sum(d_i * i) mod 11
// over the first 11; if 10, s = sum(d_i * w_i) mod 11 with w = 3..11,1,2; if still 10 the number
// is invalid; else it must equal d12.
std::optional<std::string> check_iin_or_bin(std::string_view value);
// The IIN or BIN made of these eleven digits and their check digit; empty when no digit fits (the
// second weighting gives 10 too). For made-up people: benchmarks and the demo.
std::string with_check_digit(std::string_view first_eleven);
// IBAN (ISO 13616): moved four characters, letters as numbers, mod 97 = 1.
std::optional<std::string> check_iban(std::string_view value);
// Certificate serial number of Rules 374, appendix 2: XXXXX-XXXXXXXX-X-XXXXXX-XXXX-XXXXXXXX:
// economic activity (5), occupation (8), NQF level 1-8 (1), exam date DDMMYY (6), recognition
// center accreditation number (4), sequence number (8).
std::optional<std::string> check_certificate_number(std::string_view value);

}  // namespace nqs
