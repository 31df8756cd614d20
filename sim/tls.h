#pragma once
// A throwaway self-signed certificate for the simulator's TLS mode: EC P-256, valid for
// 127.0.0.1, ::1 and localhost, made at start-up so no key material lives in the repo.
#include <string>

namespace podmedic::sim {

struct TestCert {
  std::string cert_pem;  // also the CA to trust
  std::string key_pem;
};
TestCert make_self_signed_cert();

}  // namespace podmedic::sim
