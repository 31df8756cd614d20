#include "sim/objects.h"

#include "core/parse.h"
#include "core/units.h"

namespace podmedic::sim {
namespace {

using json = nlohmann::json;

json managed_field(const std::string& manager, const std::string& op, std::int64_t now, int i) {
  // The shape of real managedFields: FieldsV1 trees that are large and useless to a watcher.
  json f = {
      {"f:metadata", {{"f:labels", {{".", json::object()}, {"f:app", json::object()}}}}},
      {"f:spec",
       {{"f:containers",
         {{"k:{\"name\":\"app\"}",
           {{".", json::object()},
            {"f:env",
             {{".", json::object()},
              {"k:{\"name\":\"LOG_LEVEL\"}",
               {{".", json::object()}, {"f:name", json::object()}, {"f:value", json::object()}}}}},
            {"f:image", json::object()},
            {"f:imagePullPolicy", json::object()},
            {"f:name", json::object()},
            {"f:ports",
             {{".", json::object()},
              {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}",
               {{".", json::object()},
                {"f:containerPort", json::object()},
                {"f:protocol", json::object()}}}}},
            {"f:resources",
             {{".", json::object()},
              {"f:limits", {{".", json::object()}, {"f:memory", json::object()}}},
              {"f:requests", {{".", json::object()}, {"f:cpu", json::object()}}}}},
            {"f:terminationMessagePath", json::object()},
            {"f:terminationMessagePolicy", json::object()}}}}},
        {"f:dnsPolicy", json::object()},
        {"f:enableServiceLinks", json::object()},
        {"f:restartPolicy", json::object()},
        {"f:schedulerName", json::object()},
        {"f:securityContext", json::object()},
        {"f:terminationGracePeriodSeconds", json::object()}}}};
  if (i % 2 == 1) {
    f = {{"f:status",
          {{"f:conditions",
            {{"k:{\"type\":\"ContainersReady\"}",
              {{".", json::object()},
               {"f:lastProbeTime", json::object()},
               {"f:lastTransitionTime", json::object()},
               {"f:status", json::object()},
               {"f:type", json::object()}}},
             {"k:{\"type\":\"Initialized\"}",
              {{".", json::object()},
               {"f:lastProbeTime", json::object()},
               {"f:lastTransitionTime", json::object()},
               {"f:status", json::object()},
               {"f:type", json::object()}}},
             {"k:{\"type\":\"Ready\"}",
              {{".", json::object()},
               {"f:lastProbeTime", json::object()},
               {"f:lastTransitionTime", json::object()},
               {"f:status", json::object()},
               {"f:type", json::object()}}}}},
           {"f:containerStatuses", json::object()},
           {"f:hostIP", json::object()},
           {"f:phase", json::object()},
           {"f:podIP", json::object()},
           {"f:podIPs",
            {{".", json::object()},
             {"k:{\"ip\":\"10.244.1.23\"}", {{".", json::object()}, {"f:ip", json::object()}}}}},
           {"f:startTime", json::object()}}}};
  }
  return {{"manager", manager},          {"operation", op},          {"apiVersion", "v1"},
          {"time", format_rfc3339(now)}, {"fieldsType", "FieldsV1"}, {"fieldsV1", f}};
}

json& container_status(json& pod, const std::string& c) {
  for (const char* key : {"containerStatuses", "initContainerStatuses"}) {
    auto& list = pod["status"][key];
    if (!list.is_array()) continue;
    for (auto& cs : list) {
      if (cs["name"] == c) return cs;
    }
  }
  auto& list = pod["status"]["containerStatuses"];
  if (!list.is_array()) list = json::array();
  list.push_back({{"name", c},
                  {"restartCount", 0},
                  {"ready", false},
                  {"started", false},
                  {"image", ""},
                  {"imageID", ""},
                  {"state", json::object()},
                  {"lastState", json::object()}});
  return list.back();
}

void set_condition(json& pod, const std::string& type, bool status, std::int64_t now,
                   const std::string& reason = "", const std::string& message = "") {
  auto& conds = pod["status"]["conditions"];
  if (!conds.is_array()) conds = json::array();
  for (auto& c : conds) {
    if (c["type"] == type) {
      std::string s = status ? "True" : "False";
      if (c["status"] != s && now != 0) c["lastTransitionTime"] = format_rfc3339(now);
      c["status"] = s;
      if (!reason.empty())
        c["reason"] = reason;
      else
        c.erase("reason");
      if (!message.empty())
        c["message"] = message;
      else
        c.erase("message");
      return;
    }
  }
  json c = {{"type", type},
            {"status", status ? "True" : "False"},
            {"lastProbeTime", nullptr},
            {"lastTransitionTime", format_rfc3339(now)}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  conds.push_back(c);
}

// The kubelet's Ready and ContainersReady conditions follow the containers: true only when
// every container of the spec reports ready, else naming the unready ones.
void sync_ready(json& pod, std::int64_t now) {
  std::string unready;
  const json* spec = parse::get_array(pod["spec"], "containers");
  std::size_t ready_count = 0;
  if (const json* list = parse::get_array(pod["status"], "containerStatuses")) {
    for (const auto& cs : *list) {
      if (parse::bool_or(cs, "ready", false)) {
        ++ready_count;
      } else {
        unready += (unready.empty() ? "" : " ") + parse::string_or(cs, "name");
      }
    }
  }
  const bool ready = unready.empty() && ready_count == (spec ? spec->size() : 0);
  std::string msg = ready ? "" : "containers with unready status: [" + unready + "]";
  set_condition(pod, "Ready", ready, now, ready ? "" : "ContainersNotReady", msg);
  set_condition(pod, "ContainersReady", ready, now, ready ? "" : "ContainersNotReady", msg);
}

}  // namespace

std::string pod_uid(const json& pod) {
  const json* meta = parse::get_object(pod, "metadata");
  return meta ? parse::string_or(*meta, "uid") : "";
}

json make_pod(const PodTemplate& t, std::int64_t now) {
  json labels = {{"app", t.deployment.empty() ? t.name : t.deployment}};
  if (!t.deployment.empty()) labels["pod-template-hash"] = t.rs_hash;
  for (const auto& [k, v] : t.labels) labels[k] = v;
  json env = json::array();
  env.push_back({{"name", "LOG_LEVEL"}, {"value", "info"}});
  for (int i = 0; i < t.extra_env; ++i) {
    env.push_back({{"name", "FEATURE_FLAG_" + std::to_string(i)},
                   {"value", "enabled-for-tenant-group-" + std::to_string(i * 7919 % 1000)}});
  }
  json managed = json::array();
  for (int i = 0; i < t.managed_field_entries; ++i) {
    managed.push_back(
        managed_field(i % 2 ? "kubelet" : "kube-controller-manager", "Update", now, i));
  }
  for (const auto& [k, v] : t.env) env.push_back({{"name", k}, {"value", v}});
  json meta = {{"name", t.name},
               {"namespace", t.ns},
               {"labels", labels},
               {"creationTimestamp", format_rfc3339(now)},
               {"annotations", {{"kubectl.kubernetes.io/restartedAt", format_rfc3339(now)}}},
               {"managedFields", managed}};
  if (!t.deployment.empty()) {
    meta["generateName"] = t.deployment + "-" + t.rs_hash + "-";
    meta["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                            {"kind", "ReplicaSet"},
                                            {"name", t.deployment + "-" + t.rs_hash},
                                            {"uid", "rs-uid-" + t.deployment},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
  } else if (!t.controller.empty()) {
    meta["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"},
                                            {"kind", t.controller_kind},
                                            {"name", t.controller},
                                            {"uid", "uid-" + t.controller},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
  }
  json container = {
      {"name", t.container},
      {"image", t.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})},
      {"env", env},
      {"resources",
       {{"limits", {{"memory", t.memory_limit}}},
        {"requests", {{"cpu", t.cpu_request}, {"memory", t.memory_limit}}}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", 8080}, {"scheme", "HTTP"}}},
        {"initialDelaySeconds", 5},
        {"periodSeconds", 10},
        {"timeoutSeconds", 1},
        {"successThreshold", 1},
        {"failureThreshold", 3}}},
      {"volumeMounts",
       json::array({{{"name", "kube-api-access-x7k2p"},
                     {"readOnly", true},
                     {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"}}})},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"}};
  if (!t.args.empty()) container["args"] = t.args;
  json spec = {
      {"containers", json::array({container})},
      {"restartPolicy", "Always"},
      {"terminationGracePeriodSeconds", 30},
      {"dnsPolicy", "ClusterFirst"},
      {"serviceAccountName", "default"},
      {"serviceAccount", "default"},
      {"nodeName", t.node},
      {"securityContext", json::object()},
      {"schedulerName", "default-scheduler"},
      {"tolerations", json::array({{{"key", "node.kubernetes.io/not-ready"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}},
                                   {{"key", "node.kubernetes.io/unreachable"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}}})},
      {"volumes",
       json::array({{{"name", "kube-api-access-x7k2p"},
                     {"projected",
                      {{"defaultMode", 420},
                       {"sources",
                        json::array({{{"serviceAccountToken",
                                       {{"expirationSeconds", 3607}, {"path", "token"}}}},
                                     {{"configMap",
                                       {{"name", "kube-root-ca.crt"},
                                        {"items", json::array({{{"key", "ca.crt"},
                                                                {"path", "ca.crt"}}})}}}}})}}}}})},
      {"priority", 0},
      {"enableServiceLinks", true},
      {"preemptionPolicy", "PreemptLowerPriority"}};
  json pod = {{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", meta},
              {"spec", spec},
              {"status",
               {{"phase", "Running"},
                {"hostIP", "172.18.0.2"},
                {"podIP", "10.244.1.23"},
                {"podIPs", json::array({{{"ip", "10.244.1.23"}}})},
                {"startTime", format_rfc3339(now)},
                {"qosClass", "Burstable"},
                {"conditions", json::array()}}}};
  set_condition(pod, "PodReadyToStartContainers", true, now);
  set_condition(pod, "Initialized", true, now);
  set_condition(pod, "PodScheduled", true, now);
  auto& cs = container_status(pod, t.container);
  cs["image"] = t.image;
  cs["imageID"] =
      t.image + "@sha256:4f1c3e9a0b7d2e5f6a8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a";
  cs["containerID"] = "containerd://" + std::string(64, 'a');
  set_running(pod, t.container, now);
  return pod;
}

json make_replicaset(const std::string& ns, const std::string& deployment, const std::string& hash,
                     int replicas, std::int64_t now) {
  return {{"kind", "ReplicaSet"},
          {"apiVersion", "apps/v1"},
          {"metadata",
           {{"name", deployment + "-" + hash},
            {"namespace", ns},
            {"uid", "rs-uid-" + deployment},
            {"creationTimestamp", format_rfc3339(now)},
            {"labels", {{"app", deployment}, {"pod-template-hash", hash}}},
            {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                              {"kind", "Deployment"},
                                              {"name", deployment},
                                              {"uid", "deploy-uid-" + deployment},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", deployment}, {"pod-template-hash", hash}}}}}}},
          {"status",
           {{"replicas", replicas}, {"readyReplicas", replicas}, {"availableReplicas", replicas}}}};
}

json make_deployment(const std::string& ns, const std::string& name, int replicas,
                     std::int64_t now) {
  return {{"kind", "Deployment"},
          {"apiVersion", "apps/v1"},
          {"metadata",
           {{"name", name},
            {"namespace", ns},
            {"uid", "deploy-uid-" + name},
            {"creationTimestamp", format_rfc3339(now)},
            {"labels", {{"app", name}}}}},
          {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", name}}}}}}},
          {"status",
           {{"replicas", replicas}, {"readyReplicas", replicas}, {"availableReplicas", replicas}}}};
}

json make_namespace(const std::string& name, std::int64_t now) {
  return {{"kind", "Namespace"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", name},
            {"creationTimestamp", format_rfc3339(now)},
            {"labels", {{"kubernetes.io/metadata.name", name}}}}},
          {"spec", {{"finalizers", json::array({"kubernetes"})}}},
          {"status", {{"phase", "Active"}}}};
}

namespace {
// The pod's metadata, or an empty object: builders read it with the parse getters.
const json& metadata_of(const json& pod) {
  static const json kEmpty = json::object();
  const json* m = parse::get_object(pod, "metadata");
  return m ? *m : kEmpty;
}

std::string node_of(const json& pod) {
  const json* spec = parse::get_object(pod, "spec");
  return spec ? parse::string_or(*spec, "nodeName") : "";
}

// What every event about a pod carries: its name (<pod>.<suffix>), the pod as involvedObject,
// reason, message and type. Callers add the reporting fields of their source.
json pod_event(const json& pod, const std::string& suffix, const std::string& type,
               const std::string& reason, const std::string& message, std::int64_t now) {
  const json& m = metadata_of(pod);
  return {{"kind", "Event"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", parse::string_or(m, "name") + "." + suffix},
            {"namespace", parse::string_or(m, "namespace")},
            {"creationTimestamp", format_rfc3339(now)}}},
          {"involvedObject",
           {{"kind", "Pod"},
            {"namespace", parse::string_or(m, "namespace")},
            {"name", parse::string_or(m, "name")},
            {"uid", parse::string_or(m, "uid")},
            {"apiVersion", "v1"}}},
          {"reason", reason},
          {"message", message},
          {"type", type}};
}

std::string hex(unsigned long long v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", v);
  return buf;
}
}  // namespace

json make_pod_event(const json& pod, const std::string& container, const std::string& type,
                    const std::string& reason, const std::string& message, int count,
                    std::int64_t now) {
  const json& m = metadata_of(pod);
  json ev = pod_event(
      pod, hex(std::hash<std::string>{}(reason + container + parse::string_or(m, "name"))), type,
      reason, message, now);
  ev["involvedObject"]["resourceVersion"] = parse::string_or(m, "resourceVersion");
  ev["involvedObject"]["fieldPath"] = "spec.containers{" + container + "}";
  ev["count"] = count;
  ev["firstTimestamp"] = format_rfc3339(now - 60 * (count - 1));
  ev["lastTimestamp"] = format_rfc3339(now);
  ev["eventTime"] = nullptr;
  ev["source"] = {{"component", "kubelet"}, {"host", node_of(pod)}};
  ev["reportingComponent"] = "kubelet";
  ev["reportingInstance"] = node_of(pod);
  return ev;
}

json make_scheduler_event(const json& pod, const std::string& type, const std::string& reason,
                          const std::string& message, std::int64_t now) {
  json ev = pod_event(pod, hex(static_cast<unsigned long long>(now) * 1000000007ull), type, reason,
                      message, now);
  ev["firstTimestamp"] = nullptr;
  ev["lastTimestamp"] = nullptr;
  ev["eventTime"] = format_rfc3339(now).substr(0, 19) + ".123456Z";
  ev["series"] = {{"count", 2},
                  {"lastObservedTime", format_rfc3339(now).substr(0, 19) + ".654321Z"}};
  ev["action"] = "Scheduling";
  ev["reportingComponent"] = "default-scheduler";
  ev["reportingInstance"] = "default-scheduler-control-plane";
  ev["source"] = json::object();
  return ev;
}

void set_running(json& pod, const std::string& c, std::int64_t now) {
  auto& cs = container_status(pod, c);
  cs["state"] = {{"running", {{"startedAt", format_rfc3339(now)}}}};
  cs["ready"] = true;
  cs["started"] = true;
  pod["status"]["phase"] = "Running";
  sync_ready(pod, now);
}

void set_terminated(json& pod, const std::string& c, int exit_code, const std::string& reason,
                    std::int64_t now) {
  auto& cs = container_status(pod, c);
  cs["state"] = {{"terminated",
                  {{"exitCode", exit_code},
                   {"reason", reason},
                   {"startedAt", format_rfc3339(now - 30)},
                   {"finishedAt", format_rfc3339(now)},
                   {"containerID", "containerd://" + std::string(64, 'b')}}}};
  cs["ready"] = false;
  cs["started"] = false;
  sync_ready(pod, now);
}

void set_crashloop(json& pod, const std::string& c, int exit_code, const std::string& reason,
                   std::int64_t now) {
  auto& cs = container_status(pod, c);
  int restarts = parse::integer_or<int>(cs, "restartCount", 0) + 1;
  int backoff = std::min(300, 10 << std::min(restarts - 1, 5));
  cs["lastState"] = {{"terminated",
                      {{"exitCode", exit_code},
                       {"reason", reason},
                       {"startedAt", format_rfc3339(now - 30)},
                       {"finishedAt", format_rfc3339(now)},
                       {"containerID", "containerd://" + std::string(64, 'c')}}}};
  cs["restartCount"] = restarts;
  const json& m = metadata_of(pod);
  std::string delay = backoff >= 60
                          ? std::to_string(backoff / 60) + "m" + std::to_string(backoff % 60) + "s"
                          : std::to_string(backoff) + "s";
  cs["state"] = {
      {"waiting",
       {{"reason", "CrashLoopBackOff"},
        {"message", "back-off " + delay + " restarting failed container=" + c + " pod=" +
                        parse::string_or(m, "name") + "_" + parse::string_or(m, "namespace") + "(" +
                        parse::string_or(m, "uid") + ")"}}}};
  cs["ready"] = false;
  cs["started"] = false;
  sync_ready(pod, now);
}

void set_waiting(json& pod, const std::string& c, const std::string& reason,
                 const std::string& message, std::int64_t now) {
  auto& cs = container_status(pod, c);
  cs["state"] = {{"waiting", {{"reason", reason}}}};
  if (!message.empty()) cs["state"]["waiting"]["message"] = message;
  cs["ready"] = false;
  cs["started"] = false;
  sync_ready(pod, now);
  if (reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "ContainerCreating") {
    pod["status"]["phase"] = "Pending";
  }
}

void set_deleting(json& pod, std::int64_t now) {
  pod["metadata"]["deletionTimestamp"] = format_rfc3339(now + 30);
  pod["metadata"]["deletionGracePeriodSeconds"] = 30;
}

json make_node(const std::string& name, bool memory_pressure, std::int64_t pressure_since) {
  auto cond = [&](const char* type, bool status, const char* reason, const char* message) {
    return json{{"type", type},
                {"status", status ? "True" : "False"},
                {"lastHeartbeatTime", format_rfc3339(pressure_since)},
                {"lastTransitionTime", format_rfc3339(pressure_since)},
                {"reason", reason},
                {"message", message}};
  };
  return {
      {"kind", "Node"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", name},
        {"uid", "node-uid-" + name},
        {"creationTimestamp", format_rfc3339(pressure_since - 86400)},
        {"labels", {{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}}}}},
      {"spec", {{"podCIDR", "10.244.1.0/24"}}},
      {"status",
       {{"capacity", {{"cpu", "4"}, {"memory", "16374584Ki"}, {"pods", "110"}}},
        {"allocatable", {{"cpu", "4"}, {"memory", "16272184Ki"}, {"pods", "110"}}},
        {"conditions",
         json::array(
             {cond("MemoryPressure", memory_pressure,
                   memory_pressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                   memory_pressure ? "kubelet has insufficient memory available"
                                   : "kubelet has sufficient memory available"),
              cond("DiskPressure", false, "KubeletHasNoDiskPressure",
                   "kubelet has no disk pressure"),
              cond("PIDPressure", false, "KubeletHasSufficientPID",
                   "kubelet has sufficient PID available"),
              cond("Ready", true, "KubeletReady", "kubelet is posting ready status")})},
        {"nodeInfo",
         {{"kubeletVersion", "v1.33.0"}, {"containerRuntimeVersion", "containerd://1.7.27"}}}}}};
}

json make_node_event(const std::string& node, const std::string& type, const std::string& reason,
                     const std::string& message, std::int64_t now) {
  return {
      {"kind", "Event"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", node + "." + hex(std::hash<std::string>{}(reason + node + std::to_string(now)))},
        {"namespace", "default"},
        {"creationTimestamp", format_rfc3339(now)}}},
      {"involvedObject", {{"kind", "Node"}, {"name", node}, {"uid", node}, {"apiVersion", "v1"}}},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"count", 1},
      {"firstTimestamp", format_rfc3339(now)},
      {"lastTimestamp", format_rfc3339(now)},
      {"eventTime", nullptr},
      {"source", {{"component", "kubelet"}, {"host", node}}},
      {"reportingComponent", "kubelet"},
      {"reportingInstance", node}};
}

json make_pod_template(const PodTemplate& t) {
  json pod = make_pod(t, 0);
  json spec = pod["spec"];
  spec.erase("nodeName");
  json labels = pod["metadata"]["labels"];
  return {{"metadata", {{"creationTimestamp", nullptr}, {"labels", labels}}}, {"spec", spec}};
}

json make_revision_replicaset(const PodTemplate& t, int revision, int replicas,
                              std::int64_t created) {
  json rs = make_replicaset(t.ns, t.deployment, t.rs_hash, replicas, created);
  rs["metadata"]["uid"] = "rs-uid-" + t.deployment + "-" + t.rs_hash;
  rs["metadata"]["annotations"] = {
      {"deployment.kubernetes.io/desired-replicas", std::to_string(replicas)},
      {"deployment.kubernetes.io/max-replicas", std::to_string(replicas + 1)},
      {"deployment.kubernetes.io/revision", std::to_string(revision)}};
  rs["spec"]["template"] = make_pod_template(t);
  return rs;
}

json make_controller_revision(const PodTemplate& t, const std::string& owner_kind,
                              const std::string& owner, const std::string& hash, int revision,
                              std::int64_t created) {
  json tmpl = make_pod_template(t);
  tmpl["$patch"] = "replace";
  json labels = tmpl["metadata"]["labels"];
  labels["controller-revision-hash"] = owner + "-" + hash;
  return {{"kind", "ControllerRevision"},
          {"apiVersion", "apps/v1"},
          {"metadata",
           {{"name", owner + "-" + hash},
            {"namespace", t.ns},
            {"uid", "cr-uid-" + owner + "-" + hash},
            {"creationTimestamp", format_rfc3339(created)},
            {"labels", labels},
            {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                              {"kind", owner_kind},
                                              {"name", owner},
                                              {"uid", "uid-" + owner},
                                              {"controller", true},
                                              {"blockOwnerDeletion", true}}})}}},
          {"data", {{"spec", {{"template", tmpl}}}}},
          {"revision", revision}};
}

}  // namespace podmedic::sim
