#!/usr/bin/env bash
# Makes a throw-away test PKI shaped like NCA RK's, with openssl, into OUTDIR (created):
#   root CA -> issuing CA -> end-entity certificates, CRLs of both CAs, and a foreign root and
#   issuing CA with the same names (which must never be trusted).
# End entities (key usage and extended key usage as domain.md, "Identity"):
#   individual-sign     applicant IIN 850101300124, digitalSignature+nonRepudiation, EKU individual
#   individual-auth     same person, an authentication key: digitalSignature+keyEncipherment
#   individual-ecdsa    same person, P-256 signing key
#   individual-rsa1024  same person, a 1024-bit RSA key (refused: trust.min_rsa_bits)
#   individual-ecdsa-k1 same person, an EC key on secp256k1 (refused: trust.ec_curves)
#   individual-expired  valid 2020-01-01 .. 2021-01-01
#   individual-revoked  revoked in the issuing CA's CRL
#   individual-foreign  issued by the foreign CA of the same name
#   center-head         recognition center BIN 120340501232, head (EKU ...1.2 and ...1.2.1)
#   center-employee     the same center, an employee (EKU ...1.2 and ...1.2.5)
#   adapter-sign        the adapter's own key (LMC BIN 140450600708): signs outbound notifications
#   platform-transport  the NQS platform's system key, BIN 140450600708 (transport signatures)
# Each has NAME.key (PKCS#8 PEM) and NAME.pem (issuing-ca too). Trust material: ca-chain.pem (root + issuing CA),
# root.crl.pem, issuing.crl.pem. Idempotent: an OUTDIR made by this version of the script (its
# pki-version file) is kept unless --force is given.
#   make-test-pki.sh OUTDIR [--force]
set -euo pipefail
out=$1
# Bump when the set of certificates changes: an older PKI is then made anew.
version=5
if [[ "$(cat "$out/pki-version" 2>/dev/null)" == "$version" && "${2:-}" != "--force" ]]; then exit 0; fi
rm -rf "$out"
mkdir -p "$out"
cd "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

APPLICANT_IIN=850101300124
CENTER_BIN=120340501232
CENTER_HEAD_IIN=750305300777
PLATFORM_BIN=140450600708

