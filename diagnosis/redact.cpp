#include "diagnosis/redact.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <unordered_set>

namespace podmedic::diagnosis {

namespace {

// Every rule but kBlock (and the extra patterns) matches within one line: those run line by
// line, only on the lines where one of their keywords occurs.
enum class Kind {
  kToken,      // mask the selected groups (or the whole match)
  kKeyValue,   // group 1 is the key (kept), the others its value (masked, if it is a value)
  kYamlBlock,  // a block scalar's header line: the following deeper-indented lines are masked
  kBlock,      // a private key block, across lines: masked whole, never propagated
};

struct Spec {
  const char* name;
  const char* pattern;
  std::vector<const char*> keywords;  // lower case literals; none: the rule always runs
  Kind kind = Kind::kToken;
  std::uint32_t groups = 1;  // bit g: mask submatch g (bit 0: the whole match)
  int min_classes = 0;       // of {lower, upper, digit, other}; 0: no check
};

// Key names that announce a secret. The long words may end a longer key (DB_PASSWORD,
// clientSecret, x-api-key); the short ones only stand alone or after a separator (DB_PASS,
// MYSQL_PWD), so "compass=" or "tests pass=3" are not keys.
#define PM_KEY                                                                             \
  "(?:pass(?:word|wd|phrase)|secret[_.-]?key[_.-]?base|secret|token|credentials?|"         \
  "(?:api|access|secret|private|signing|"                                                  \
  "encryption|master|account|app|license|client|shared[_.-]?access|subscription|storage|"  \
  "auth)[_.-]?key|apikey|jsessionid|phpsessid|sessionid|x-amz-signature|x-amz-credential|" \
  "(?:\\b|[_.-])(?:pass|pwd|pw))"

const std::vector<const char*> kKeyKeywords = {"pass", "pw",     "secret",    "token", "credential",
                                               "key",  "sessid", "sessionid", "x-amz-"};

// Written for podmedic after reading the gitleaks and trufflehog rule sets (none copied).
const std::vector<Spec>& builtin_specs() {
  static const std::vector<Spec> specs = {
      // Key blocks: to their END line, or to the end of the text when the END was cut off.
      {"private-key",
       R"re(-----BEGIN[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----|\z))re",
       {"-----begin"},
       Kind::kBlock,
       1},
      {"putty-key",
       R"re(PuTTY-User-Key-File-\d+:(?s:.*?)(?:Private-MAC:[^\n]*|\z))re",
       {"putty-user-key-file"},
       Kind::kBlock,
       1},

      // Key/value pairs whose key names a secret, in every quoting found in logs.
      {"key-value",
       "(?i)(" PM_KEY
       R"re()(?:\\?["'])?[ \t]*(?:=>|:=|[:=])[ \t]*(?:\\"([^\n]*?)(?:\\"|\n|\z)|"((?:[^"\\\n]|\\.)*)"?|'([^'\n]*)'?|([^\s"<]+)))re",
       kKeyKeywords, Kind::kKeyValue, 0b111100},
      // The header line of a block scalar; the block is the lines after it, indented deeper.
      {"yaml-block-scalar", "(?i)(" PM_KEY R"re()["']?[ \t]*:[ \t]*[|>][-+0-9]*[ \t]*(?:#.*)?$)re",
       kKeyKeywords, Kind::kYamlBlock, 0},
      {"xml-element", "(?i)<(?:[\\w.-]+:)?[\\w.-]*?" PM_KEY R"re(>([^<]*)</)re", kKeyKeywords,
       Kind::kToken, 0b10},
      {"xml-key-value",
       R"re((?i)\bkey=["'][^"'<>]*(?:pass|pwd|secret|token|api_?key)[^"'<>]*["'][ \t]+value=["']([^"'<>]*)["'])re",
       {"key="},
       Kind::kToken,
       0b10},
      {"netrc",
       R"re((?i)\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+(\S+))re",
       {"machine"},
       Kind::kToken,
       0b10},

      // Credentials in URLs: any scheme, no user, '@' in the password, a token as the user.
      {"url-password",
       R"re(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@"'<>\[\]]*:([^\s/?#"'<>]*)@[^\s@/?#"'<>:])re",
       {"://"},
       Kind::kToken,
       0b10},
      {"url-token-user",
       R"re(\b[A-Za-z][A-Za-z0-9+.-]*://([A-Za-z0-9_.~+=%-]{16,})@[^\s@/?#"'<>])re",
       {"://"},
       Kind::kToken,
       0b10,
       2},
      {"azure-sas-signature",
       R"re((?i)[?&;]sig=([A-Za-z0-9%+/=_-]{8,}))re",
       {"sig="},
       Kind::kToken,
       0b10},

      // Headers and command lines.
      {"authorization",
       R"re((?i)\b(?:proxy-)?authorization["'\\]*[ \t]*[:=][ \t]*["'\\]*(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey|key|ssws|sso-key|otp)[ \t]+)?([^\s"'\\][^\r\n"'\\]*))re",
       {"authorization"},
       Kind::kToken,
       0b10},
      {"bearer",
       R"re((?i)\bbearer[ \t]+([A-Za-z0-9._~+/=-]{8,}))re",
       {"bearer"},
       Kind::kToken,
       0b10,
       2},
      {"basic-auth",
       R"re((?i)\bbasic[ \t]+([A-Za-z0-9+/]{8,}={0,2}))re",
       {"basic"},
       Kind::kToken,
       0b10,
       2},
      {"cookie",
       R"re((?i)(?:^|[^\w-])(?:set-)?cookie["'\\]*[ \t]*[:=][ \t]*["'\\]*([^\r\n"'\\]+))re",
       {"cookie"},
       Kind::kToken,
       0b10},
      {"cli-flag",
       R"re((?i)(?:^|[\s"'\[,])--?(?:password|passwd|pass|pwd|token|secret|passphrase|api-key|apikey|access-key|secret-key|client-secret|auth-token|[a-z]+-password|[a-z]+-token|[a-z]+-secret)(?:=|[ \t]+|["'],[ \t]*)(?:"((?:[^"\\\n]|\\.)*)"?|'([^'\n]*)'?|([^\s"',\]]+)))re",
       {"-pass", "-pwd", "-token", "-secret", "-api", "-access", "-client", "-auth"},
       Kind::kToken,
       0b1110},
      {"mysql-p",
       R"re(\b(?:mysql|mysqldump|mysqladmin|mysqlsh|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\n]*?[ \t]-p(?:"([^"\n]*)"|'([^'\n]*)'|([^\s"']\S*)))re",
       {"mysql", "mariadb"},
       Kind::kToken,
       0b1110},
      {"redis-cli-a",
       R"re(\bredis-cli\b[^\n]*?[ \t]-a[ \t]+(?:"([^"\n]*)"|'([^'\n]*)'|(\S+)))re",
       {"redis-cli"},
       Kind::kToken,
       0b1110},
      {"sshpass",
       R"re(\bsshpass\b[ \t]+-p[ \t]*(?:'([^'\n]*)'|"([^"\n]*)"|(\S+)))re",
       {"sshpass"},
       Kind::kToken,
       0b1110},
      {"curl-user",
       R"re(\bcurl\b[^\n]*?[ \t](?:-u|--user)(?:=|[ \t]+)["']?[^\s:"']*:([^\s"']+))re",
       {"curl"},
       Kind::kToken,
       0b10},
      {"docker-login-p",
       R"re(\blogin\b[^\n]*?[ \t]-p[ \t]+(\S+))re",
       {"login"},
       Kind::kToken,
       0b10},
      {"redis-auth",
       R"re((?m)(?:^|[\s>:])AUTH[ \t]+(?:\S+[ \t]+)?(\S+)[ \t]*$)re",
       {"auth"},
       Kind::kToken,
       0b10,
       2},
      {"redis-auth-quoted",
       R"re("AUTH"(?:[ \t]+"[^"\n]*")?[ \t]+"([^"\n]*)")re",
       {"\"auth\""},
       Kind::kToken,
       0b10},

      // Token formats of clouds and SaaS.
      {"aws-access-key-id",
       R"re(\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}\b)re",
       {"akia", "asia", "abia", "acca", "a3t"}},
      // The secret access key printed right after its key id, without a key name of its own.
      {"aws-secret-after-key-id",
       R"re(\b(?:AKIA|ASIA)[A-Z2-7]{16}\b[^\n]{0,24}?(?:[^A-Za-z0-9/+=])([A-Za-z0-9/+=]{40})(?:$|[^A-Za-z0-9/+=]))re",
       {"akia", "asia"},
       Kind::kToken,
       0b10,
       3},
      // Go's MySQL driver DSN has no scheme: user:password@tcp(host:port)/db, @unix(/sock).
      {"go-mysql-dsn",
       R"re(\b[A-Za-z0-9_.-]+:([^\s:@/"'()]+)@(?:tcp6?|udp|unix)\()re",
       {"@tcp", "@unix", "@udp"},
       Kind::kToken,
       0b10},
      // Docker's config.json and image-pull secrets: "auth" is base64 of user:password.
      {"docker-config-auth",
       R"re(\\?"auth\\?"[ \t]*:[ \t]*\\?"([A-Za-z0-9+/]{8,}={0,2})\\?")re",
       {"\"auth\"", "auth\\\""},
       Kind::kToken,
       0b10},
      {"azure-storage-key",
       R"re((?i)\b(?:AccountKey|SharedAccessKey|SharedSecretValue)=([A-Za-z0-9+/=]{16,}))re",
       {"accountkey", "sharedaccesskey", "sharedsecretvalue"},
       Kind::kToken,
       0b10},
      {"azure-ad-client-secret",
       R"re((?:^|[^\w~.])([\w~.]{3}\dQ~[\w~.-]{31,34}))re",
       {"q~"},
       Kind::kToken,
       0b10},
      {"gcp-api-key", R"re(\bAIza[\w-]{35})re", {"aiza"}},
      {"gcp-oauth-token", R"re(\bya29\.[\w-]{30,})re", {"ya29."}},
      {"gcp-oauth-client-secret", R"re(\bGOCSPX-[\w-]{24,})re", {"gocspx-"}},
      {"github-token",
       R"re(\bgh[pousr]_[A-Za-z0-9]{36,255}\b)re",
       {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}},
      {"github-fine-grained-pat", R"re(\bgithub_pat_\w{50,255})re", {"github_pat_"}},
      {"gitlab-token",
       R"re(\bgl(?:pat|dt|rt|ptt|ft|imt|agent|oas|soat|cbt|ffct|cat)-[\w-]{20,300}(?:\.\w{9})?)re",
       {"glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-",
        "glcbt-", "glffct-", "glcat-"}},
      {"gitlab-runner-registration", R"re(\bGR1348941[\w-]{20,})re", {"gr1348941"}},
      {"slack-token", R"re(\bxox[abposre]-(?:\d+-)?[A-Za-z0-9-]{10,})re", {"xox"}},
      {"slack-app-token", R"re(\bxapp-\d-[A-Za-z0-9-]{10,})re", {"xapp-"}},
      {"slack-webhook",
       R"re(hooks\.slack(?:-gov)?\.com/((?:services|workflows|triggers)/[\w+/-]{20,}))re",
       {"hooks.slack"},
       Kind::kToken,
       0b10},
      {"discord-webhook",
       R"re(discord(?:app)?\.com/api/webhooks/(\d+/[\w-]{20,}))re",
       {"discord"},
       Kind::kToken,
       0b10},
      {"teams-webhook",
       R"re(\.webhook\.office\.com/(webhookb2/[^\s"'<>]+))re",
       {"webhook.office.com"},
       Kind::kToken,
       0b10},
      {"stripe-key",
       R"re(\b(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,255})re",
       {"k_live_", "k_test_", "k_prod_"}},
      {"stripe-webhook-secret", R"re(\bwhsec_[A-Za-z0-9+/=]{24,})re", {"whsec_"}},
      {"openai-key",
       R"re(\bsk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,})re",
       {"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-none-"}},
      {"openai-legacy-key", R"re(\bsk-[A-Za-z0-9]{20,}T3BlbkFJ[A-Za-z0-9]{20,})re", {"t3blbkfj"}},
      {"sk-48", R"re(\bsk-[A-Za-z0-9]{48}\b)re", {"sk-"}, Kind::kToken, 1, 2},
      {"anthropic-key", R"re(\bsk-ant-(?:api|admin|sid|oat)\d{2}-[\w-]{20,})re", {"sk-ant-"}},
      {"vault-token", R"re(\bhv[sbr]\.[\w-]{20,})re", {"hvs.", "hvb.", "hvr."}},
      {"vault-legacy-token", R"re(\bs\.[A-Za-z0-9]{24}\b)re", {"s."}, Kind::kToken, 1, 3},
      {"huggingface-token", R"re(\b(?:hf|api_org)_[A-Za-z]{30,}\b)re", {"hf_", "api_org_"}},
      {"npm-token", R"re(\bnpm_[A-Za-z0-9]{36}\b)re", {"npm_"}},
      {"pypi-token", R"re(\bpypi-AgEIcHlwaS5vcmc[\w-]{50,})re", {"pypi-ageichlwas5vcmc"}},
      {"dockerhub-token", R"re(\bdckr_(?:pat|oat)_[\w-]{20,})re", {"dckr_"}},
      {"sendgrid-key", R"re(\bSG\.[\w-]{16,32}\.[\w-]{16,64})re", {"sg."}},
      {"twilio-api-key", R"re(\bSK[0-9a-fA-F]{32}\b)re", {"sk"}},
      {"mailgun-key", R"re(\b(?:key|pubkey)-[0-9a-f]{32}\b)re", {"key-"}},
      {"mailchimp-key", R"re(\b[0-9a-f]{32}-us\d{1,2}\b)re", {"-us"}},
      {"shopify-token",
       R"re(\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b)re",
       {"shpat_", "shpca_", "shppa_", "shpss_"}},
      {"digitalocean-token", R"re(\bdo[opr]_v1_[a-f0-9]{64}\b)re", {"_v1_"}},
      {"databricks-token", R"re(\bdapi[a-f0-9]{32}(?:-\d)?\b)re", {"dapi"}},
      {"grafana-token",
       R"re(\b(?:glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b|eyJrIjoi[A-Za-z0-9+/]{40,}={0,2}))re",
       {"glc_", "glsa_", "eyjrijoi"}},
      {"newrelic-key",
       R"re(\bNR(?:AK|II|JS|AA)-[A-Za-z0-9]{19,32}\b)re",
       {"nrak-", "nrii-", "nrjs-", "nraa-"}},
      {"sentry-token", R"re(\bsntry[us]_[\w+/=]{40,})re", {"sntry"}},
      {"atlassian-token", R"re(\bAT[AC]TT3[\w=-]{50,})re", {"atatt3", "atctt3"}},
      {"linear-key", R"re(\blin_(?:api|oauth)_[A-Za-z0-9]{40}\b)re", {"lin_"}},
      {"postman-key", R"re(\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b)re", {"pmak-"}},
      {"pulumi-token", R"re(\bpul-[a-f0-9]{40}\b)re", {"pul-"}},
      {"doppler-token", R"re(\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,})re", {"dp."}},
      {"heroku-key", R"re(\bHRKU-[\w-]{40,})re", {"hrku-"}},
      {"flyio-token",
       R"re(\b(?:fo1_[\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{50,}={0,3}))re",
       {"fo1_", "fm1", "fm2"}},
      {"age-secret-key", R"re(\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b)re", {"age-secret-key-"}},
      {"jwt", R"re(\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)re", {"eyj"}},
      {"square-token", R"re(\b(?:sq0(?:atp|csp)-[\w-]{22,}|EAAA[\w-]{60,}))re", {"sq0", "eaaa"}},
      {"facebook-token", R"re(\bEAA[BCDGI][A-Za-z0-9]{90,})re", {"eaa"}},
      {"telegram-bot-token", R"re(\b\d{8,10}:AA[\w-]{33}\b)re", {":aa"}},
      {"dropbox-token", R"re(\bsl\.[\w-]{130,})re", {"sl."}},
      {"alibaba-key-id", R"re(\bLTAI[A-Za-z0-9]{20}\b)re", {"ltai"}},
      {"cloudflare-origin-ca-key", R"re(\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}\b)re", {"v1.0-"}},
      {"onepassword-token",
       R"re(\b(?:ops_eyJ[\w+/]{100,}={0,3}|A3(?:-[A-Z0-9]{5,11}){5,6}\b))re",
       {"ops_", "a3-"}},
      {"artifactory-token",
       R"re(\b(?:AKCp[A-Za-z0-9]{64,}|cmVmd[A-Za-z0-9]{59})\b)re",
       {"akcp", "cmvmd"}},
      {"planetscale-token", R"re(\bpscale_(?:tkn|oauth|pw)_[\w.=-]{32,64})re", {"pscale_"}},
      {"prefect-key", R"re(\bpnu_[A-Za-z0-9]{36}\b)re", {"pnu_"}},
      {"rubygems-key", R"re(\brubygems_[a-f0-9]{48}\b)re", {"rubygems_"}},
      {"readme-key", R"re(\brdme_[a-z0-9]{70}\b)re", {"rdme_"}},
      {"brevo-key",
       R"re(\bx(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16}\b)re",
       {"xkeysib-", "xsmtpsib-"}},
      {"shippo-token", R"re(\bshippo_(?:live|test)_[a-fA-F0-9]{40}\b)re", {"shippo_"}},
      {"notion-token",
       R"re(\b(?:ntn_\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b)re",
       {"ntn_", "secret_"}},
      {"perplexity-key", R"re(\bpplx-[A-Za-z0-9]{48}\b)re", {"pplx-"}},
      {"groq-key", R"re(\bgsk_[A-Za-z0-9]{52}\b)re", {"gsk_"}},
      {"replicate-token", R"re(\br8_[A-Za-z0-9]{37}\b)re", {"r8_"}},
      {"tailscale-key", R"re(\btskey-[\w-]{20,})re", {"tskey-"}},
      {"terraform-cloud-token", R"re(\b[A-Za-z0-9]{14}\.atlasv1\.[\w=-]{60,})re", {"atlasv1"}},
      {"openshift-token", R"re(\bsha256~[\w-]{43})re", {"sha256~"}},
      {"buildkite-token", R"re(\bbkua_[a-f0-9]{40}\b)re", {"bkua_"}},
      {"circleci-token", R"re(\bCCI(?:PAT|PRJ)_\w{30,})re", {"ccipat_", "cciprj_"}},
      {"mapbox-secret-token", R"re(\bsk\.eyJ[\w.-]{50,})re", {"sk.eyj"}},
      {"discord-bot-token",
       R"re(\b[MN][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b)re",
       {},
       Kind::kToken,
       1,
       3},
      {"infracost-key", R"re(\bico-[A-Za-z0-9]{32}\b)re", {"ico-"}},
      {"scalingo-token", R"re(\btk-us-[\w-]{48}\b)re", {"tk-us-"}},
      {"frameio-token", R"re(\bfio-u-[\w=-]{64})re", {"fio-u-"}},
      {"duffel-token", R"re(\bduffel_(?:test|live)_[\w=-]{43})re", {"duffel_"}},
      {"easypost-key", R"re(\bEZ[AT]K[A-Za-z0-9]{54}\b)re", {"ezak", "eztk"}},
      {"flutterwave-key", R"re(\bFLW(?:SECK|PUBK)(?:_TEST)?-[\w-]{12,})re", {"flwseck", "flwpubk"}},
      {"clojars-token", R"re(\bCLOJARS_[a-z0-9]{60}\b)re", {"clojars_"}},
      {"dynatrace-token", R"re(\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}\b)re", {"dt0c01."}},
      {"harness-token",
       R"re(\b(?:pat|sat)\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}\b)re",
       {"pat.", "sat."}},
      {"supabase-token",
       R"re(\b(?:sbp_[a-f0-9]{40}\b|sb_secret_[\w-]{20,}))re",
       {"sbp_", "sb_secret_"}},
      {"contentful-token", R"re(\bCFPAT-[\w-]{43})re", {"cfpat-"}},
      {"figma-token", R"re(\bfigd_[\w-]{40,})re", {"figd_"}},
  };
  return specs;
}

