#pragma once

#include <openssl/x509.h>

#include <cstdint>

namespace nqs::revocation {

// Makes every CRL parsed from now on remember the public keys its signature verified with.
//
// X509_verify_cert checks the signature of every CRL it consults, for every chain: each new
// applicant's certificate costs a digest over its CA's whole CRL. A national CA's CRL lists
// hundreds of thousands of revoked certificates (2.3 MB for 100,000 entries): 1.7 ms of SHA-256 a
// new signer with RSA, many times that with Streebog, and paid again for a forged certificate
// that names the CA as issuer (revocation is checked before the chain's signatures). A CRL object
// does not change once parsed (the adapter never edits one; one whose entries did change is read
// and verified as it is, without memory), so what its signature verified with once it verifies
// with again: each CRL keeps the keys that verified it (only successes; another key, or another
// CRL object however alike, is verified in full).
//
// OpenSSL lets a program choose this only for every CRL of the process (X509_CRL_METHOD, its
// look-up of a serial number and its signature check together), so the method's look-up is
// OpenSSL's own, redone from what x_crl.c does: entries sorted by serial number, an indirect
// CRL's entries matched by their certificate issuer, a removeFromCRL entry answered with 2.
//
// Idempotent and thread-safe; parse_crl calls it before parsing (a CRL parsed before keeps
// OpenSSL's method and is only slower).
void remember_crl_signatures();

// How many CRL signature checks were answered from memory since the process started.
std::uint64_t crl_signatures_remembered();

// The method remember_crl_signatures installs (nullptr before), for tests that compare it with
// OpenSSL's own.
const X509_CRL_METHOD* crl_signatures_method();

}  // namespace nqs::revocation