# A CA's openssl ca database and configuration, in $work/NAME.
ca_setup() {
  local name=$1
  mkdir -p "$work/$name/new"
  : > "$work/$name/index.txt"
  echo 1000 > "$work/$name/serial"
  echo 1000 > "$work/$name/crlnumber"
  cat > "$work/$name/ca.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $work/$name
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
default_crl_days = 3650
[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
serialNumber = optional
surname = optional
givenName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sign_individual ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = 1.2.398.3.3.4.1.1
certificatePolicies = 1.2.398.3.3.2.3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ auth_individual ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, 1.2.398.3.3.4.1.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sign_head ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1
certificatePolicies = 1.2.398.3.3.2.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sign_employee ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.5
certificatePolicies = 1.2.398.3.3.2.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
}

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# self_signed_ca NAME SUBJECT
root_ca() {
  local name=$1 subject=$2
  ca_setup "$name"
  key "$work/$name/ca.key"
  openssl req -new -key "$work/$name/ca.key" -subj "$subject" -out "$work/$name/ca.csr"
  openssl ca -batch -selfsign -config "$work/$name/ca.cnf" -keyfile "$work/$name/ca.key" \
    -extensions v3_ca -startdate 20200101000000Z -enddate 20451231000000Z \
    -in "$work/$name/ca.csr" -out "$work/$name/ca.pem" -notext 2>/dev/null
}

# issue CA_NAME NAME SUBJECT EXTENSIONS [START END] [KEYFILE]
issue() {
  local ca=$1 name=$2 subject=$3 extensions=$4
  local start=${5:-20200101000000Z} end=${6:-20451231000000Z} keyfile=${7:-$work/$name.key}
  [[ -f "$keyfile" ]] || key "$keyfile"
  openssl req -new -key "$keyfile" -subj "$subject" -out "$work/$name.csr"
  openssl ca -batch -config "$work/$ca/ca.cnf" -keyfile "$work/$ca/ca.key" -cert "$work/$ca/ca.pem" \
    -extensions "$extensions" -startdate "$start" -enddate "$end" \
    -in "$work/$name.csr" -out "$work/$name.pem" -notext 2>/dev/null
}

# The real hierarchy.
root_ca root "/C=KZ/O=NQS Test/CN=NQS Test Root CA"
ca_setup issuing
key "$work/issuing/ca.key"
issue root issuing-ca "/C=KZ/O=NQS Test/CN=NQS Test Issuing CA" v3_ca 20200101000000Z 20451231000000Z "$work/issuing/ca.key"
cp "$work/issuing-ca.pem" "$work/issuing/ca.pem"

# The foreign hierarchy: same names, other keys.
root_ca foreign-root "/C=KZ/O=NQS Test/CN=NQS Test Root CA"
ca_setup foreign-issuing
key "$work/foreign-issuing/ca.key"
issue foreign-root foreign-issuing-ca "/C=KZ/O=NQS Test/CN=NQS Test Issuing CA" v3_ca 20200101000000Z 20451231000000Z "$work/foreign-issuing/ca.key"
cp "$work/foreign-issuing-ca.pem" "$work/foreign-issuing/ca.pem"

person="/C=KZ/SN=IVANOV/GN=IVAN/CN=IVANOV IVAN/serialNumber=IIN$APPLICANT_IIN"
center="/C=KZ/O=TOO Test Recognition Center/OU=BIN$CENTER_BIN/CN=SEITOV ASKAR/serialNumber=IIN$CENTER_HEAD_IIN"
issue issuing individual-sign "$person" sign_individual
issue issuing individual-auth "$person" auth_individual
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/individual-ecdsa.key" 2>/dev/null
issue issuing individual-ecdsa "$person" sign_individual
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$work/individual-rsa1024.key" 2>/dev/null
issue issuing individual-rsa1024 "$person" sign_individual
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$work/individual-ecdsa-k1.key" 2>/dev/null
issue issuing individual-ecdsa-k1 "$person" sign_individual
issue issuing individual-expired "$person" sign_individual 20200101000000Z 20210101000000Z
issue issuing individual-revoked "$person" sign_individual
issue foreign-issuing individual-foreign "$person" sign_individual
issue issuing center-head "$center" sign_head
issue issuing center-employee "$center" sign_employee
issue issuing platform-transport "/C=KZ/O=NQS Platform/OU=BIN$PLATFORM_BIN/CN=NQS PLATFORM" sign_head
issue issuing adapter-sign "/C=KZ/O=Labour Mobility Center/OU=BIN$PLATFORM_BIN/CN=NQS ADAPTER" sign_head

# Fixed CRL dates, so that tests can verify at any instant from 2020 to 2045.
crl_dates="-crl_lastupdate 20200101000000Z -crl_nextupdate 20451231000000Z"
openssl ca -config "$work/issuing/ca.cnf" -keyfile "$work/issuing/ca.key" -cert "$work/issuing/ca.pem" \
  -revoke "$work/individual-revoked.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -gencrl -config "$work/issuing/ca.cnf" -keyfile "$work/issuing/ca.key" \
  -cert "$work/issuing/ca.pem" $crl_dates -out issuing.crl.pem 2>/dev/null
openssl ca -gencrl -config "$work/root/ca.cnf" -keyfile "$work/root/ca.key" \
  -cert "$work/root/ca.pem" $crl_dates -out root.crl.pem 2>/dev/null
openssl ca -gencrl -config "$work/foreign-issuing/ca.cnf" -keyfile "$work/foreign-issuing/ca.key" \
  -cert "$work/foreign-issuing/ca.pem" $crl_dates -out foreign-issuing.crl.pem 2>/dev/null

cat "$work/root/ca.pem" "$work/issuing/ca.pem" > ca-chain.pem
# The adapter's signing certificate followed by its issuing CA (signing.certificate).
cat "$work/adapter-sign.pem" "$work/issuing/ca.pem" > adapter-chain.pem
cp "$work/root/ca.pem" root-ca.pem
cp "$work/issuing/ca.pem" issuing-ca.pem
# The issuing CA's key: the benchmark issues thousands of applicant certificates under it.
openssl pkcs8 -topk8 -nocrypt -in "$work/issuing/ca.key" -out issuing-ca.key
cp "$work/foreign-issuing/ca.pem" foreign-issuing-ca.pem
cp "$work/foreign-root/ca.pem" foreign-root-ca.pem
for name in individual-sign individual-auth individual-ecdsa individual-rsa1024 individual-ecdsa-k1 \
            individual-expired individual-revoked \
            individual-foreign center-head center-employee platform-transport adapter-sign; do
  cp "$work/$name.pem" "$name.pem"
  openssl pkcs8 -topk8 -nocrypt -in "$work/$name.key" -out "$name.key"
done
chmod 600 ./*.key
echo "$version" > pki-version
echo "test PKI written to $out"
