#pragma once
// Generic webhook: the JSON body of PRODUCT.md, headers Content-Type, X-Podmedic-Event,
// X-Podmedic-Delivery (stable across retries: an idempotency key) and, with a secret,
// X-Podmedic-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
#include "notifiers/notifier.h"

namespace podmedic::notifiers {

struct WebhookSettings {
  std::string name;
  std::string url;
  std::string secret;
  Routing routing;
  std::chrono::milliseconds timeout{10'000};
};

class WebhookNotifier final : public Notifier {
 public:
  explicit WebhookNotifier(WebhookSettings s) : s_(std::move(s)) {}
  const std::string& name() const override { return s_.name; }
  std::vector<Payload> render(const Rendering& r) const override;
  std::vector<Payload> render_alert(const incidents::AlertDiagnosis& a) const override;
  SendResult send(const Payload& p, const std::string& delivery_id,
                  const http::Cancel* cancel) override;

 private:
  WebhookSettings s_;
};

std::string hmac_sha256_hex(const std::string& key, const std::string& data);
nlohmann::json webhook_body(const std::string& type, const incidents::Incident& inc,
                            const std::string& facts);

}  // namespace podmedic::notifiers