#undef PM_KEY

int char_classes(std::string_view v) {
  bool lower = false, upper = false, digit = false, other = false;
  for (unsigned char c : v) {
    if (std::islower(c))
      lower = true;
    else if (std::isupper(c))
      upper = true;
    else if (std::isdigit(c))
      digit = true;
    else
      other = true;
  }
  return lower + upper + digit + other;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool weak_key(std::string_view key) {
  // Keys that also name non-secrets in prose ("invalid token: expired"): their value must look
  // like a credential (two character classes, or long) before it is masked.
  auto k = lower(key);
  auto ends = [&](std::string_view w) { return k.size() >= w.size() && k.ends_with(w); };
  return !(ends("password") || ends("passwd") || ends("passphrase") || ends("secret") ||
           ends("pass") || ends("pwd") || ends("pw") || ends("credential") || ends("credentials"));
}

// Values that are placeholders or flags rather than secrets: left as they are.
bool placeholder_value(std::string_view key, std::string_view v) {
  if (v.empty()) return true;
  static const std::unordered_set<std::string> words = {
      "true",     "false", "null",  "none",     "nil",      "undefined", "yes",
      "no",       "on",    "off",   "required", "optional", "hidden",    "masked",
      "redacted", "empty", "unset", "absent",   "missing",  "\"\"",      "''"};
  if (words.count(lower(v))) return true;
  if (std::all_of(v.begin(), v.end(), [&](char c) { return c == v.front(); }) &&
      std::string_view("*xX.#-").find(v.front()) != std::string_view::npos)
    return true;
  static const RE2 shape(
      R"re(^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|<[^<>]*>|%[A-Za-z_]+%|[|>][-+0-9]*|\$\([^)]*\))[,;]?$)re");
  if (RE2::FullMatch(re2::StringPiece(v.data(), v.size()), shape)) return true;
  auto k = lower(key);
  if (k.ends_with("pwd") && v.front() == '/') return true;  // the shell's working directory
  if ((k.ends_with("pass") || k.ends_with("pw")) && std::all_of(v.begin(), v.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    return true;  // "tests pass=12"
  return false;
}

}  // namespace

bool propagatable_secret(std::string_view v) {
  return v.size() >= RedactionSession::kMinPropagated &&
         v.size() <= RedactionSession::kMaxPropagated &&
         v.find_first_of("\r\n") == std::string_view::npos && char_classes(v) >= 2;
}

struct Redactor::Rule {
  std::string name;
  std::unique_ptr<RE2> re;
  Kind kind;
  std::uint32_t groups;
  int min_classes;
  bool whole_text;               // runs once over the whole text, not line by line
  std::vector<int> keyword_ids;  // empty: always runs
};

struct Redactor::Impl {
  std::vector<Rule> rules;
  std::unique_ptr<RE2::Set> keywords;        // the prefilter
  std::vector<std::vector<int>> by_keyword;  // keyword index → line rules it enables
};

Redactor::Redactor() : impl_(std::make_unique<Impl>()) {}
Redactor::Redactor(Redactor&&) noexcept = default;
Redactor& Redactor::operator=(Redactor&&) noexcept = default;
Redactor::~Redactor() = default;

std::size_t Redactor::rule_count() const {
  return impl_->rules.size();
}

Result<Redactor> Redactor::create(const std::vector<std::string>& extra) {
  Redactor r;
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(32 << 20);  // per rule; the key/value rules are the largest
  RE2::Options kw_opts;
  kw_opts.set_log_errors(false);
  kw_opts.set_case_sensitive(false);
  kw_opts.set_max_mem(32 << 20);
  r.impl_->keywords = std::make_unique<RE2::Set>(kw_opts, RE2::UNANCHORED);
  std::vector<std::string> kw_index;
  auto add_rule = [&](std::string name, std::unique_ptr<RE2> re, Kind kind, std::uint32_t groups,
                      int min_classes, const std::vector<const char*>& keywords, bool whole) {
    const int id = static_cast<int>(r.impl_->rules.size());
    Rule rule{
        std::move(name), std::move(re), kind, groups, min_classes, whole || keywords.empty(), {}};
    for (const char* kw : keywords) {
      auto it = std::find(kw_index.begin(), kw_index.end(), kw);
      const int k = static_cast<int>(it - kw_index.begin());
      if (it == kw_index.end()) {
        kw_index.emplace_back(kw);
        r.impl_->by_keyword.emplace_back();
      }
      rule.keyword_ids.push_back(k);
      if (!rule.whole_text) r.impl_->by_keyword[static_cast<std::size_t>(k)].push_back(id);
    }
    r.impl_->rules.push_back(std::move(rule));
  };
  for (const auto& s : builtin_specs()) {
    auto re = std::make_unique<RE2>(s.pattern, opts);
    if (!re->ok())
      return Error{std::string("built-in redaction pattern ") + s.name + ": " + re->error()};
    add_rule(s.name, std::move(re), s.kind, s.groups, s.min_classes, s.keywords,
             s.kind == Kind::kBlock);
  }
  for (const auto& pattern : extra) {
    auto re = std::make_unique<RE2>(pattern, opts);
    if (!re->ok()) return Error{"redaction pattern \"" + pattern + "\": " + re->error()};
    // With capture groups only they are masked; otherwise the whole match.
    const int n = std::min(re->NumberOfCapturingGroups(), 31);
    const std::uint32_t groups = n == 0 ? 1u : (((1u << n) - 1u) << 1);
    add_rule("extra", std::move(re), Kind::kToken, groups, 0, {}, true);
  }
  for (const auto& kw : kw_index) {
    std::string err;
    if (r.impl_->keywords->Add(RE2::QuoteMeta(kw), &err) < 0)
      return Error{"redaction keyword \"" + kw + "\": " + err};
  }
  if (!r.impl_->keywords->Compile()) return Error{"redaction keywords do not compile"};
  return r;
}

void Redactor::find(std::string_view text, std::vector<Span>& spans,
                    std::vector<std::string>& learned) const {
  const auto& rules = impl_->rules;
  std::vector<re2::StringPiece> sub;
  auto add = [&](std::size_t b, std::size_t e, bool block, bool learn) {
    if (e <= b) return;
    std::string_view v = text.substr(b, e - b);
    if (v.starts_with("[REDACTED")) return;  // already masked by an earlier pass
    spans.push_back({b, e, block});
    if (learn && propagatable_secret(v)) learned.emplace_back(v);
  };
  // The deeper-indented lines after a block scalar's header line [ls, le).
  auto yaml_block = [&](std::size_t ls, std::size_t le) {
    std::size_t key_indent = 0;
    while (ls + key_indent < le && (text[ls + key_indent] == ' ' || text[ls + key_indent] == '\t'))
      ++key_indent;
    const std::size_t b = le + 1;
    std::size_t p = b, last = b;
    while (p < text.size()) {
      std::size_t nl = text.find('\n', p);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(p, nl - p);
      const std::size_t ind = line.find_first_not_of(" \t\r");
      if (ind != std::string_view::npos) {
        if (ind <= key_indent) break;
        last = nl;
        std::string_view trimmed = line.substr(ind);
        while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\r'))
          trimmed.remove_suffix(1);
        if (propagatable_secret(trimmed)) learned.emplace_back(trimmed);
      }
      p = nl + 1;
    }
    if (last > b) add(b, last, false, false);
  };
  // Every match of `rule` within text[from, to), each its own subject (so ^, $ and \b see the
  // line's edges).
  auto run = [&](const Rule& rule, std::size_t from, std::size_t to) {
    const re2::StringPiece input(text.data() + from, to - from);
    const int n = rule.re->NumberOfCapturingGroups() + 1;
    sub.assign(static_cast<std::size_t>(n), re2::StringPiece());
    std::size_t pos = 0;
    while (pos <= input.size() &&
           rule.re->Match(input, pos, input.size(), RE2::UNANCHORED, sub.data(), n)) {
      const std::size_t mb = static_cast<std::size_t>(sub[0].data() - input.data());
      const std::size_t me = mb + sub[0].size();
      pos = me > pos ? me : pos + 1;
      if (rule.kind == Kind::kBlock) {
        add(from + mb, from + me, true, false);
        continue;
      }
      if (rule.kind == Kind::kYamlBlock) {
        yaml_block(from, to);
        continue;
      }
      std::string_view key;
      if (rule.kind == Kind::kKeyValue && sub[1].data())
        key = std::string_view(sub[1].data(), sub[1].size());
      for (int g = 0; g < n && g < 32; ++g) {
        if (!(rule.groups & (1u << g)) || !sub[g].data() || sub[g].empty()) continue;
        const std::size_t b = static_cast<std::size_t>(sub[g].data() - text.data());
        std::string_view v(sub[g].data(), sub[g].size());
        if (rule.min_classes && char_classes(v) < rule.min_classes) continue;
        if (rule.kind == Kind::kKeyValue) {
          if (placeholder_value(key, v)) continue;
          if (weak_key(key) && char_classes(v) < 2 && v.size() < 16) continue;
        }
        add(b, b + v.size(), false, true);
      }
    }
  };

  // Line by line: one RE2::Set scan of the line for every keyword, then only the rules those
  // keywords enable. Should the keyword DFA run out of memory, every line rule runs (slower,
  // never weaker).
  std::vector<char> seen(impl_->by_keyword.size(), 0);
  std::vector<char> queued(rules.size(), 0);
  std::vector<int> hits, todo;
  std::size_t ls = 0;
  while (ls < text.size()) {
    const void* nl = std::memchr(text.data() + ls, '\n', text.size() - ls);
    const std::size_t le =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    if (le > ls) {
      hits.clear();
      todo.clear();
      RE2::Set::ErrorInfo info{};
      const re2::StringPiece line(text.data() + ls, le - ls);
      if (impl_->keywords->Match(line, &hits, &info)) {
        for (int k : hits) {
          seen[static_cast<std::size_t>(k)] = 1;
          for (int id : impl_->by_keyword[static_cast<std::size_t>(k)])
            if (!queued[static_cast<std::size_t>(id)]) {
              queued[static_cast<std::size_t>(id)] = 1;
              todo.push_back(id);
            }
        }
      } else if (info.kind != RE2::Set::kNoError) {
        std::fill(seen.begin(), seen.end(), 1);
        for (std::size_t id = 0; id < rules.size(); ++id)
          if (!rules[id].whole_text) todo.push_back(static_cast<int>(id));
      }
      std::sort(todo.begin(), todo.end());
      for (int id : todo) {
        queued[static_cast<std::size_t>(id)] = 0;
        run(rules[static_cast<std::size_t>(id)], ls, le);
      }
    }
    ls = le + 1;
  }
  // Whole-text rules: key blocks (when their keyword occurred on some line) and rules without
  // keywords (the extra patterns among them).
  for (const auto& rule : rules) {
    if (!rule.whole_text) continue;
    bool go = rule.keyword_ids.empty();
    for (int k : rule.keyword_ids) go = go || seen[static_cast<std::size_t>(k)];
    if (go) run(rule, 0, text.size());
  }
}

std::string Redactor::redact(std::string_view text) const {
  RedactionSession session(*this);
  return session.redact(text);
}

void Redactor::redact_all(std::vector<std::string>& texts) const {
  RedactionSession session(*this);
  session.redact_all(texts);
}

// An alternation of the learned secrets, longest first (RE2 prefers the earlier alternative),
// so one linear scan finds every occurrence of all of them.
struct RedactionSession::Matcher {
  std::unique_ptr<RE2> re;
};

RedactionSession::RedactionSession(const Redactor& redactor) : redactor_(&redactor) {}
RedactionSession::RedactionSession(RedactionSession&&) noexcept = default;
RedactionSession& RedactionSession::operator=(RedactionSession&&) noexcept = default;
RedactionSession::~RedactionSession() = default;

void RedactionSession::learn(std::vector<std::string>& values) {
  bool grew = false;
  for (auto& v : values) {
    if (secrets_.size() >= kMaxSecrets) break;
    if (std::find(secrets_.begin(), secrets_.end(), v) != secrets_.end()) continue;
    secrets_.push_back(std::move(v));
    grew = true;
  }
  values.clear();
  if (!grew && matcher_) return;
  matcher_.reset();
  if (secrets_.empty()) return;
  std::vector<const std::string*> sorted;
  for (const auto& s : secrets_) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->size() > b->size(); });
  std::string pattern;
  for (const auto* s : sorted) {
    if (!pattern.empty()) pattern += '|';
    pattern += RE2::QuoteMeta(*s);
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(pattern, opts);
  if (re->ok()) matcher_ = std::make_unique<Matcher>(Matcher{std::move(re)});
}

void RedactionSession::propagate(std::string_view text, std::vector<Redactor::Span>& spans) const {
  if (secrets_.empty()) return;
  if (matcher_) {
    const re2::StringPiece input(text.data(), text.size());
    re2::StringPiece m;
    std::size_t pos = 0;
    while (pos < text.size() &&
           matcher_->re->Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
      const std::size_t b = static_cast<std::size_t>(m.data() - text.data());
      spans.push_back({b, b + m.size(), false});
      pos = b + std::max<std::size_t>(m.size(), 1);
    }
    return;
  }
  // The alternation did not compile (too large): one search per secret.
  for (const auto& s : secrets_) {
    for (std::size_t p = text.find(s); p != std::string_view::npos; p = text.find(s, p + s.size()))
      spans.push_back({p, p + s.size(), false});
  }
}

std::string RedactionSession::render(std::string_view text,
                                     std::vector<Redactor::Span>& spans) const {
  if (spans.empty()) return std::string(text);
  std::sort(spans.begin(), spans.end(),
            [](const auto& a, const auto& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0, i = 0;
  while (i < spans.size()) {
    std::size_t b = spans[i].begin, e = spans[i].end;
    bool block = spans[i].block;
    // Overlapping and touching spans become one mask.
    for (++i; i < spans.size() && spans[i].begin <= e; ++i) {
      e = std::max(e, spans[i].end);
      block = block || spans[i].block;
    }
    if (b < at) b = at;
    out.append(text.substr(at, b - at));
    out += block ? "[REDACTED PRIVATE KEY]" : "[REDACTED]";
    at = e;
  }
  out.append(text.substr(at));
  return out;
}

void RedactionSession::redact_all(std::vector<std::string>& texts) {
  std::vector<std::vector<Redactor::Span>> spans(texts.size());
  std::vector<std::string> learned;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    redactor_->find(texts[i], spans[i], learned);
    learn(learned);
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    propagate(texts[i], spans[i]);
    texts[i] = render(texts[i], spans[i]);
  }
}

std::string RedactionSession::redact(std::string_view text) {
  std::vector<Redactor::Span> spans;
  std::vector<std::string> learned;
  redactor_->find(text, spans, learned);
  learn(learned);
  propagate(text, spans);
  return render(text, spans);
}

std::string replace_all_longest_first(std::string_view text,
                                      std::vector<std::pair<std::string, std::string>> pairs) {
  std::erase_if(pairs, [](const auto& p) { return p.first.empty(); });
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  // Whole names only: "app" is not masked inside "application" or "app-v2".
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  };
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool hit = false;
    const bool starts = i == 0 || !name_char(text[i - 1]);
    for (const auto& [from, to] : pairs) {
      if (!starts) break;
      const std::size_t end = i + from.size();
      if (text.compare(i, from.size(), from) == 0 &&
          (end >= text.size() || !name_char(text[end]))) {
        out += to;
        i += from.size();
        hit = true;
        break;
      }
    }
    if (!hit) out += text[i++];
  }
  return out;
}

std::string NameMasker::add(const std::string& name, const std::string& kind) {
  if (name.empty()) return name;
  std::size_t n = 1;
  for (const auto& [existing, placeholder] : pairs_) {
    if (existing == name) return placeholder;
    if (placeholder.rfind(kind + "-", 0) == 0) ++n;
  }
  pairs_.emplace_back(name, kind + "-" + std::to_string(n));
  return pairs_.back().second;
}

std::string NameMasker::mask(std::string_view text) const {
  return replace_all_longest_first(text, pairs_);
}

std::string NameMasker::unmask(std::string_view text) const {
  std::vector<std::pair<std::string, std::string>> back;
  for (const auto& [name, placeholder] : pairs_) back.emplace_back(placeholder, name);
  return replace_all_longest_first(text, back);
}

}  // namespace podmedic::diagnosis
