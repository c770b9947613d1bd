#include "xmldsig/gost_xmldsig.hpp"

#include <xmlsec/errors.h>
#include <xmlsec/keysdata.h>
#include <xmlsec/xmlsec.h>

#include <algorithm>
#include <array>
#include <memory>
#include <mutex>

#include "gost/algorithms.hpp"
#include "gost/openssl_keys.hpp"

namespace nqs::xmldsig {
namespace {

const xmlChar* xml(std::string_view text) {
  return reinterpret_cast<const xmlChar*>(text.data());
}

std::string_view href_of(const xmlSecTransform* transform) {
  return reinterpret_cast<const char*>(transform->id->href);
}

// --- the key: an xmlsec key data holding one EVP_PKEY reference ---

constexpr xmlSecSize kKeyDataSize = sizeof(xmlSecKeyData) + sizeof(EVP_PKEY*);

EVP_PKEY*& pkey_slot(xmlSecKeyDataPtr data) {
  return *reinterpret_cast<EVP_PKEY**>(reinterpret_cast<std::uint8_t*>(data) +
                                       sizeof(xmlSecKeyData));
}

int key_initialize(xmlSecKeyDataPtr data) {
  pkey_slot(data) = nullptr;
  return 0;
}

int key_duplicate(xmlSecKeyDataPtr destination, xmlSecKeyDataPtr source) {
  EVP_PKEY* key = pkey_slot(source);
  if (key != nullptr) EVP_PKEY_up_ref(key);
  pkey_slot(destination) = key;
  return 0;
}

void key_finalize(xmlSecKeyDataPtr data) {
  EVP_PKEY_free(pkey_slot(data));
  pkey_slot(data) = nullptr;
}

const gost::OpenSslKey* gost_key(xmlSecKeyDataPtr data) {
  return gost::key_of(pkey_slot(data));
}

xmlSecKeyDataType key_type(xmlSecKeyDataPtr data) {
  const auto* key = gost_key(data);
  if (key == nullptr) return xmlSecKeyDataTypeUnknown;
  return key->signing_key ? xmlSecKeyDataTypePrivate | xmlSecKeyDataTypePublic
                          : xmlSecKeyDataTypePublic;
}

xmlSecSize key_size(xmlSecKeyDataPtr data) {
  const auto* key = gost_key(data);
  return key == nullptr ? 0 : static_cast<xmlSecSize>(8 * key->public_key.algorithm->size);
}

// Never read from or written to ds:KeyInfo: the key comes from the verified certificate.
xmlSecKeyDataKlass key_klass = {
    sizeof(xmlSecKeyDataKlass),
    kKeyDataSize,
    xml("nqs-gost-key"),
    xmlSecKeyDataUsageUnknown,
    nullptr,
    nullptr,
    nullptr,
    key_initialize,
    key_duplicate,
    key_finalize,
    nullptr,
    key_type,
    key_size,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

// --- the transforms: a context pointer after the xmlSecTransform ---

struct TransformContext {
  std::unique_ptr<gost::Digest> digest;
  gost::Bytes value;                           // the digest, once all input is in
  const gost::Algorithm* algorithm = nullptr;  // signature transforms only
  EVP_PKEY* key = nullptr;                     // signature transforms only
  ~TransformContext() { EVP_PKEY_free(key); }
};

constexpr xmlSecSize kTransformSize = sizeof(xmlSecTransform) + sizeof(TransformContext*);

TransformContext*& context_slot(xmlSecTransformPtr transform) {
  return *reinterpret_cast<TransformContext**>(reinterpret_cast<std::uint8_t*>(transform) +
                                               sizeof(xmlSecTransform));
}

int initialize(xmlSecTransformPtr transform) {
  const std::string_view href = href_of(transform);
  auto context = std::make_unique<TransformContext>();
  context->algorithm = gost::by_signature_uri(href);
  const auto hash = context->algorithm != nullptr ? std::optional(context->algorithm->hash)
                                                  : gost::hash_by_uri(href);
  if (!hash) return -1;
  context->digest = gost::for_hash(*hash).digest(*hash);
  if (!context->digest) return -1;
  context_slot(transform) = context.release();
  return 0;
}

void finalize(xmlSecTransformPtr transform) {
  delete context_slot(transform);
  context_slot(transform) = nullptr;
}

// Hashes the input; with the last of it, the digest (digest transforms) or the signature
// (signature transforms, when signing) goes to the output.
int execute(xmlSecTransformPtr transform, int last, xmlSecTransformCtxPtr) {
  auto* context = context_slot(transform);
  if (transform->status == xmlSecTransformStatusNone) {
    transform->status = xmlSecTransformStatusWorking;
  }
  if (transform->status == xmlSecTransformStatusFinished) return 0;
  if (transform->status != xmlSecTransformStatusWorking) return -1;
  xmlSecBufferPtr in = &transform->inBuf;
  const xmlSecSize size = xmlSecBufferGetSize(in);
  if (size > 0) {
    context->digest->update(std::span(xmlSecBufferGetData(in), size));
    if (xmlSecBufferRemoveHead(in, size) < 0) return -1;
  }
  if (last == 0) return 0;
  context->value = context->digest->finish();
  if (transform->operation == xmlSecTransformOperationSign) {
    gost::Bytes out = context->value;
    if (context->algorithm != nullptr) {
      const auto* key = gost::key_of(context->key);
      auto signature = key != nullptr && key->signing_key ? key->signing_key->sign(context->value)
                                                          : std::nullopt;
      if (!signature) return -1;
      out = std::move(*signature);
    }
    if (xmlSecBufferAppend(&transform->outBuf, out.data(), static_cast<xmlSecSize>(out.size())) <
        0) {
      return -1;
    }
  }
  transform->status = xmlSecTransformStatusFinished;
  return 0;
}

int set_key_requirements(xmlSecTransformPtr transform, xmlSecKeyReqPtr requirements) {
  requirements->keyId = &key_klass;
  const bool sign = transform->operation == xmlSecTransformOperationSign;
  requirements->keyType = sign ? xmlSecKeyDataTypePrivate : xmlSecKeyDataTypePublic;
  requirements->keyUsage = sign ? xmlSecKeyUsageSign : xmlSecKeyUsageVerify;
  return 0;
}

// Only a key of the signature method's own algorithm: a 34.310-2004 key under a 2015 URI, or the
// reverse, is refused.
int set_key(xmlSecTransformPtr transform, xmlSecKeyPtr key) {
  auto* context = context_slot(transform);
  xmlSecKeyDataPtr value = xmlSecKeyGetValue(key);
  EVP_PKEY* pkey = value != nullptr ? pkey_slot(value) : nullptr;
  const auto* gost_key = gost::key_of(pkey);
  if (gost_key == nullptr || gost_key->public_key.algorithm != context->algorithm) return -1;
  EVP_PKEY_up_ref(pkey);
  EVP_PKEY_free(context->key);
  context->key = pkey;
  return 0;
}

struct Klasses {
  std::array<_xmlSecTransformKlass, 3> digests{};
  std::array<_xmlSecTransformKlass, 3> signatures{};
};

Klasses& klasses() {
  static Klasses instance;
  return instance;
}

_xmlSecTransformKlass digest_klass(const gost::Algorithm& algorithm) {
  _xmlSecTransformKlass klass{};
  klass.klassSize = sizeof(xmlSecTransformKlass);
  klass.objSize = kTransformSize;
  klass.name = xml(gost::name(algorithm.hash));
  klass.href = xml(algorithm.digest_uri);
  klass.usage = xmlSecTransformUsageDigestMethod;
  klass.initialize = initialize;
  klass.finalize = finalize;
  klass.getDataType = xmlSecTransformDefaultGetDataType;
  klass.pushBin = xmlSecTransformDefaultPushBin;
  klass.popBin = xmlSecTransformDefaultPopBin;
  klass.execute = execute;
  return klass;
}

_xmlSecTransformKlass signature_klass(const gost::Algorithm& algorithm) {
  _xmlSecTransformKlass klass = digest_klass(algorithm);
  klass.name = xml(algorithm.name);
  klass.href = xml(algorithm.signature_uri);
  klass.usage = xmlSecTransformUsageSignatureMethod;
  klass.setKeyReq = set_key_requirements;
  klass.setKey = set_key;
  return klass;
}

}  // namespace

void register_gost_transforms() {
  static std::once_flag once;
  std::call_once(once, [] {
    gost::register_with_openssl();
    auto& all = klasses();
    for (std::size_t i = 0; i < all.digests.size(); ++i) {
      all.digests[i] = digest_klass(gost::algorithms()[i]);
      all.signatures[i] = signature_klass(gost::algorithms()[i]);
      xmlSecTransformIdsRegister(&all.digests[i]);
      xmlSecTransformIdsRegister(&all.signatures[i]);
    }
  });
}

xmlSecTransformId gost_transform(std::string_view uri) {
  register_gost_transforms();
  for (auto* list : {&klasses().digests, &klasses().signatures}) {
    for (auto& klass : *list) {
      if (reinterpret_cast<const char*>(klass.href) == uri) return &klass;
    }
  }
  return nullptr;
}

xmlSecKeyDataPtr gost_key_data(EVP_PKEY* key) {
  if (gost::key_of(key) == nullptr) return nullptr;
  register_gost_transforms();
  xmlSecKeyDataPtr data = xmlSecKeyDataCreate(&key_klass);
  if (data == nullptr) return nullptr;
  EVP_PKEY_up_ref(key);
  pkey_slot(data) = key;
  return data;
}

}  // namespace nqs::xmldsig
