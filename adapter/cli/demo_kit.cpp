#include "cli/demo_kit.hpp"

#include <fmt/format.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <functional>
#include <memory>

#include "common/identifiers.hpp"
#include "notify/outbound.hpp"

namespace nqs::cli::demo {
namespace {

constexpr const char* kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr const char* kShepNs = "http://bip.bee.kz/SyncChannel/v10/Types";

// NCA's individual signing certificate (the test PKI's sign_individual profile).
constexpr std::pair<int, const char*> kIndividualSigning[] = {
    {NID_basic_constraints, "critical,CA:false"},
    {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
    {NID_ext_key_usage, "1.2.398.3.3.4.1.1"},
    {NID_certificate_policies, "1.2.398.3.3.2.3"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
};

Error openssl_error(const std::string& doing) {
  char text[256] = "no detail";
  if (const auto code = ERR_peek_last_error(); code != 0)
    ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return make_error(fmt::format("{}: {}", doing, text));
}

// The document wrapped as the bus carries it (messages.md, "SOAP envelope").
std::string envelope(const Sending& sending, const std::string& correlation_id,
                     const std::string& document) {
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{}">
  <soap:Header/>
  <soap:Body>
    <ns2:SendMessage xmlns:ns2="{}">
      <request>
        <requestInfo>
          <messageId>{}</messageId>
          <correlationId>{}</correlationId>
          <serviceId>NQS_VOUCHER</serviceId>
          <messageDate>{}</messageDate>
          <sender><senderId>nqs-platform</senderId></sender>
        </requestInfo>
        <requestData>
          <data>
{}
          </data>
        </requestData>
      </request>
    </ns2:SendMessage>
  </soap:Body>
</soap:Envelope>
)",
                     kSoapNs, kShepNs, sending.message_id, correlation_id, sending.message_date,
                     document);
}

std::string ddmmyy(calendar::Date day) {
  const date::year_month_day ymd{day};
  return fmt::format("{:02d}{:02d}{:02d}", static_cast<unsigned>(ymd.day()),
                     static_cast<unsigned>(ymd.month()), static_cast<int>(ymd.year()) % 100);
}

}  // namespace

std::string fresh_iin(std::mt19937_64& random) {
  for (;;) {
    const auto born =
        date::year_month_day{date::sys_days{date::year{1970} / 1 / 1} +
                             date::days{std::uniform_int_distribution<int>(0, 10956)(random)}};
    const int century_and_sex = std::uniform_int_distribution<int>(3, 4)(random);  // 1900s
    const int serial = std::uniform_int_distribution<int>(0, 9999)(random);
    const auto first =
        fmt::format("{:02d}{:02d}{:02d}{}{:04d}", static_cast<int>(born.year()) % 100,
                    static_cast<unsigned>(born.month()), static_cast<unsigned>(born.day()),
                    century_and_sex, serial);
    for (char check = '0'; check <= '9'; ++check) {
      const auto iin = first + check;
      if (!check_iin_or_bin(iin)) return iin;
    }
    // No check digit exists for these eleven (the second weighting gives 10 too): another.
  }
}

Result<LocalPki> load_local_pki(const std::filesystem::path& dir) {
  BOOST_OUTCOME_TRY(auto ca, notify::load_signer(dir / "issuing-ca.key", dir / "issuing-ca.pem"));
  BOOST_OUTCOME_TRY(auto head,
                    notify::load_signer(dir / "center-head.key", dir / "center-head.pem"));
  // The head's chain as NCALayer sends it: its certificate, then the issuing CA's.
  head.certificates.push_back(ca.certificates.front());
  return LocalPki{std::move(ca), std::move(head)};
}

Result<notify::Signer> issue_applicant(const LocalPki& pki, const std::string& iin,
                                       const std::string& name, Instant now) {
  std::shared_ptr<EVP_PKEY> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  std::shared_ptr<X509> certificate(X509_new(), X509_free);
  std::unique_ptr<X509_NAME, decltype(&X509_NAME_free)> subject(X509_NAME_new(), X509_NAME_free);
  // certificatePolicies is parsed only with a configuration database: an empty one.
  std::unique_ptr<CONF, decltype(&NCONF_free)> database(NCONF_new(nullptr), NCONF_free);
  if (!key || !certificate || !subject || !database) return openssl_error("an applicant's key");
  X509* x = certificate.get();
  X509* issuer = pki.issuing_ca.certificates.front().get();
  unsigned char serial[15];
  if (RAND_bytes(serial, sizeof serial) != 1) return openssl_error("a serial number");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> number(BN_bin2bn(serial, sizeof serial, nullptr),
                                                     BN_free);
  bool ok = number && X509_set_version(x, X509_VERSION_3) == 1 &&
            BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(x)) != nullptr;
  for (const auto& [field, value] : {std::pair<const char*, std::string>{"C", "KZ"},
                                     {"CN", name},
                                     {"serialNumber", "IIN" + iin}}) {
    ok = ok && X509_NAME_add_entry_by_txt(subject.get(), field, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                          -1, 0) == 1;
  }
  // Valid from a day before the daemon's now (its clock may be shifted) for a year.
  auto at = std::chrono::system_clock::to_time_t(now);
  ok = ok && X509_set_subject_name(x, subject.get()) == 1 &&
       X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1 &&
       X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &at) != nullptr &&
       X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &at) != nullptr &&
       X509_set_pubkey(x, key.get()) == 1;
  if (!ok) return openssl_error("an applicant's certificate");
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, x, nullptr, nullptr, 0);
  X509V3_set_nconf(&context, database.get());
  for (const auto& [nid, value] : kIndividualSigning) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    if (extension == nullptr) return openssl_error(fmt::format("extension {}", value));
    const bool added = X509_add_ext(x, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    if (!added) return openssl_error(fmt::format("extension {}", value));
  }
  if (X509_sign(x, pki.issuing_ca.key.get(), EVP_sha256()) <= 0) {
    return openssl_error("signing an applicant's certificate");
  }
  return notify::Signer{std::move(key), {certificate, pki.issuing_ca.certificates.front()}};
}

