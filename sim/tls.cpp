#include "sim/tls.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>

namespace podmedic::sim {
namespace {
std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}
void add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) std::abort();
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}
}  // namespace

TestCert make_self_signed_cert() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) std::abort();
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("podmedic-sim"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  add_ext(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_ext(cert, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
  if (X509_sign(cert, key, EVP_sha256()) == 0) std::abort();
  TestCert out;
  BIO* b1 = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b1, cert);
  out.cert_pem = bio_string(b1);
  BIO_free(b1);
  BIO* b2 = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b2, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(b2);
  BIO_free(b2);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace podmedic::sim
