#include "gost/der.hpp"

#include <openssl/objects.h>

#include <string>

namespace nqs::gost::der {

std::pair<unsigned char*, int> octet_string(std::span<const std::uint8_t> bytes) {
  ASN1_OCTET_STRING* string = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(string, bytes.data(), static_cast<int>(bytes.size()));
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_OCTET_STRING(string, &der);
  ASN1_OCTET_STRING_free(string);
  return {der, length};
}

ASN1_STRING* oid_sequence(std::initializer_list<std::string_view> oids) {
  STACK_OF(ASN1_TYPE)* sequence = sk_ASN1_TYPE_new_null();
  for (auto oid : oids) {
    if (oid.empty()) continue;
    ASN1_TYPE* type = ASN1_TYPE_new();
    ASN1_TYPE_set(type, V_ASN1_OBJECT, OBJ_txt2obj(std::string(oid).c_str(), 1));
    sk_ASN1_TYPE_push(sequence, type);
  }
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_SEQUENCE_ANY(sequence, &der);
  sk_ASN1_TYPE_pop_free(sequence, ASN1_TYPE_free);
  ASN1_STRING* out = ASN1_STRING_new();
  ASN1_STRING_set(out, der, length);
  OPENSSL_free(der);
  return out;
}

}  // namespace nqs::gost::der