Result<std::string> application(const Case& c, const std::string& submitted_at,
                                const Sending& sending, const notify::Signer& applicant) {
  const auto document =
      fmt::format(R"(<v:VoucherApplication xmlns:v="urn:kz:enbek:nqs:voucher:1" Id="application">
  <v:ApplicationId>{0}</v:ApplicationId>
  <v:SubmittedAt>{1}</v:SubmittedAt>
  <v:Region>{2}</v:Region>
  <v:Applicant>
    <v:IIN>{3}</v:IIN>
    <v:LastName>Демонстрационный</v:LastName>
    <v:FirstName>Заявитель</v:FirstName>
    <v:Phone>+77011234567</v:Phone>
    <v:Email>applicant@example.kz</v:Email>
    <v:PermanentRegion>{2}</v:PermanentRegion>
    <v:Address>Алматы, ул. Абая, 1</v:Address>
  </v:Applicant>
  <v:Profession>
    <v:Code>7212-1-001</v:Code>
    <v:Name>Сварщик</v:Name>
    <v:Profile>technical</v:Profile>
    <v:QualificationLevel>3</v:QualificationLevel>
    <v:Skills><v:Skill>Ручная дуговая сварка</v:Skill></v:Skills>
  </v:Profession>
  <v:Education>
    <v:Organization>Алматинский колледж</v:Organization>
    <v:Direction>Сварочное производство</v:Direction>
    <v:GraduationDate>2005-06-30</v:GraduationDate>
  </v:Education>
  <v:WorkExperience>12 лет, сварщик 4 разряда</v:WorkExperience>
  <v:Attachments>
    <v:Attachment><v:Name>diploma.pdf</v:Name><v:MediaType>application/pdf</v:MediaType><v:Sha256>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08</v:Sha256><v:Uri>nqs://attachments/{0}/diploma.pdf</v:Uri></v:Attachment>
  </v:Attachments>
  <v:BankAccount>KZ86125KZT5004100100</v:BankAccount>
  <v:RecognitionCenter><v:BIN>{4}</v:BIN><v:Name>ТОО Тестовый центр признания</v:Name></v:RecognitionCenter>
  <v:Consents>
    <v:PersonalData>true</v:PersonalData>
    <v:Notifications>true</v:Notifications>
    <v:LiabilityAcknowledged>true</v:LiabilityAcknowledged>
  </v:Consents>
</v:VoucherApplication>)",
                  c.application_id, submitted_at, c.region, c.iin, kCenterBin);
  return notify::sign_envelope(envelope(sending, c.application_id, document), applicant);
}

