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

TEST_CASE("a secret found once is masked wherever it recurs in the text") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const std::string log =
      "connecting to redis://default:Tr0ub4dor&3x@redis-master:6379/0\n"
      "> AUTH default Tr0ub4dor&3x\n"
      "args: [ 'default', 'Tr0ub4dor&3x' ]\n"
      "default user selected\n";
  const auto out = r->redact(log);
  INFO(out);
  CHECK(out.find("Tr0ub4dor") == std::string::npos);
  CHECK(out.find("args: [ 'default', '[REDACTED]' ]") != std::string::npos);
  // Only the value is propagated, not the user name beside it.
  CHECK(out.find("default user selected") != std::string::npos);
}

TEST_CASE("short or single-class values are masked where found but not propagated") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  // "default" (one class) and "pw1" (short) must not blank every other occurrence.
  const auto out = r->redact("password=default\nusing default settings\nPWD=pw1 pw1x\n");
  INFO(out);
  CHECK(out.find("password=[REDACTED]") != std::string::npos);
  CHECK(out.find("using default settings") != std::string::npos);
  CHECK(out.find("pw1x") != std::string::npos);
  CHECK_FALSE(propagatable_secret("default"));
  CHECK_FALSE(propagatable_secret("Ab1"));
  CHECK_FALSE(propagatable_secret("abcdefghijkl"));
  CHECK(propagatable_secret("abcdefgh1"));
  CHECK(propagatable_secret("horse-battery"));
}

TEST_CASE("a session masks the secrets of one incident across all its texts") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  std::vector<std::string> texts = {
      "Back-off restarting failed container app",                        // event, seen first
      "cannot reach cache with S3cr3t-Value! (AUTH rejected)",           // termination message
      "REDIS_URL=redis://:S3cr3t-Value!@cache:6379\nstarting worker\n",  // the log
  };
  RedactionSession session(*r);
  session.redact_all(texts);
  CHECK(texts[0] == "Back-off restarting failed container app");
  CHECK(texts[1] == "cannot reach cache with [REDACTED] (AUTH rejected)");
  CHECK(texts[2] == "REDIS_URL=redis://:[REDACTED]@cache:6379\nstarting worker\n");
  // Later texts (the LLM's answer echoing it) are masked with what the session knows.
  CHECK(session.redact("check the password S3cr3t-Value! in the secret") ==
        "check the password [REDACTED] in the secret");
  REQUIRE(session.secrets().size() == 1);
  // Redactor::redact_all is the same over a fresh session.
  std::vector<std::string> again = {"x S3cr3t-Value! y", "password: \"S3cr3t-Value!\""};
  r->redact_all(again);
  CHECK(again[0] == "x [REDACTED] y");
  CHECK(again[1] == "password: \"[REDACTED]\"");
}

TEST_CASE("a key block cut before its END is masked to the end of the text") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const auto out = r->redact(
      "loading key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"
      "\nAAAAAAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAI");
  CHECK(out == "loading key\n[REDACTED PRIVATE KEY]");
  const auto pgp = r->redact(
      "a\n-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0x\n=ab12\n-----END PGP PRIVATE KEY "
      "BLOCK-----\nb\n");
  CHECK(pgp == "a\n[REDACTED PRIVATE KEY]\nb\n");
}

TEST_CASE("a YAML block scalar is masked up to the end of its indentation") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  const auto out =
      r->redact("db:\n  password: |\n    line-0ne\n\n    line-Two\n  user: app\nnext: 1\n");
  CHECK(out == "db:\n  password: |\n[REDACTED]\n  user: app\nnext: 1\n");
}

TEST_CASE("redaction is stable: redacting redacted text changes nothing") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  for (const char* in :
       {"DB_PASSWORD=hunter2 and https://u:pAss-w0rd@h/x", "Authorization: Bearer abcdefgh12345678",
        "-----BEGIN RSA PRIVATE KEY-----\nMII",
        "{\"token\":\"ghp_abcdefghijklmnopqrstuvwxyz0123456789\"}"}) {
    const auto once = r->redact(in);
    INFO(in << " -> " << once);
    CHECK(r->redact(once) == once);
  }
}

TEST_CASE("extra patterns with capture groups mask only the groups") {
  auto r = Redactor::create({R"re(employee_id=(\d{6}))re"});
  REQUIRE(r.ok());
  CHECK(r->redact("employee_id=123456 fired") == "employee_id=[REDACTED] fired");
  CHECK(r->rule_count() >= 90);
}

TEST_CASE("hostile input: many matches and huge values stay linear and bounded") {
  auto r = Redactor::create();
  REQUIRE(r.ok());
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "password=Pw" + std::to_string(i) + "xyzAB ";
  auto out = r->redact(many);
  CHECK(out.find("Pw19999xyzAB") == std::string::npos);
  RedactionSession session(*r);
  session.redact(many);
  CHECK(session.secrets().size() == RedactionSession::kMaxSecrets);
  std::string open_block = "-----BEGIN PRIVATE KEY-----" + std::string(1 << 20, 'A');
  CHECK(r->redact(open_block) == "[REDACTED PRIVATE KEY]");
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
