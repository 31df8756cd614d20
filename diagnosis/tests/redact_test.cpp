// A corpus of real-looking secrets that must disappear, and lines that must survive unchanged.
#include <catch2/catch.hpp>

#include "diagnosis/redact.h"

using namespace podmedic::diagnosis;

TEST_CASE("secrets are redacted") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  struct Row {
    const char* in;
    const char* secret;
  };
  std::vector<Row> rows = {
      {"DB_PASSWORD=hunter2", "hunter2"},
      {"password: correct-horse-battery", "correct-horse-battery"},
      {R"({"password":"p@ssw0rd!","user":"app"})", "p@ssw0rd!"},
      {"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"},
      {"using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"},
      {"api_key=sk_live_51H8abcdefghijklmnop", "sk_live_51H8abcdefghijklmnop"},
      {"x-api-key: 0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
      {"Authorization: Bearer "
       "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
       "XgL0n3I9PlFUP0THsR8U",
       "dozjgNryP4J3jVmNHl0w5N"},
      {"curl -H 'Authorization: Basic YWRtaW46c2VjcmV0cGFzcw=='", "YWRtaW46c2VjcmV0cGFzcw"},
      {"token eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzIn0.c2lnbmF0dXJlLXN0dWZm "
       "in header",
       "c2lnbmF0dXJlLXN0dWZm"},
      {"connecting to postgres://payments:hunter2@postgres.payments:5432/db", "hunter2"},
      {"https://user:s3cr3t@registry.example.com/v2/", "s3cr3t"},
      {"maps key AIzaSyA1234567890abcdefghijklmnopqrstuv loaded",
       "AIzaSyA1234567890abcdefghijklmnopqrstuv"},
      {"slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl"},
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----",
       "MIIEowIBAAKCAQEA7"},
      {"client_secret = 'abc123def456'", "abc123def456"},
      {"GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
       "ghp_abcdefghijklmnopqrstuvwxyz0123456789"},
  };
  for (auto& row : rows) {
    auto out = r->redact(row.in);
    INFO(row.in << " -> " << out);
    CHECK(out.find(row.secret) == std::string::npos);
    CHECK(out.find("REDACTED") != std::string::npos);
  }
}

TEST_CASE("ordinary log lines survive unchanged") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  for (const char* line : {
           "2026-11-24T10:01:12Z WARN  GC overhead limit approaching: heap 243Mi of 256Mi",
           "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space",
           "panic: runtime error: invalid memory address or nil pointer dereference",
           "password reset email sent to user 42",
           "passwordless login enabled",
           "the secretary: Jane",
           "tokenizer loaded 32000 entries",
           "GET /api/v1/namespaces/shop/pods/cart-7d9f-abcde 200 12ms",
           "dial tcp 10.96.14.7:5432: connect: connection refused",
           "Back-off restarting failed container app in pod "
           "cart_shop(0b4c1f43-6f1e-4b7e-9a55-3c7f2d9e8a10)",
       }) {
    CHECK(r->redact(line) == line);
  }
}

TEST_CASE("extra patterns are configurable and bad ones are reported") {
  auto r = Redactor::create({R"(\bACME-[0-9]{6}\b)"});
  REQUIRE(r.ok());
  CHECK(r->redact("customer ACME-123456 failed") == "customer [REDACTED] failed");
  auto bad = Redactor::create({"(unclosed"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("redaction pattern \"(unclosed\"") == 0);
}

TEST_CASE("hostile input is handled in linear time") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  std::string evil(200000, 'a');
  evil += "password=";
  evil += std::string(100000, '=');
  auto out = r->redact(evil);
  CHECK(out.size() > 100000);
}

TEST_CASE("name masking hides cluster names from the prompt and restores them in the answer") {
  NameMasker m;
  CHECK(m.add("shop", "namespace") == "namespace-1");
  CHECK(m.add("cart", "workload") == "workload-1");
  CHECK(m.add("cart-7d9f-abcde", "pod") == "pod-1");
  CHECK(m.add("cart-7d9f-zzzzz", "pod") == "pod-2");
  CHECK(m.add("cart", "workload") == "workload-1");
  CHECK(m.add("", "node").empty());
  std::string prompt = m.mask("pod shop/cart-7d9f-abcde of cart crashed; cart-7d9f-zzzzz too");
  CHECK(prompt == "pod namespace-1/pod-1 of workload-1 crashed; pod-2 too");
  CHECK(prompt.find("cart") == std::string::npos);
  CHECK(m.unmask("Check pod-1 in namespace-1 (workload-1).") ==
        "Check cart-7d9f-abcde in shop (cart).");
  CHECK(m.mask("shopping cart-service") == "shopping cart-service");
  // Placeholders that share a prefix are restored whole.
  NameMasker many;
  for (int i = 1; i <= 11; ++i) many.add("p" + std::to_string(i) + "x", "pod");
  CHECK(many.unmask("pod-11 and pod-1") == "p11x and p1x");
}