Result<std::string> center_decision(const Case& c, const Sending& sending,
                                    const notify::Signer& head) {
  const auto document = fmt::format(
      R"(<v:RecognitionCenterDecision xmlns:v="urn:kz:enbek:nqs:voucher:1" Id="decision">
  <v:ApplicationId>{}</v:ApplicationId>
  <v:RecognitionCenterBIN>{}</v:RecognitionCenterBIN>
  <v:Decision>accepted</v:Decision>
  <v:DecidedAt>{}</v:DecidedAt>
</v:RecognitionCenterDecision>)",
      c.application_id, kCenterBin, sending.message_date);
  return notify::sign_envelope(envelope(sending, c.application_id, document), head);
}

Result<std::string> outcome(const Case& c, calendar::Date exam, const Sending& sending,
                            const notify::Signer& head) {
  // Rules 374, appendix 2: activity, occupation, level, exam date, accreditation, sequence.
  const auto certificate = fmt::format("25110-72121001-3-{}-0042-{:08d}", ddmmyy(exam),
                                       std::hash<std::string>{}(c.application_id) % 100000000);
  const auto document =
      fmt::format(R"(<v:RecognitionOutcome xmlns:v="urn:kz:enbek:nqs:voucher:1" Id="outcome">
  <v:VoucherId>{0}</v:VoucherId>
  <v:RecognitionCenterBIN>{1}</v:RecognitionCenterBIN>
  <v:ExamDate>{2}</v:ExamDate>
  <v:Region>{3}</v:Region>
  <v:ProtocolNumber>П-DEMO/{4}</v:ProtocolNumber>
  <v:ProtocolSignedOn>{2}</v:ProtocolSignedOn>
  <v:Result>passed</v:Result>
  <v:CertificateNumber>{5}</v:CertificateNumber>
</v:RecognitionOutcome>)",
                  c.voucher_id, kCenterBin, calendar::to_string(exam), c.region,
                  c.act_number.substr(c.act_number.size() - 8), certificate);
  return notify::sign_envelope(envelope(sending, c.application_id, document), head);
}

Result<std::string> service_act(const Case& c, calendar::Date day, const Sending& sending,
                                const notify::Signer& head) {
  const auto document =
      fmt::format(R"(<v:ServiceAct xmlns:v="urn:kz:enbek:nqs:voucher:1" Id="act">
  <v:ActNumber>{0}</v:ActNumber>
  <v:ActDate>{1}</v:ActDate>
  <v:VoucherId>{2}</v:VoucherId>
  <v:Customer><v:BIN>{3}</v:BIN><v:Name>Центр трудовой мобильности</v:Name></v:Customer>
  <v:Executor><v:BIN>{4}</v:BIN><v:Name>ТОО Тестовый центр признания</v:Name></v:Executor>
  <v:Lines>
    <v:Line><v:No>1</v:No><v:Service>Оценка теоретических знаний</v:Service><v:ServiceDate>{1}</v:ServiceDate><v:Unit>усл.</v:Unit><v:Quantity>1</v:Quantity><v:UnitPrice>5000.50</v:UnitPrice><v:Amount>5000.50</v:Amount></v:Line>
    <v:Line><v:No>2</v:No><v:Service>Оценка практических навыков</v:Service><v:Unit>час</v:Unit><v:Quantity>2.5</v:Quantity><v:UnitPrice>3000.10</v:UnitPrice><v:Amount>7500.25</v:Amount></v:Line>
  </v:Lines>
  <v:Total>12500.75</v:Total>
</v:ServiceAct>)",
                  c.act_number, calendar::to_string(day), c.voucher_id, c.lmc_bin, kCenterBin);
  return notify::sign_envelope(envelope(sending, c.application_id, document), head);
}

}  // namespace nqs::cli::demo
