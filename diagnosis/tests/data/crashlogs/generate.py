#!/usr/bin/env python3
"""Writes the crash-log corpus of diagnosis/tests/data/crashlogs/ (README.md there says what it is).

Each scenario below is one container log as `kubectl logs --previous` would return it for a pod in
CrashLoopBackOff or OOMKilled: start-up, the ordinary traffic and noise of that stack, the root
cause, and what follows it (shutdown cascades, goroutine dumps, ...). `cause()` marks the lines a
human would point at; they are written to <name>.expect, one per line, as they read after ANSI
colour codes are removed. Deterministic (seeded): re-running rewrites the same bytes.

    python3 diagnosis/tests/data/crashlogs/generate.py
"""
import datetime as dt
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RED, YEL, GRN, DIM, BLU, RST = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[2m", "\x1b[34m", "\x1b[0m"


class Log:
    def __init__(self, name, seed):
        self.name = name
        self.rng = random.Random(seed)
        self.t = dt.datetime(2026, 11, 30, 9, 12, 3, 114000) + dt.timedelta(seconds=seed * 37)
        self.lines = []
        self.expect = []

    def tick(self, ms=None):
        self.t += dt.timedelta(milliseconds=ms if ms is not None else self.rng.randint(1, 900))
        return self.t

    def add(self, line):
        self.lines.append(line)

    def cause(self, line, label=None):
        """A root-cause line; `label` is the part that must survive (default: the whole line)."""
        self.lines.append(line)
        self.expect.append(label if label is not None else ANSI.sub("", line))

    def iso(self, ms=None):
        return self.tick(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.t.microsecond // 1000:03d}Z"

    def hexid(self, n=16):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def uuid(self):
        h = self.hexid(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def ip(self):
        return f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(2, 254)}"

    def write(self):
        text = "\n".join(self.lines) + "\n"
        with open(os.path.join(HERE, self.name + ".log"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
        plain = ANSI.sub("", text)
        for e in self.expect:
            assert e in plain, (self.name, e)
            assert "\n" not in e, (self.name, e)
        with open(os.path.join(HERE, self.name + ".expect"), "w", encoding="utf-8") as f:
            f.write("\n".join(self.expect) + "\n")


# ---------------------------------------------------------------- per-stack line formats

def spring(L, level, logger, msg, thread="main", color=False):
    lv = f"{level:>5}"
    if color:
        c = {"ERROR": RED, "WARN": YEL, "INFO": GRN}.get(level, "")
        lv = f"{c}{lv}{RST}"
        return f"{DIM}{L.iso()}{RST} {lv} {BLU}1{RST} --- [{thread:>15}] {logger:<40} : {msg}"
    return f"{L.iso()} {lv} 1 --- [{thread:>15}] {logger:<40} : {msg}"


def pylog(L, level, logger, msg):
    t = L.tick()
    return f"{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d} {level} [{logger}] {msg}"


def celery(L, level, proc, msg):
    t = L.tick()
    return f"[{t:%Y-%m-%d %H:%M:%S},{t.microsecond // 1000:03d}: {level}/{proc}] {msg}"


def gunicorn(L, level, msg):
    t = L.tick()
    return f"[{t:%Y-%m-%d %H:%M:%S} +0000] [1] [{level}] {msg}"


def logfmt(L, level, msg, **kv):
    s = f'time="{L.iso()}" level={level} msg="{msg}"'
    for k, v in kv.items():
        s += f' {k}={json.dumps(v) if isinstance(v, str) and (" " in v or v == "") else v}'
    return s


def klog(L, level, src, msg):
    t = L.tick()
    return f"{level}{t:%m%d %H:%M:%S}.{t.microsecond:06d}       1 {src}] {msg}"


def zap(L, level, caller, msg, **kv):
    d = {"level": level, "ts": round(L.tick().timestamp(), 6), "caller": caller, "msg": msg}
    d.update(kv)
    return json.dumps(d, separators=(",", ":"))


def pino(L, level, msg, **kv):
    d = {"level": level, "time": int(L.tick().timestamp() * 1000), "pid": 1,
         "hostname": "api-6b7f9c8d4-x2k4p", "msg": msg}
    d.update(kv)
    return json.dumps(d, separators=(",", ":"))


def tracing(L, level, target, msg, color=True):
    c = {"ERROR": RED, "WARN": YEL, "INFO": GRN, "DEBUG": BLU}.get(level, "")
    t = L.tick()
    ts = f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}Z"
    if color:
        return f"{DIM}{ts}{RST} {c}{level:>5}{RST} {DIM}{target}{RST}: {msg}"
    return f"{ts} {level:>5} {target}: {msg}"


def rails(L, level, msg, req=None):
    t = L.tick()
    r = f"[{req}] " if req else ""
    return f"{level[0]}, [{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d} #1] {level:>5} -- : {r}{msg}"


def laravel(L, level, msg, ctx="[]"):
    t = L.tick()
    return f"[{t:%Y-%m-%d %H:%M:%S}] production.{level}: {msg} {ctx}"


def fpm(L, level, msg):
    t = L.tick()
    return f"[{t:%d-%b-%Y %H:%M:%S}] {level}: {msg}"


def dotnet(L, level, cat, msg):
    return [f"{level}: {cat}", f"      {msg}"]


def nginx_err(L, level, msg):
    t = L.tick()
    return f"{t:%Y/%m/%d %H:%M:%S} [{level}] 1#1: {msg}"


def access(L, status=200, path=None, ua="kube-probe/1.29"):
    t = L.tick()
    path = path or L.rng.choice(["/healthz", "/api/v1/orders", "/api/v1/cart", "/metrics", "/"])
    return (f'{L.ip()} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "GET {path} HTTP/1.1" {status} '
            f'{L.rng.randint(2, 9000)} "-" "{ua}" rt={L.rng.random():.3f}')


def envoy(L, level, comp, src, msg):
    t = L.tick()
    return f"[{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d}][1][{level}][{comp}] [{src}] {msg}"


# ---------------------------------------------------------------- noise of every kind

def warnings_900(L, fmt, n=900):
    """~900 harmless warnings of a few templates (deprecations, slow calls, retries that work)."""
    tpl = [
        lambda: fmt("WARN", f"deprecated config key 'server.max-http-header-size' used; use 'server.max-http-request-header-size' ({L.rng.randint(1, 9)} occurrences)"),
        lambda: fmt("WARN", f"slow request GET /api/v1/orders/{L.rng.randint(1000, 99999)} took {L.rng.randint(500, 4000)}ms (threshold 500ms)"),
        lambda: fmt("WARN", f"cache miss ratio {L.rng.random():.2f} above 0.25 for region {L.rng.choice(['eu-west-1', 'us-east-1'])}"),
        lambda: fmt("WARN", f"retrying request to inventory (attempt {L.rng.randint(1, 3)}/5) after 503; succeeded"),
    ]
    for _ in range(n):
        L.add(L.rng.choice(tpl)())


def harmless_info(L, fmt, n=300):
    """INFO lines with the words an error-ish regex trips over."""
    tpl = [
        lambda: fmt("INFO", f"batch {L.rng.randint(1, 99999)} processed records={L.rng.randint(1, 500)} errors=0 duration_ms={L.rng.randint(3, 800)}"),
        lambda: fmt("INFO", f"health check ok err=<nil> latency={L.rng.randint(1, 40)}ms"),
        lambda: fmt("INFO", f"consumer group rebalanced partitions=12 on_error=retry max_retries=5"),
        lambda: fmt("INFO", f"stats error_rate=0.000 p99_ms={L.rng.randint(10, 200)} rps={L.rng.randint(10, 900)}"),
        lambda: fmt("INFO", f"sync finished: 0 errors, {L.rng.randint(1, 50)} warnings, failed=0"),
        lambda: fmt("INFO", f"loaded error_pages template from /etc/app/templates/error.html"),
    ]
    for _ in range(n):
        L.add(L.rng.choice(tpl)())


def progress_bar(L, label, total, stop=None, width=30):
    """One physical line of tqdm-style \\r redraws, as a terminal would receive it."""
    stop = total if stop is None else stop
    parts = []
    for i in range(0, stop + 1, max(1, total // 80)):
        done = int(width * i / total)
        parts.append(f"{label}: {100 * i // total:3d}%|{'█' * done}{' ' * (width - done)}| {i}/{total} [{i // 7:02d}:{i % 60:02d}<{(total - i) // 7:02d}:00, {L.rng.uniform(5, 9):.2f}it/s]")
    L.add("\r".join(parts) + "\r")


def long_line(L, prefix="", size=3000):
    """A long line: a config dump, a header list, a classpath."""
    parts = []
    while len(prefix) + sum(len(p) + 1 for p in parts) < size:
        parts.append(f"/app/lib/{L.rng.choice(['spring', 'jackson', 'netty', 'micrometer', 'hibernate'])}-{L.rng.choice(['core', 'beans', 'context', 'codec', 'web'])}-{L.rng.randint(1, 6)}.{L.rng.randint(0, 20)}.{L.rng.randint(0, 9)}.jar")
    L.add(prefix + ":".join(parts))


def cascade_logfmt(L, n=400):
    """What follows a fatal error in a Go service: every worker reports its context canceled."""
    comps = ["orders-consumer", "payments-consumer", "outbox-relay", "http-server", "grpc-server",
             "metrics-pusher", "cache-warmer", "lease-renewer"]
    for i in range(n):
        c = L.rng.choice(comps)
        r = L.rng.random()
        if r < 0.6:
            L.add(logfmt(L, "error", "worker stopped", component=c, error="context canceled"))
        elif r < 0.8:
            L.add(logfmt(L, "error", "failed to commit offset", component=c, partition=L.rng.randint(0, 11), error="kafka: client has run out of available brokers to talk to: context canceled"))
        elif r < 0.9:
            L.add(logfmt(L, "error", "rpc failed", component=c, code="Canceled", error="rpc error: code = Canceled desc = context canceled"))
        else:
            L.add(logfmt(L, "warning", "connection closed", component=c, remote=f"{L.ip()}:{L.rng.randint(30000, 60000)}"))


def jvm_frames(L, pkgs, n):
    out = []
    for _ in range(n):
        p = L.rng.choice(pkgs)
        cls = p.split(".")[-1]
        out.append(f"\tat {p}.{L.rng.choice(['invoke', 'doFilter', 'handle', 'process', 'run', 'call', 'apply'])}({cls}.java:{L.rng.randint(20, 900)})")
    return out


SPRING_PKGS = ["org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory",
               "org.springframework.beans.factory.support.DefaultListableBeanFactory",
               "org.springframework.context.support.AbstractApplicationContext",
               "org.springframework.boot.SpringApplication",
               "org.springframework.beans.factory.support.ConstructorResolver",
               "org.springframework.beans.factory.support.AbstractBeanFactory"]


def spring_startup(L, app, color=False):
    L.add("")
    L.add("  .   ____          _            __ _ _")
    L.add(" /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\")
    L.add("( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\")
    L.add(" \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )")
    L.add("  '  |____| .__|_| |_|_| |_\\__, | / / / /")
    L.add(" =========|_|==============|___/=/_/_/_/")
    L.add("")
    L.add(" :: Spring Boot ::                (v3.2.5)")
    L.add("")
    f = lambda lv, lg, m: spring(L, lv, lg, m, color=color)
    L.add(f("INFO", f"com.acme.{app}.Application", f"Starting Application v1.14.2 using Java 21.0.3 with PID 1 (/app/app.jar started by app in /app)"))
    L.add(f("INFO", f"com.acme.{app}.Application", "The following 1 profile is active: \"prod\""))
    L.add(f("INFO", ".s.d.r.c.RepositoryConfigurationDelegate", "Bootstrapping Spring Data JPA repositories in DEFAULT mode."))
    L.add(f("INFO", ".s.d.r.c.RepositoryConfigurationDelegate", f"Finished Spring Data repository scanning in {L.rng.randint(50, 300)} ms. Found 14 JPA repository interfaces."))
    L.add(f("INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat initialized with port 8080 (http)"))
    L.add(f("INFO", "o.apache.catalina.core.StandardService", "Starting service [Tomcat]"))
    L.add(f("INFO", "o.apache.catalina.core.StandardEngine", "Starting Servlet engine: [Apache Tomcat/10.1.20]"))
    L.add(f("INFO", "w.s.c.ServletWebServerApplicationContext", f"Root WebApplicationContext: initialization completed in {L.rng.randint(900, 3000)} ms"))
    L.add(f("INFO", "o.hibernate.jpa.internal.util.LogHelper", "HHH000204: Processing PersistenceUnitInfo [name: default]"))
    L.add(f("INFO", "org.hibernate.Version", "HHH000412: Hibernate ORM core version 6.4.4.Final"))
    L.add(f("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Starting..."))


def spring_shutdown(L, color=False):
    f = lambda lv, lg, m: spring(L, lv, lg, m, color=color)
    L.add(f("INFO", "o.apache.catalina.core.StandardService", "Stopping service [Tomcat]"))
    L.add(f("WARN", "o.a.c.loader.WebappClassLoaderBase", "The web application [ROOT] appears to have started a thread named [HikariPool-1 housekeeper] but has failed to stop it. This is very likely to create a memory leak."))
    L.add(f("INFO", "j.LocalContainerEntityManagerFactoryBean", "Closing JPA EntityManagerFactory for persistence unit 'default'"))
    L.add(f("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Shutdown initiated..."))
    L.add(f("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Shutdown completed."))
    L.add(f("INFO", ".s.b.a.l.ConditionEvaluationReportLogger", ""))
    L.add(f("INFO", ".s.b.a.l.ConditionEvaluationReportLogger", "Error starting ApplicationContext. To display the condition evaluation report re-run your application with 'debug' enabled."))


# ---------------------------------------------------------------- Java / Spring

def java_spring():
    # 1: the database refuses connections at start-up; the last Caused by names it.
    L = Log("java-spring-db-refused", 1)
    spring_startup(L, "orders", color=True)
    long_line(L, "java.class.path=", 4000)
    for _ in range(40):
        L.add(spring(L, "WARN", "com.zaxxer.hikari.pool.PoolBase", "HikariPool-1 - Failed to validate connection org.postgresql.jdbc.PgConnection@" + L.hexid(8) + " (This connection has been closed.). Possibly consider using a shorter maxLifetime value.", color=True))
    L.add(spring(L, "ERROR", "com.zaxxer.hikari.pool.HikariPool", "HikariPool-1 - Exception during pool initialization.", color=True))
    L.add("")
    L.add("org.postgresql.util.PSQLException: Connection to postgres-primary.db.svc.cluster.local:5432 refused. Check that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.")
    L.lines += ["\tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl(ConnectionFactoryImpl.java:342)",
                "\tat org.postgresql.core.ConnectionFactory.openConnection(ConnectionFactory.java:54)",
                "\tat org.postgresql.jdbc.PgConnection.<init>(PgConnection.java:263)"]
    L.lines += jvm_frames(L, SPRING_PKGS + ["com.zaxxer.hikari.pool.HikariPool", "com.zaxxer.hikari.pool.PoolBase"], 60)
    L.cause("Caused by: java.net.ConnectException: Connection refused")
    L.lines += ["\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)",
                "\tat java.base/sun.nio.ch.Net.pollConnectNow(Net.java:672)",
                "\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:547)",
                "\t... 71 common frames omitted"]
    L.add("")
    spring_shutdown(L, color=True)
    L.write()

    # 2: a placeholder that cannot be resolved, deep in a bean creation chain.
    L = Log("java-spring-missing-property", 2)
    spring_startup(L, "payments")
    harmless_info(L, lambda lv, m: spring(L, lv, "c.a.p.scheduler.ReconcileJob", m, thread="scheduling-1"), 150)
    L.add(spring(L, "WARN", "ConfigServletWebServerApplicationContext", "Exception encountered during context initialization - cancelling refresh attempt: org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean with name 'paymentController' defined in URL [jar:nested:/app/app.jar/!BOOT-INF/classes/!/com/acme/payments/web/PaymentController.class]: Unsatisfied dependency expressed through constructor parameter 0: Error creating bean with name 'stripeClient': Injection of autowired dependencies failed"))
    L.add(spring(L, "INFO", "o.apache.catalina.core.StandardService", "Stopping service [Tomcat]"))
    L.add(spring(L, "ERROR", "o.s.boot.SpringApplication", "Application run failed"))
    L.add("")
    L.add("org.springframework.beans.factory.UnsatisfiedDependencyException: Error creating bean with name 'paymentController' defined in URL [jar:nested:/app/app.jar/!BOOT-INF/classes/!/com/acme/payments/web/PaymentController.class]: Unsatisfied dependency expressed through constructor parameter 0: Error creating bean with name 'stripeClient': Injection of autowired dependencies failed")
    L.lines += jvm_frames(L, SPRING_PKGS, 45)
    L.add("Caused by: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'stripeClient': Injection of autowired dependencies failed")
    L.lines += jvm_frames(L, SPRING_PKGS, 20)
    L.add("\t... 19 common frames omitted")
    L.cause("Caused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'stripe.api-key' in value \"${stripe.api-key}\"")
    L.lines += ["\tat org.springframework.util.PropertyPlaceholderHelper.parseStringValue(PropertyPlaceholderHelper.java:180)",
                "\tat org.springframework.util.PropertyPlaceholderHelper.replacePlaceholders(PropertyPlaceholderHelper.java:126)",
                "\t... 33 common frames omitted"]
    L.add("")
    L.write()

    # 3: the port is taken (a sidecar listens on 8080); Spring's failure analyzer says so.
    L = Log("java-spring-port-in-use", 3)
    spring_startup(L, "gateway", color=True)
    warnings_900(L, lambda lv, m: spring(L, lv, "c.a.g.filter.RateLimitFilter", m, color=True), 300)
    L.add(spring(L, "ERROR", "o.s.b.d.LoggingFailureAnalysisReporter", "", color=True))
    L.add("")
    L.add("***************************")
    L.add("APPLICATION FAILED TO START")
    L.add("***************************")
    L.add("")
    L.add("Description:")
    L.add("")
    L.cause("Web server failed to start. Port 8080 was already in use.")
    L.add("")
    L.add("Action:")
    L.add("")
    L.add("Identify and stop the process that's listening on port 8080 or configure this application to listen on another port.")
    L.add("")
    L.write()

    # 4: Kafka bootstrap servers unresolvable, hidden in 900 warnings.
    L = Log("java-spring-kafka-bootstrap", 4)
    spring_startup(L, "events")
    warnings_900(L, lambda lv, m: spring(L, lv, "o.a.k.clients.NetworkClient", m, thread="kafka-producer-network-thread"), 450)
    L.add(spring(L, "ERROR", "o.s.boot.SpringApplication", "Application run failed"))
    L.add("org.springframework.context.ApplicationContextException: Failed to start bean 'org.springframework.kafka.config.internalKafkaListenerEndpointRegistry'")
    L.lines += jvm_frames(L, SPRING_PKGS, 12)
    L.add("Caused by: org.apache.kafka.common.KafkaException: Failed to construct kafka consumer")
    L.lines += jvm_frames(L, ["org.apache.kafka.clients.consumer.KafkaConsumer", "org.springframework.kafka.core.DefaultKafkaConsumerFactory"], 8)
    L.cause("Caused by: org.apache.kafka.common.config.ConfigException: No resolvable bootstrap urls given in bootstrap.servers")
    L.lines += ["\tat org.apache.kafka.clients.ClientUtils.parseAndValidateAddresses(ClientUtils.java:89)",
                "\t... 25 common frames omitted"]
    warnings_900(L, lambda lv, m: spring(L, lv, "o.a.k.clients.NetworkClient", m, thread="kafka-producer-network-thread"), 450)
    spring_shutdown(L)
    L.write()

    # 5: a Flyway migration fails; the SQL error names the cause.
    L = Log("java-spring-flyway-migration", 5)
    spring_startup(L, "billing")
    L.add(spring(L, "INFO", "o.f.c.i.database.base.BaseDatabaseType", "Database: jdbc:postgresql://billing-db:5432/billing (PostgreSQL 16.2)"))
    L.add(spring(L, "INFO", "o.f.core.internal.command.DbValidate", "Successfully validated 42 migrations (execution time 00:00.081s)"))
    L.add(spring(L, "INFO", "o.f.core.internal.command.DbMigrate", "Current version of schema \"public\": 41"))
    L.add(spring(L, "INFO", "o.f.core.internal.command.DbMigrate", "Migrating schema \"public\" to version \"42 - add invoice index\""))
    L.add(spring(L, "ERROR", "o.f.core.internal.command.DbMigrate", "Migration of schema \"public\" to version \"42 - add invoice index\" failed! Changes successfully rolled back."))
    L.add(spring(L, "WARN", "ConfigServletWebServerApplicationContext", "Exception encountered during context initialization - cancelling refresh attempt: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'flywayInitializer' defined in class path resource [org/springframework/boot/autoconfigure/flyway/FlywayAutoConfiguration$FlywayConfiguration.class]: Migration V42__add_invoice_index.sql failed"))
    L.add(spring(L, "ERROR", "o.s.boot.SpringApplication", "Application run failed"))
    L.add("")
    L.add("org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'flywayInitializer' defined in class path resource [org/springframework/boot/autoconfigure/flyway/FlywayAutoConfiguration$FlywayConfiguration.class]: Migration V42__add_invoice_index.sql failed")
    L.add("-----------------------------------------")
    L.add("SQL State  : 42P01")
    L.add("Error Code : 0")
    L.add("Message    : ERROR: relation \"invoices\" does not exist")
    L.add("Location   : db/migration/V42__add_invoice_index.sql (/app/BOOT-INF/classes/db/migration/V42__add_invoice_index.sql)")
    L.add("Line       : 1")
    L.add("Statement  : CREATE INDEX CONCURRENTLY idx_invoices_customer ON invoices (customer_id)")
    L.lines += jvm_frames(L, SPRING_PKGS, 30)
    L.add("Caused by: org.flywaydb.core.internal.command.DbMigrate$FlywayMigrateException: Migration V42__add_invoice_index.sql failed")
    L.lines += jvm_frames(L, ["org.flywaydb.core.internal.command.DbMigrate", "org.flywaydb.core.Flyway"], 10)
    L.cause("Caused by: org.postgresql.util.PSQLException: ERROR: relation \"invoices\" does not exist")
    L.lines += ["\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2725)", "\t... 30 common frames omitted"]
    spring_shutdown(L)
    L.write()


# ---------------------------------------------------------------- JVM out of memory

def gc_lines(L, n, start_mb, end_mb, cap=1024):
    out = []
    for i in range(n):
        before = start_mb + (end_mb - start_mb) * i // max(1, n - 1)
        after = max(10, before - L.rng.randint(5, 60))
        up = 12.3 + i * 1.7
        kind = "Pause Young (Normal) (G1 Evacuation Pause)" if i % 9 else "Pause Young (Concurrent Start) (G1 Humongous Allocation)"
        out.append(f"[{up:.3f}s][info][gc] GC({i}) {kind} {before}M->{after}M({cap}M) {L.rng.uniform(1, 40):.3f}ms")
    return out


def jvm_oom():
    L = Log("jvm-oom-heap-space", 11)
    spring_startup(L, "catalog")
    L.lines += gc_lines(L, 700, 200, 1010)
    L.add(spring(L, "WARN", "o.h.engine.jdbc.spi.SqlExceptionHelper", "SQL Warning Code: 0, SQLState: 00000", thread="http-nio-8080-exec-3"))
    L.cause("Exception in thread \"http-nio-8080-exec-7\" java.lang.OutOfMemoryError: Java heap space")
    L.add("\tat java.base/java.util.Arrays.copyOf(Arrays.java:3541)")
    L.add("\tat java.base/java.util.ArrayList.grow(ArrayList.java:237)")
    L.add("\tat com.acme.catalog.export.CsvExporter.collect(CsvExporter.java:88)")
    L.lines += gc_lines(L, 30, 1019, 1023)
    L.add("Terminating due to java.lang.OutOfMemoryError: Java heap space")
    L.write()

    L = Log("jvm-oom-metaspace", 12)
    spring_startup(L, "reports", color=True)
    harmless_info(L, lambda lv, m: spring(L, lv, "c.a.r.jobs.ReportScheduler", m, thread="scheduling-1", color=True), 200)
    L.add(spring(L, "ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]", "Servlet.service() for servlet [dispatcherServlet] threw exception", thread="http-nio-8080-exec-2", color=True))
    L.cause("java.lang.OutOfMemoryError: Metaspace")
    L.add("\tat java.base/java.lang.ClassLoader.defineClass1(Native Method)")
    L.add("\tat java.base/java.lang.ClassLoader.defineClass(ClassLoader.java:1027)")
    L.add("\tat net.sf.jasperreports.engine.design.JRJavacCompiler.compileUnits(JRJavacCompiler.java:104)")
    for i in range(300):
        L.add(spring(L, "ERROR", "o.a.c.c.C.[.[.[/].[dispatcherServlet]", "Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception [Handler dispatch failed: java.lang.OutOfMemoryError: Metaspace] with root cause", thread=f"http-nio-8080-exec-{i % 10}", color=True))
    L.write()

    L = Log("jvm-oom-gc-overhead", 13)
    L.add("Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75.0 -XX:+ExitOnOutOfMemoryError")
    L.lines += gc_lines(L, 500, 300, 760, cap=768)
    for i in range(80):
        L.add(f"[{900 + i * 3.1:.3f}s][info][gc] GC({500 + i}) Pause Full (G1 Compaction Pause) {766 - i % 3}M->{765 - i % 2}M(768M) {L.rng.uniform(800, 1900):.3f}ms")
    L.cause("Exception in thread \"kafka-coordinator-heartbeat-thread | ingest\" java.lang.OutOfMemoryError: GC overhead limit exceeded")
    L.add("Terminating due to java.lang.OutOfMemoryError: GC overhead limit exceeded")
    L.write()

    L = Log("jvm-oom-direct-memory", 14)
    for i in range(600):
        L.add(f"{L.iso()} INFO  [nioEventLoopGroup-3-{i % 8}] c.a.stream.Relay - relayed frames={L.rng.randint(100, 9000)} bytes={L.rng.randint(10**5, 10**8)} errors=0")
    L.add(f"{L.iso()} WARN  [nioEventLoopGroup-3-2] i.n.channel.DefaultChannelPipeline - An exceptionCaught() event was fired, and it reached at the tail of the pipeline. It usually means the last handler in the pipeline did not handle the exception.")
    L.cause("io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 16777216 byte(s) of direct memory (used: 1056964615, max: 1073741824)")
    L.add("\tat io.netty.util.internal.PlatformDependent.incrementMemoryCounter(PlatformDependent.java:843)")
    L.add("\tat io.netty.util.internal.PlatformDependent.allocateDirectNoCleaner(PlatformDependent.java:772)")
    L.lines += jvm_frames(L, ["io.netty.buffer.PoolArena", "io.netty.buffer.PooledByteBufAllocator", "io.netty.channel.nio.NioEventLoop"], 14)
    for i in range(200):
        L.add(f"{L.iso()} WARN  [nioEventLoopGroup-3-{i % 8}] i.n.channel.DefaultChannelPipeline - An exceptionCaught() event was fired, and it reached at the tail of the pipeline. It usually means the last handler in the pipeline did not handle the exception.")
        L.add("io.netty.util.internal.OutOfDirectMemoryError: failed to allocate 16777216 byte(s) of direct memory (used: " + str(1056964615 + L.rng.randint(0, 16000000)) + ", max: 1073741824)")
    L.write()

    L = Log("jvm-oom-native-thread", 15)
    spring_startup(L, "crawler")
    for i in range(400):
        L.add(spring(L, "INFO", "c.a.crawler.FetchPool", f"spawned fetcher thread fetcher-{i} active={i + 12}", thread="dispatcher"))
    L.add("[1234.567s][warning][os,thread] Failed to start thread \"Unknown thread\" - pthread_create failed (EAGAIN) for attributes: stacksize: 1024k, guardsize: 4k, detached.")
    L.cause("Exception in thread \"dispatcher\" java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached")
    L.add("\tat java.base/java.lang.Thread.start0(Native Method)")
    L.add("\tat java.base/java.lang.Thread.start(Thread.java:1553)")
    L.add("\tat com.acme.crawler.FetchPool.spawn(FetchPool.java:61)")
    L.write()

    # Killed by the kernel: no exception, only the heap climbing in the GC log.
    L = Log("jvm-oom-silent-kill", 16)
    L.add("OpenJDK 64-Bit Server VM warning: Option UseConcMarkSweepGC was deprecated in version 9.0 and will likely be removed in a future release.")
    L.lines += gc_lines(L, 900, 100, 1900, cap=2048)
    L.expect.append(L.lines[-1])  # the heap at its limit
    L.write()


# ---------------------------------------------------------------- Python / Django / Celery

def py_frames(L, frames):
    for path, line, fn, code in frames:
        L.add(f'  File "{path}", line {line}, in {fn}')
        if code:
            L.add(f"    {code}")


def python_django():
    L = Log("python-django-db-auth", 21)
    L.add("Operations to perform:")
    L.add("  Apply all migrations: admin, auth, contenttypes, orders, sessions")
    f = lambda lv, m: pylog(L, lv, "django.request", m)
    for _ in range(450):
        L.add(f("WARNING", f"Not Found: /static/img/{L.rng.choice(['logo', 'hero', 'banner'])}-{L.rng.randint(1, 400)}.png"))
    L.add(pylog(L, "ERROR", "django.request", "Internal Server Error: /api/orders/"))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/django/db/backends/base/base.py", 289, "ensure_connection", "self.connect()"),
                  ("/usr/local/lib/python3.12/site-packages/psycopg/connection.py", 748, "connect", "raise ex.with_traceback(None)")])
    L.cause('psycopg.OperationalError: connection failed: connection to server at "10.96.12.4", port 5432 failed: FATAL:  password authentication failed for user "shop"')
    L.add("")
    L.add("The above exception was the direct cause of the following exception:")
    L.add("")
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/django/core/handlers/exception.py", 55, "inner", "response = get_response(request)"),
                  ("/app/orders/views.py", 41, "list", "return Response(self.serializer_class(qs, many=True).data)"),
                  ("/usr/local/lib/python3.12/site-packages/django/db/backends/base/base.py", 289, "ensure_connection", "self.connect()")])
    L.cause('django.db.utils.OperationalError: connection failed: connection to server at "10.96.12.4", port 5432 failed: FATAL:  password authentication failed for user "shop"')
    for _ in range(450):
        L.add(f("WARNING", f"Not Found: /static/img/{L.rng.choice(['logo', 'hero', 'banner'])}-{L.rng.randint(1, 400)}.png"))
    L.add(gunicorn(L, "INFO", "Handling signal: term"))
    L.add(gunicorn(L, "INFO", "Worker exiting (pid: 9)"))
    L.add(gunicorn(L, "INFO", "Shutting down: Master"))
    L.write()

    L = Log("python-celery-broker-refused", 22)
    L.add(" ")
    L.add(" -------------- celery@worker-5f8d7c9b6-lq2mz v5.3.6 (emerald-rush)")
    L.add("--- ***** ----- ")
    L.add("-- ******* ---- Linux-6.1.0-amd64-x86_64-with-glibc2.36 2026-11-30 09:12:03")
    L.add("- *** --- * --- ")
    L.add("- ** ---------- [config]")
    L.add("- ** ---------- .> app:         shop:0x7f2c1d3e4f50")
    L.add("- ** ---------- .> transport:   amqp://shop:**@rabbitmq:5672//")
    L.add("- ** ---------- .> results:     redis://redis:6379/1")
    L.add("- *** --- * --- .> concurrency: 4 (prefork)")
    L.add("")
    for i in range(250):
        tid = L.uuid()
        L.add(celery(L, "INFO", "MainProcess", f"Task shop.tasks.sync_inventory[{tid}] received"))
        L.add(celery(L, "INFO", f"ForkPoolWorker-{i % 4 + 1}", f"Task shop.tasks.sync_inventory[{tid}] succeeded in {L.rng.uniform(0.01, 2):.3f}s: {{'synced': {L.rng.randint(1, 90)}, 'errors': 0}}"))
    L.add(celery(L, "WARNING", "MainProcess", "consumer: Connection to broker lost. Trying to re-establish the connection..."))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/celery/worker/consumer/consumer.py", 340, "start", "blueprint.start(self)"),
                  ("/usr/local/lib/python3.12/site-packages/amqp/transport.py", 186, "_connect", "self.sock.connect(sa)")])
    L.add("ConnectionRefusedError: [Errno 111] Connection refused")
    for i in range(1, 101):
        L.add(celery(L, "ERROR", "MainProcess", f"consumer: Cannot connect to amqp://shop:**@rabbitmq:5672//: [Errno 111] Connection refused."))
        L.add(f"Trying again in {min(32, 2 * i)}.00 seconds... ({i}/100)")
        L.add("")
    L.cause(celery(L, "CRITICAL", "MainProcess", "Unrecoverable error: OperationalError('[Errno 111] Connection refused')"))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/kombu/connection.py", 472, "_reraise_as_library_errors", "raise ConnectionError(str(exc)) from exc")])
    L.cause("kombu.exceptions.OperationalError: [Errno 111] Connection refused")
    L.write()

    L = Log("python-django-improperly-configured", 23)
    for _ in range(5):
        L.add(gunicorn(L, "INFO", f"Booting worker with pid: {L.rng.randint(7, 99)}"))
    L.add(gunicorn(L, "ERROR", "Exception in worker process"))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/gunicorn/arbiter.py", 609, "spawn_worker", "worker.init_process()"),
                  ("/usr/local/lib/python3.12/site-packages/django/conf/__init__.py", 89, "__getattr__", "raise ImproperlyConfigured(\"The SECRET_KEY setting must not be empty.\")")])
    L.cause("django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.")
    L.add(gunicorn(L, "INFO", "Worker exiting (pid: 8)"))
    L.add(gunicorn(L, "ERROR", "Worker (pid:8) exited with code 3"))
    L.add(gunicorn(L, "ERROR", "Shutting down: Master"))
    L.add(gunicorn(L, "ERROR", "Reason: Worker failed to boot."))
    L.write()

    L = Log("python-gunicorn-module-not-found", 24)
    L.add(gunicorn(L, "INFO", "Starting gunicorn 22.0.0"))
    L.add(gunicorn(L, "INFO", "Listening at: http://0.0.0.0:8000 (1)"))
    L.add(gunicorn(L, "INFO", "Using worker: uvicorn.workers.UvicornWorker"))
    for w in range(4):
        L.add(gunicorn(L, "INFO", f"Booting worker with pid: {8 + w}"))
        L.add(gunicorn(L, "ERROR", "Exception in worker process"))
        L.add("Traceback (most recent call last):")
        py_frames(L, [("/usr/local/lib/python3.12/site-packages/gunicorn/arbiter.py", 609, "spawn_worker", "worker.init_process()"),
                      ("/usr/local/lib/python3.12/site-packages/gunicorn/util.py", 371, "import_app", "mod = importlib.import_module(module)"),
                      ("<frozen importlib._bootstrap>", 1387, "_gcd_import", None),
                      ("/app/api/main.py", 7, "<module>", "from rest_framework import routers")])
        if w == 0:
            L.cause("ModuleNotFoundError: No module named 'rest_framework'")
        else:
            L.add("ModuleNotFoundError: No module named 'rest_framework'")
        L.add(gunicorn(L, "INFO", f"Worker exiting (pid: {8 + w})"))
    L.add(gunicorn(L, "ERROR", "Worker (pid:8) exited with code 3"))
    L.add(gunicorn(L, "ERROR", "Shutting down: Master"))
    L.add(gunicorn(L, "ERROR", "Reason: Worker failed to boot."))
    L.write()

    # JSON logs (python-json-logger) with a raw traceback printed by the import.
    L = Log("python-json-keyerror", 25)
    for i in range(400):
        L.add(json.dumps({"asctime": f"{L.tick():%Y-%m-%d %H:%M:%S}", "levelname": "INFO", "name": "app.sync", "message": f"synced page {i}", "errors": 0, "duration_ms": L.rng.randint(3, 900), "request_id": L.uuid()}))
    L.add(json.dumps({"asctime": f"{L.tick():%Y-%m-%d %H:%M:%S}", "levelname": "INFO", "name": "app.main", "message": "reloading settings after SIGHUP"}))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/app/app/main.py", 12, "<module>", "from app.settings import settings"),
                  ("/app/app/settings.py", 31, "<module>", "STRIPE_API_KEY = os.environ[\"STRIPE_API_KEY\"]"),
                  ("<frozen os>", 679, "__getitem__", None)])
    L.cause("KeyError: 'STRIPE_API_KEY'")
    L.write()


# ---------------------------------------------------------------- Python OOM

def python_oom():
    L = Log("python-oom-rss-climb", 31)
    L.add(pylog(L, "INFO", "etl", "loading parquet partitions from s3://acme-lake/events/2026/11/"))
    for i in range(120):
        L.add(pylog(L, "INFO", "etl", f"partition {i:04d} loaded rows={L.rng.randint(10**5, 10**6)} rss={210 + i * 15}MB"))
        if i % 10 == 0:
            progress_bar(L, f"join part {i // 10}", 400)
    L.expect.append(L.lines[-1])  # the last RSS figure before the kernel's SIGKILL
    progress_bar(L, "join part 12", 400, stop=230)
    L.write()

    L = Log("python-oom-numpy-alloc", 32)
    for e in range(6):
        progress_bar(L, f"Epoch {e}", 500)
        L.add(pylog(L, "INFO", "train", f"epoch {e} loss={1 / (e + 1):.4f} val_loss={1.1 / (e + 1):.4f} errors=0"))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/app/train.py", 214, "<module>", "main()"),
                  ("/app/train.py", 188, "main", "features = np.zeros((n_rows, n_cols), dtype=np.float64)")])
    L.cause("numpy.core._exceptions._ArrayMemoryError: Unable to allocate 7.45 GiB for an array with shape (1000000, 1000) and data type float64")
    L.write()

    L = Log("python-oom-memoryerror-json", 33)
    for i in range(700):
        L.add(json.dumps({"ts": L.iso(), "level": "info", "logger": "indexer", "msg": "indexed batch", "batch": i, "docs": L.rng.randint(100, 999), "errors": 0, "rss_mb": 300 + i}))
    L.add(json.dumps({"ts": L.iso(), "level": "error", "logger": "indexer", "msg": "batch failed", "batch": 700, "error": "MemoryError()", "exc_info": "Traceback (most recent call last):\n  File \"/app/indexer.py\", line 77, in build\n    terms = sorted(set(tokens))\nMemoryError"}))
    L.expect.append("batch failed")
    L.expect.append("MemoryError()")
    for i in range(200):
        L.add(json.dumps({"ts": L.iso(), "level": "error", "logger": "indexer.shutdown", "msg": "flush aborted", "error": "context canceled", "shard": i % 16}))
    L.write()

    L = Log("python-oom-celery-sigkill", 34)
    for i in range(300):
        tid = L.uuid()
        L.add(celery(L, "INFO", "MainProcess", f"Task reports.render_pdf[{tid}] received"))
        L.add(celery(L, "INFO", f"ForkPoolWorker-{i % 4 + 1}", f"Task reports.render_pdf[{tid}] succeeded in {L.rng.uniform(0.5, 9):.3f}s: None"))
    L.cause(celery(L, "ERROR", "MainProcess", "Process 'ForkPoolWorker-3' pid:87 exited with 'signal 9 (SIGKILL)'"))
    L.add(celery(L, "ERROR", "MainProcess", "Task handler raised error: WorkerLostError('Worker exited prematurely: signal 9 (SIGKILL) Job: 1207.')"))
    L.add("Traceback (most recent call last):")
    py_frames(L, [("/usr/local/lib/python3.12/site-packages/billiard/pool.py", 1265, "mark_as_worker_lost", "raise WorkerLostError(")])
    L.cause("billiard.exceptions.WorkerLostError: Worker exited prematurely: signal 9 (SIGKILL) Job: 1207.")
    L.write()

    L = Log("python-oom-gunicorn-sigkill", 35)
    L.add(gunicorn(L, "INFO", "Starting gunicorn 22.0.0"))
    for i in range(900):
        L.add(access(L, 200, f"/predict?model=v{L.rng.randint(1, 3)}", "python-requests/2.31.0"))
    L.cause(gunicorn(L, "ERROR", "Worker (pid:27) was sent SIGKILL! Perhaps out of memory?"))
    L.add(gunicorn(L, "INFO", "Booting worker with pid: 311"))
    for i in range(40):
        L.add(access(L, 200, "/healthz"))
    L.write()


# ---------------------------------------------------------------- Go panics, klog

def goroutine_dump(L, n):
    states = ["chan receive", "select", "IO wait", "semacquire", "sync.Cond.Wait", "sleep"]
    for g in range(n):
        L.add("")
        L.add(f"goroutine {g + 2} [{L.rng.choice(states)}{', ' + str(L.rng.randint(1, 30)) + ' minutes' if L.rng.random() < 0.3 else ''}]:")
        for _ in range(L.rng.randint(4, 9)):
            fn = L.rng.choice(["runtime.gopark", "runtime.selectgo", "internal/poll.(*pollDesc).wait", "net/http.(*persistConn).readLoop",
                               "google.golang.org/grpc/internal/transport.(*http2Client).reader", "github.com/IBM/sarama.(*Broker).responseReceiver",
                               "database/sql.(*DB).connectionOpener", "go.opentelemetry.io/otel/sdk/trace.(*batchSpanProcessor).processQueue"])
            L.add(f"{fn}(0xc{L.hexid(9)}, 0x{L.hexid(2)}, 0x0)")
            L.add(f"\t/usr/local/go/src/{L.rng.choice(['runtime/proc.go', 'runtime/select.go', 'net/http/transport.go', 'internal/poll/fd_poll_runtime.go'])}:{L.rng.randint(80, 3000)} +0x{L.hexid(3)}")
        L.add(f"created by {L.rng.choice(['net/http.(*Transport).dialConn', 'google.golang.org/grpc.(*Server).serveStreams', 'main.main'])} in goroutine 1")
        L.add(f"\t/usr/local/go/src/net/http/transport.go:{L.rng.randint(80, 3000)} +0x{L.hexid(3)}")


def go_panics():
    L = Log("go-panic-nil-pointer", 41)
    for i in range(300):
        L.add(logfmt(L, "info", "request served", method="GET", path=f"/v1/orders/{L.rng.randint(1, 9999)}", status=200, err="<nil>", duration=f"{L.rng.randint(1, 90)}ms"))
    L.cause("panic: runtime error: invalid memory address or nil pointer dereference")
    L.cause("[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x9c4f1a]")
    L.add("")
    L.add("goroutine 4127 [running]:")
    L.add("github.com/acme/orders/internal/server.(*Handler).createOrder(0xc000182a00, {0x1f3a2c8, 0xc0009a6380}, 0xc000b2e000)")
    L.add("\t/src/internal/server/orders.go:87 +0x1ba")
    L.add("net/http.HandlerFunc.ServeHTTP(0xc000132f00?, {0x1f3a2c8?, 0xc0009a6380?}, 0x0?)")
    L.add("\t/usr/local/go/src/net/http/server.go:2166 +0x29")
    goroutine_dump(L, 280)
    L.write()

    L = Log("go-fatal-concurrent-map", 42)
    for i in range(200):
        L.add(zap(L, "info", "cache/refresh.go:71", "refreshed pricing cache", entries=L.rng.randint(900, 1200), errors=0))
    L.cause("fatal error: concurrent map writes")
    L.add("")
    L.add("goroutine 918 [running]:")
    L.add("github.com/acme/pricing/internal/cache.(*Cache).Put(...)")
    L.add("\t/src/internal/cache/cache.go:44 +0x8c")
    goroutine_dump(L, 150)
    L.write()

    L = Log("go-klog-rbac-forbidden", 43)
    L.add(klog(L, "I", "main.go:88", "Starting ingress-sync controller version=v0.9.3"))
    L.add(klog(L, "I", "leaderelection.go:250", "attempting to acquire leader lease ops/ingress-sync..."))
    L.add(klog(L, "I", "leaderelection.go:260", "successfully acquired lease ops/ingress-sync"))
    L.add(klog(L, "W", "reflector.go:539", "k8s.io/client-go/informers/factory.go:159: failed to list *v1.Ingress: ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:ops:ingress-sync\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"))
    L.cause(klog(L, "E", "reflector.go:147", "k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Ingress: failed to list *v1.Ingress: ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:ops:ingress-sync\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"), None)
    for i in range(300):
        L.add(klog(L, "I", "trace.go:236", f"Trace[{L.rng.randint(10**8, 10**9)}]: \"Reflector ListAndWatch\" name:k8s.io/client-go/informers/factory.go:159 (30-Nov-2026 09:1{i % 10}:00.000) (total time: {L.rng.randint(1000, 30000)}ms):"))
        if i % 3 == 0:
            L.add(klog(L, "W", "reflector.go:539", "k8s.io/client-go/informers/factory.go:159: failed to list *v1.Ingress: ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:ops:ingress-sync\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"))
            L.add(klog(L, "E", "reflector.go:147", "k8s.io/client-go/informers/factory.go:159: Failed to watch *v1.Ingress: failed to list *v1.Ingress: ingresses.networking.k8s.io is forbidden: User \"system:serviceaccount:ops:ingress-sync\" cannot list resource \"ingresses\" in API group \"networking.k8s.io\" at the cluster scope"))
    L.cause(klog(L, "F", "controller.go:131", "failed to wait for caches to sync: timed out waiting for cache to be synced"))
    L.write()

    L = Log("go-logrus-config-missing", 44)
    L.add(logfmt(L, "info", "starting notifier", version="2.4.1", commit=L.hexid(7)))
    harmless_info(L, lambda lv, m: logfmt(L, lv.lower(), m), 250)
    L.cause(logfmt(L, "fatal", "failed to load config", path="/etc/notifier/config.yaml", error="open /etc/notifier/config.yaml: no such file or directory"))
    L.write()

    L = Log("go-cascade-redis-timeout", 45)
    L.add(logfmt(L, "info", "starting worker pool", workers=8))
    harmless_info(L, lambda lv, m: logfmt(L, lv.lower(), m), 150)
    L.cause(logfmt(L, "error", "failed to connect to redis", addr="redis-master.cache:6379", error="dial tcp 10.96.0.20:6379: i/o timeout"))
    L.add(logfmt(L, "info", "shutting down", reason="dependency unavailable"))
    cascade_logfmt(L, 450)
    L.add(logfmt(L, "info", "shutdown complete", took="2.3s"))
    L.write()

    L = Log("go-zap-bind-in-use", 46)
    for i in range(120):
        L.add(zap(L, "info", "migrate/migrate.go:40", "migration applied", version=i + 1, dirty=False))
    L.add(zap(L, "info", "cmd/server/main.go:51", "listening", addr=":8080"))
    line = zap(L, "fatal", "cmd/server/main.go:54", "cannot start server", error="listen tcp :8080: bind: address already in use",
               stacktrace="main.main\n\t/src/cmd/server/main.go:54\nruntime.main\n\t/usr/local/go/src/runtime/proc.go:271")
    L.add(line)
    L.expect += ["cannot start server", "listen tcp :8080: bind: address already in use"]
    L.write()


# ---------------------------------------------------------------- Node.js

def node():
    L = Log("node-econnrefused-pg", 51)
    L.add("> api@3.2.0 start")
    L.add("> node dist/server.js")
    L.add("")
    for i in range(500):
        L.add(pino(L, 30, "request completed", reqId=f"req-{L.rng.randint(1, 99999)}", res={"statusCode": 200}, responseTime=L.rng.uniform(1, 50)))
    L.add("/app/node_modules/pg-pool/index.js:45")
    L.add("    Error.captureStackTrace(err)")
    L.add("          ^")
    L.add("")
    L.cause("Error: connect ECONNREFUSED 10.96.44.2:5432")
    L.add("    at /app/node_modules/pg-pool/index.js:45:11")
    L.add("    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)")
    L.add("    at async PgPool.query (/app/dist/db.js:22:18) {")
    L.add("  errno: -111,")
    L.add("  code: 'ECONNREFUSED',")
    L.add("  syscall: 'connect',")
    L.add("  address: '10.96.44.2',")
    L.add("  port: 5432")
    L.add("}")
    L.add("")
    L.add("Node.js v20.12.2")
    L.write()

    L = Log("node-cannot-find-module", 52)
    L.add("npm warn config production Use `--omit=dev` instead.")
    L.add("")
    L.add("> web@1.0.0 start")
    L.add("> node dist/server.js")
    L.add("")
    L.add("node:internal/modules/cjs/loader:1148")
    L.add("  throw err;")
    L.add("  ^")
    L.add("")
    L.cause("Error: Cannot find module '/app/dist/server.js'")
    L.add("    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)")
    L.add("    at Module._load (node:internal/modules/cjs/loader:986:27)")
    L.add("    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:174:12)")
    L.add("    at node:internal/main/run_main_module:28:49 {")
    L.add("  code: 'MODULE_NOT_FOUND',")
    L.add("  requireStack: []")
    L.add("}")
    L.add("")
    L.add("Node.js v20.12.2")
    L.add("npm error path /app")
    L.add("npm error command failed")
    L.add("npm error signal SIGTERM")
    L.add("npm error command sh -c node dist/server.js")
    L.write()

    L = Log("node-unhandled-rejection-mongo", 53)
    for i in range(300):
        L.add(f"{GRN}info{RST}: {DIM}[{L.iso()}]{RST} GET /api/products/{L.rng.randint(1, 900)} 200 {L.rng.randint(2, 80)}ms")
    L.add(f"{YEL}warn{RST}: {DIM}[{L.iso()}]{RST} mongoose: connection to mongo-0.mongo lost, retrying")
    msg = ("[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, "
           "or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "
           "\"MongoServerSelectionError: getaddrinfo ENOTFOUND mongo-0.mongo.shop.svc.cluster.local\".] {")
    L.add("node:internal/process/promises:289")
    L.add("            triggerUncaughtException(err, true /* fromPromise */);")
    L.add("            ^")
    L.add("")
    L.add(msg)
    L.expect.append("MongoServerSelectionError: getaddrinfo ENOTFOUND mongo-0.mongo.shop.svc.cluster.local")
    L.add("  code: 'ERR_UNHANDLED_REJECTION'")
    L.add("}")
    L.add("")
    L.add("Node.js v18.20.2")
    L.write()

    L = Log("node-heap-oom", 54)
    for i in range(400):
        L.add(pino(L, 30, "render done", page=f"/p/{L.rng.randint(1, 9999)}", ms=L.rng.randint(5, 400), heapUsedMB=300 + i))
    L.add("")
    L.add("<--- Last few GCs --->")
    L.add("")
    L.add("[1:0x6b2c9a0]  1843213 ms: Mark-Compact 2036.1 (2083.6) -> 2033.9 (2083.9) MB, 1843.77 / 0.00 ms  (average mu = 0.116, current mu = 0.020) allocation failure; scavenge might not succeed")
    L.add("[1:0x6b2c9a0]  1845106 ms: Mark-Compact 2037.0 (2084.1) -> 2035.4 (2085.1) MB, 1878.03 / 0.00 ms  (average mu = 0.061, current mu = 0.008) allocation failure; scavenge might not succeed")
    L.add("")
    L.add("")
    L.add("<--- JS stacktrace --->")
    L.add("")
    L.cause("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory")
    for i in range(1, 14):
        L.add(f"{i:2d}: 0x{L.hexid(6)} node::{L.rng.choice(['OOMErrorHandler', 'Abort', 'DumpBacktrace', 'SnapshotCreator'])}() [node]")
    L.write()

    L = Log("node-pino-config-validation", 55)
    for i in range(200):
        L.add(pino(L, 30, "loading plugin", plugin=L.rng.choice(["cors", "helmet", "rate-limit", "swagger"]), errors=0))
    line = pino(L, 60, "config validation failed", err={"type": "ValidationError", "message": "\"STRIPE_KEY\" is required", "stack": "ValidationError: \"STRIPE_KEY\" is required\n    at Object.exports.process (/app/node_modules/joi/lib/errors.js:193:16)\n    at loadConfig (/app/dist/config.js:31:15)"})
    L.add(line)
    L.expect += ["config validation failed", "\\\"STRIPE_KEY\\\" is required"]
    for i in range(60):
        L.add(pino(L, 40, "plugin closed before ready", plugin=L.rng.choice(["cors", "helmet", "rate-limit", "swagger"])))
    L.write()


# ---------------------------------------------------------------- Rust

def rust():
    L = Log("rust-unwrap-not-found", 61)
    for i in range(150):
        L.add(tracing(L, "INFO", "ingest::pipeline", f"flushed segment seq={i} bytes={L.rng.randint(10**4, 10**7)} errors=0"))
    L.add(tracing(L, "INFO", "ingest::config", "reloading tls material from /etc/ingest/tls"))
    L.add("thread 'main' panicked at src/tls.rs:42:10:")
    L.cause("called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }")
    L.add("note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
    L.write()

    L = Log("rust-sqlx-auth", 62)
    L.add(tracing(L, "INFO", "api", "starting api v0.14.0"))
    for i in range(12):
        L.add(tracing(L, "WARN", "sqlx::pool::inner", f"error=pool timed out while waiting for an open connection attempt={i + 1}"))
    L.cause(tracing(L, "ERROR", "api::db", "failed to connect to database: error returned from database: password authentication failed for user \"api\""))
    L.add("Error: pool timed out while waiting for an open connection")
    L.write()

    L = Log("rust-anyhow-config", 63)
    L.add(tracing(L, "INFO", "gateway", "reading configuration from /etc/gateway/gateway.toml", color=False))
    harmless_info(L, lambda lv, m: tracing(L, lv, "gateway::stats", m, color=False), 100)
    L.cause("Error: failed to parse /etc/gateway/gateway.toml")
    L.add("")
    L.add("Caused by:")
    L.cause("    missing field `upstream_url` at line 14 column 1")
    L.write()

    L = Log("rust-migrate-exists", 64)
    for i in range(60):
        L.add(tracing(L, "INFO", "sqlx::migrate", f"applied migration {i + 1}/61 checksum={L.hexid(16)}"))
    L.cause("Error: while executing migrations: error returned from database: relation \"users\" already exists")
    L.write()

    L = Log("rust-tokio-overflow-panic", 65)
    for i in range(300):
        L.add(tracing(L, "INFO", "billing::worker", f"invoice processed id={L.uuid()} amount_cents={L.rng.randint(100, 99999)} err=None"))
    L.cause("thread 'tokio-runtime-worker' panicked at 'attempt to subtract with overflow', src/billing/proration.rs:118:27")
    L.add("note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace")
    for i in range(250):
        L.add(tracing(L, "WARN", "hyper::proto::h1::io", f"connection closed before message completed peer={L.ip()}:{L.rng.randint(30000, 60000)}"))
        L.add(tracing(L, "ERROR", "billing::worker", f"job failed id={L.uuid()} error=channel closed"))
    L.write()


# ---------------------------------------------------------------- Ruby / Rails

def ruby_frames(L, n):
    for _ in range(n):
        L.add(f"\tfrom /usr/local/bundle/gems/{L.rng.choice(['activesupport-7.1.3', 'railties-7.1.3', 'activerecord-7.1.3', 'puma-6.4.2'])}/lib/{L.rng.choice(['active_support/lazy_load_hooks.rb', 'rails/application.rb', 'active_record/connection_handling.rb', 'puma/launcher.rb'])}:{L.rng.randint(10, 600)}:in `{L.rng.choice(['block in run_load_hooks', 'initialize!', 'establish_connection', 'run', 'each'])}'")


def ruby():
    L = Log("ruby-rails-db-not-established", 71)
    for i in range(300):
        rid = L.uuid()
        L.add(rails(L, "INFO", f"Started GET \"/products/{L.rng.randint(1, 999)}\" for {L.ip()} at {L.t:%Y-%m-%d %H:%M:%S} +0000", rid))
        L.add(rails(L, "INFO", f"Completed 200 OK in {L.rng.randint(3, 90)}ms (Views: {L.rng.randint(1, 40)}.2ms | ActiveRecord: {L.rng.randint(1, 20)}.1ms | Allocations: {L.rng.randint(1000, 9000)})", rid))
    L.add("bin/rails aborted!")
    L.cause("ActiveRecord::ConnectionNotEstablished: connection to server at \"10.96.7.3\", port 5432 failed: Connection refused (ActiveRecord::ConnectionNotEstablished)")
    L.add("\tIs the server running on that host and accepting TCP/IP connections?")
    ruby_frames(L, 25)
    L.add("Tasks: TOP => db:migrate")
    L.add("(See full trace by running task with --trace)")
    L.write()

    L = Log("ruby-rails-secret-key-base", 72)
    L.add("=> Booting Puma")
    L.add("=> Rails 7.1.3 application starting in production ")
    L.add("=> Run `bin/rails server --help` for more startup options")
    L.cause("/usr/local/bundle/gems/railties-7.1.3/lib/rails/application.rb:661:in `validate_secret_key_base': Missing `secret_key_base` for 'production' environment, set this string with `bin/rails credentials:edit` (ArgumentError)")
    ruby_frames(L, 30)
    L.add("\tfrom bin/rails:4:in `<main>'")
    L.write()

    L = Log("ruby-sidekiq-redis-refused", 73)
    for i in range(400):
        L.add(f"{L.iso()} pid=1 tid={L.hexid(4)} class=SyncJob jid={L.hexid(24)} elapsed={L.rng.uniform(0.01, 3):.3f} INFO: done")
    L.add(f"{L.iso()} pid=1 tid={L.hexid(4)} WARN: Redis::CannotConnectError: Error connecting to Redis on redis:6379 (Errno::ECONNREFUSED)")
    for i in range(150):
        L.add(f"{L.iso()} pid=1 tid={L.hexid(4)} WARN: /usr/local/bundle/gems/redis-client-0.21.1/lib/redis_client/ruby_connection.rb:{L.rng.randint(40, 160)}:in `rescue in connect'")
    L.cause(f"{L.iso()} pid=1 tid={L.hexid(4)} ERROR: Redis::CannotConnectError: Error connecting to Redis on redis:6379 (Errno::ECONNREFUSED)", "ERROR: Redis::CannotConnectError: Error connecting to Redis on redis:6379 (Errno::ECONNREFUSED)")
    L.add(f"{L.iso()} pid=1 tid={L.hexid(4)} INFO: Shutting down")
    L.add(f"{L.iso()} pid=1 tid={L.hexid(4)} INFO: Bye!")
    L.write()

    L = Log("ruby-bundler-gem-not-found", 74)
    L.cause("Could not find nokogiri-1.16.4-x86_64-linux-gnu in locally installed gems (Bundler::GemNotFound)")
    ruby_frames(L, 12)
    L.add("\tfrom /usr/local/bin/bundle:25:in `<main>'")
    L.write()

    L = Log("ruby-puma-name-error", 75)
    L.add("Puma starting in single mode...")
    L.add("* Puma version: 6.4.2 (ruby 3.3.1-p55) (\"The Eagle of Durango\")")
    L.add("*  Min threads: 5")
    L.add("*  Max threads: 5")
    L.add("*  Environment: production")
    L.add("*          PID: 1")
    L.cause("! Unable to load application: NameError: uninitialized constant PaymentsController::StripeClient")
    L.add("bundler: failed to load command: puma (/usr/local/bundle/bin/puma)")
    L.add("/app/app/controllers/payments_controller.rb:3:in `<class:PaymentsController>': uninitialized constant PaymentsController::StripeClient (NameError)")
    ruby_frames(L, 40)
    L.write()


# ---------------------------------------------------------------- PHP / Laravel

def laravel_stack(L, n):
    L.add("[stacktrace]")
    calls = ["Database\\\\Connection->runQueryCallback()", "Pipeline\\\\Pipeline->then()",
             "Container\\\\Container->build()"]
    files = ["Database/Connection.php", "Database/Connectors/Connector.php", "Pipeline/Pipeline.php",
             "Foundation/Application.php"]
    for i in range(n):
        L.add(f"#{i} /var/www/html/vendor/laravel/framework/src/Illuminate/{L.rng.choice(files)}({L.rng.randint(20, 900)}): Illuminate\\\\{L.rng.choice(calls)}")
    L.add(f"#{n} {{main}}")
    L.add("\"}")


def php():
    L = Log("php-laravel-sqlstate-refused", 81)
    for i in range(500):
        L.add(access(L, 200, f"/api/products?page={L.rng.randint(1, 40)}", "Mozilla/5.0"))
    ctx = ("{\"exception\":\"[object] (Illuminate\\\\Database\\\\QueryException(code: 2002): SQLSTATE[HY000] [2002] Connection refused "
           "(Connection: mysql, SQL: select * from `sessions` where `id` = " + L.hexid(40) + " limit 1) at /var/www/html/vendor/laravel/framework/src/Illuminate/Database/Connection.php:813)")
    line = laravel(L, "ERROR", "SQLSTATE[HY000] [2002] Connection refused (Connection: mysql, SQL: select * from `sessions` where `id` = " + L.hexid(40) + " limit 1)", ctx)
    L.add(line)
    L.expect.append("production.ERROR: SQLSTATE[HY000] [2002] Connection refused")
    laravel_stack(L, 60)
    L.write()

    L = Log("php-memory-exhausted", 82)
    for i in range(300):
        L.add(fpm(L, "NOTICE", f"[pool www] child {L.rng.randint(10, 900)} started"))
        L.add(access(L, 200, "/index.php"))
    L.cause("PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in /var/www/html/vendor/laravel/framework/src/Illuminate/Collections/Collection.php on line 1240")
    L.add(fpm(L, "WARNING", "[pool www] child 88 said into stderr: \"NOTICE: PHP message: PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted\""))
    L.add(fpm(L, "WARNING", "[pool www] child 88 exited with code 255 after 812.337104 seconds from start"))
    L.write()

    L = Log("php-fpm-bad-user", 83)
    L.add(fpm(L, "NOTICE", "configuration file /usr/local/etc/php-fpm.conf test is successful"))
    L.cause(fpm(L, "ERROR", "[pool www] cannot get uid for user 'www-data'"))
    L.add(fpm(L, "ERROR", "FPM initialization failed"))
    L.write()

    L = Log("php-laravel-no-key", 84)
    for i in range(250):
        L.add(laravel(L, "INFO", f"queue job processed job=App\\\\Jobs\\\\SendNewsletter attempts=1 errors=0 id={L.uuid()}"))
    L.cause(laravel(L, "ERROR", "No application encryption key has been specified.", "{\"exception\":\"[object] (Illuminate\\\\Encryption\\\\MissingAppKeyException(code: 0): No application encryption key has been specified. at /var/www/html/vendor/laravel/framework/src/Illuminate/Encryption/EncryptionServiceProvider.php:83)"), "production.ERROR: No application encryption key has been specified.")
    laravel_stack(L, 35)
    L.write()

    L = Log("php-uncaught-class-not-found", 85)
    L.add("[30-Nov-2026 09:12:03] NOTICE: fpm is running, pid 1")
    L.add("[30-Nov-2026 09:12:03] NOTICE: ready to handle connections")
    for i in range(200):
        L.add(access(L, 200, "/healthz"))
    L.cause("PHP Fatal error:  Uncaught Error: Class \"Redis\" not found in /var/www/html/app/Providers/CacheServiceProvider.php:21")
    L.add("Stack trace:")
    for i in range(8):
        L.add(f"#{i} /var/www/html/vendor/laravel/framework/src/Illuminate/Container/Container.php({L.rng.randint(100, 1200)}): App\\Providers\\CacheServiceProvider->register()")
    L.add("#8 {main}")
    L.add("  thrown in /var/www/html/app/Providers/CacheServiceProvider.php on line 21")
    L.write()


# ---------------------------------------------------------------- .NET

def dotnet_noise(L, n):
    for i in range(n):
        L.lines += dotnet(L, "info", "Microsoft.AspNetCore.Hosting.Diagnostics[2]", f"Request finished HTTP/1.1 GET http://orders/api/orders/{L.rng.randint(1, 9999)} - 200 - application/json;+charset=utf-8 {L.rng.uniform(1, 90):.4f}ms")


def dotnet_logs():
    L = Log("dotnet-di-unresolved", 91)
    L.lines += dotnet(L, "info", "Microsoft.Hosting.Lifetime[0]", "Application started. Press Ctrl+C to shut down.")
    dotnet_noise(L, 200)
    L.cause("Unhandled exception. System.InvalidOperationException: Unable to resolve service for type 'Shop.Payments.IPaymentGateway' while attempting to activate 'Shop.Api.Controllers.OrdersController'.")
    for i in range(20):
        L.add(f"   at Microsoft.Extensions.DependencyInjection.ActivatorUtilities.{L.rng.choice(['GetService', 'CreateInstance', 'ConstructorMatcher.CreateInstance'])}(IServiceProvider sp, Type type)")
    L.write()

    L = Log("dotnet-sql-network", 92)
    L.lines += dotnet(L, "info", "Microsoft.Hosting.Lifetime[14]", "Now listening on: http://[::]:8080")
    dotnet_noise(L, 150)
    L.lines += dotnet(L, "fail", "Microsoft.EntityFrameworkCore.Database.Connection[20004]", "An error occurred using the connection to database 'shop' on server 'tcp:sql-0.sql,1433'.")
    L.lines += dotnet(L, "fail", "Microsoft.EntityFrameworkCore.Query[10100]", "An exception occurred while iterating over the results of a query for context type 'Shop.Data.ShopContext'.")
    L.cause("      Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible. (provider: TCP Provider, error: 35 - An internal exception was caught)",
            "Microsoft.Data.SqlClient.SqlException (0x80131904): A network-related or instance-specific error occurred while establishing a connection to SQL Server.")
    L.add("       ---> System.Net.Sockets.SocketException (00000001, 11): Resource temporarily unavailable")
    for i in range(25):
        L.add(f"         at Microsoft.Data.SqlClient.SNI.SNITCPHandle.{L.rng.choice(['Connect', 'ParallelConnectAsync', 'ReadSync'])}(String serverName, Int32 port, TimeSpan timeout)")
    dotnet_noise(L, 80)
    L.write()

    L = Log("dotnet-appsettings-missing", 93)
    L.lines += dotnet(L, "crit", "Microsoft.AspNetCore.Hosting.Diagnostics[6]", "Application startup exception")
    L.cause("      System.IO.FileNotFoundException: The configuration file 'appsettings.Production.json' was not found and is not optional. The expected physical path was '/app/appsettings.Production.json'.",
            "System.IO.FileNotFoundException: The configuration file 'appsettings.Production.json' was not found and is not optional.")
    for i in range(15):
        L.add(f"         at Microsoft.Extensions.Configuration.FileConfigurationProvider.{L.rng.choice(['Load', 'HandleException'])}(Boolean reload)")
    L.add("Unhandled exception. System.IO.FileNotFoundException: The configuration file 'appsettings.Production.json' was not found and is not optional. The expected physical path was '/app/appsettings.Production.json'.")
    for i in range(15):
        L.add(f"   at Microsoft.Extensions.Configuration.FileConfigurationProvider.{L.rng.choice(['Load', 'HandleException'])}(Boolean reload)")
    L.write()

    L = Log("dotnet-http-refused", 94)
    L.lines += dotnet(L, "info", "Microsoft.Hosting.Lifetime[0]", "Hosting environment: Production")
    for i in range(400):
        L.add(f"[{L.tick():%H:%M:%S} INF] Outbox relay tick processed={L.rng.randint(0, 40)} failed=0")
    L.cause("Unhandled exception. System.Net.Http.HttpRequestException: Connection refused (identity.auth.svc.cluster.local:443)")
    L.cause(" ---> System.Net.Sockets.SocketException (111): Connection refused")
    for i in range(12):
        L.add(f"   at System.Net.Http.HttpConnectionPool.{L.rng.choice(['ConnectToTcpHostAsync', 'ConnectAsync', 'CreateHttp11ConnectionAsync'])}(String host, Int32 port, HttpRequestMessage initialRequest, Boolean async, CancellationToken cancellationToken)")
    L.add("   --- End of inner exception stack trace ---")
    L.write()

    L = Log("dotnet-out-of-memory", 95)
    for i in range(600):
        L.add(f"[{L.tick():%H:%M:%S} INF] Imported chunk {i} rows=5000 gen2Collections={i // 40} workingSetMB={200 + i * 2}")
    L.cause("Unhandled exception. System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.")
    L.add("   at System.Collections.Generic.List`1.set_Capacity(Int32 value)")
    L.add("   at Importer.ChunkReader.ReadAll() in /src/Importer/ChunkReader.cs:line 58")
    L.write()


# ---------------------------------------------------------------- nginx / envoy

def entrypoint(L):
    for s in ["/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
              "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
              "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
              "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
              "10-listen-on-ipv6-by-default.sh: info: /etc/nginx/conf.d/default.conf differs from the packaged version",
              "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
              "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
              "20-envsubst-on-templates.sh: Running envsubst on /etc/nginx/templates/default.conf.template to /etc/nginx/conf.d/default.conf",
              "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
              "/docker-entrypoint.sh: Configuration complete; ready for start up"]:
        L.add(s)


def proxies():
    L = Log("nginx-upstream-host-not-found", 101)
    entrypoint(L)
    L.cause(nginx_err(L, "emerg", "host not found in upstream \"backend-api:8080\" in /etc/nginx/conf.d/default.conf:14"))
    L.add("nginx: [emerg] host not found in upstream \"backend-api:8080\" in /etc/nginx/conf.d/default.conf:14")
    L.write()

    L = Log("nginx-unknown-directive", 102)
    entrypoint(L)
    L.add("20-envsubst-on-templates.sh: " + "proxy_set_header " * 200)
    L.cause(nginx_err(L, "emerg", "unknown directive \"proxy_passs\" in /etc/nginx/conf.d/app.conf:22"))
    L.write()

    L = Log("nginx-cert-missing", 103)
    entrypoint(L)
    for i in range(500):
        L.add(access(L, L.rng.choice([200, 200, 200, 304, 404]), L.rng.choice(["/", "/favicon.ico", "/static/app.js", "/robots.txt"]), "Mozilla/5.0 (X11; Linux x86_64)"))
    L.add(nginx_err(L, "notice", "signal process started"))
    L.add(nginx_err(L, "notice", "signal 1 (SIGHUP) received from 38, reconfiguring"))
    L.cause(nginx_err(L, "emerg", "cannot load certificate \"/etc/nginx/tls/tls.crt\": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(/etc/nginx/tls/tls.crt, r) error:10000080:BIO routines::no such file)"))
    L.write()

    L = Log("envoy-unknown-field", 104)
    for s in ["initializing epoch 0 (base id=0, hot restart version=11.104)", "statically linked extensions:",
              "  envoy.filters.http: envoy.bandwidth_limit, envoy.buffer, envoy.cors, envoy.csrf, envoy.ext_authz, envoy.ext_proc, envoy.fault, envoy.filters.http.router, envoy.grpc_web, envoy.health_check, envoy.local_rate_limit, envoy.lua, envoy.rbac, envoy.router" + ", envoy.filters.http.custom" * 80,
              "HTTP header map info:"]:
        L.add(envoy(L, "info", "main", "source/server/server.cc:430", s))
    for i in range(40):
        L.add(envoy(L, "info", "main", "source/server/server.cc:446", f"  request header map: {L.rng.randint(400, 900)} bytes: :authority,:method,:path,:protocol,:scheme,accept,accept-encoding,access-control-request-method,authorization,cache-control"))
    L.cause(envoy(L, "critical", "main", "source/server/server.cc:131", "error initializing configuration '/etc/envoy/envoy.yaml': Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT:(static_resources.clusters[0]) lb_polcy: Cannot find field.) has unknown fields"))
    L.add(envoy(L, "info", "main", "source/server/server.cc:980", "exiting"))
    L.add("Protobuf message (type envoy.config.bootstrap.v3.Bootstrap reason INVALID_ARGUMENT:(static_resources.clusters[0]) lb_polcy: Cannot find field.) has unknown fields")
    L.write()

    L = Log("envoy-xds-then-bind", 105)
    L.add(envoy(L, "info", "main", "source/server/server.cc:430", "initializing epoch 0 (base id=0, hot restart version=11.104)"))
    for i in range(300):
        L.add(envoy(L, "warning", "config", "source/common/config/grpc_stream.h:163", f"StreamAggregatedResources gRPC config stream to xds_cluster closed since {L.rng.randint(1, 900)}s ago: 14, upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: 111"))
    L.cause(envoy(L, "critical", "main", "source/server/server.cc:131", "error initializing configuration '/etc/envoy/envoy.yaml': cannot bind '0.0.0.0:10000': Address already in use"))
    L.add(envoy(L, "info", "main", "source/server/server.cc:980", "exiting"))
    L.write()


# ---------------------------------------------------------------- database clients and servers

def databases():
    L = Log("db-psql-init-auth", 111)
    for i in range(60):
        L.add(f"postgres-primary.db.svc:5432 - no response")
        L.add(f"waiting for postgres ({i + 1}/60)")
    L.add("postgres-primary.db.svc:5432 - accepting connections")
    L.cause("psql: error: connection to server at \"postgres-primary.db.svc\" (10.96.3.7), port 5432 failed: FATAL:  password authentication failed for user \"migrator\"")
    L.write()

    L = Log("db-mysql-access-denied", 112)
    for i in range(30):
        L.add(f"mysqladmin: connect to server at 'mysql' failed")
        L.add("error: 'Can't connect to MySQL server on 'mysql:3306' (111)'")
        L.add("Check that mysqld is running at mysql and that the port is 3306.")
        L.add("You can check this by doing 'telnet mysql 3306'")
    L.add("mysqld is alive")
    L.add("mysql: [Warning] Using a password on the command line interface can be insecure.")
    L.cause("ERROR 1045 (28000): Access denied for user 'app'@'10.244.1.17' (using password: YES)")
    L.write()

    L = Log("db-flyway-validate", 113)
    L.add("Flyway OSS Edition 10.11.0 by Redgate")
    L.add("See release notes here: https://rd.gt/416ObMi")
    L.add("")
    L.add("Database: jdbc:postgresql://db:5432/app (PostgreSQL 16.2)")
    L.add("Successfully validated 9 migrations (execution time 00:00.040s)")
    L.cause("ERROR: Validate failed: Migrations have failed validation")
    L.cause("Detected failed migration to version 7 (add users email index).")
    L.add("Please remove any half-completed changes then run repair to fix the schema history.")
    L.add("Need more flexibility with validation rules? Learn more: https://rd.gt/3AbJUZE")
    L.write()

    L = Log("db-mongoose-refused", 114)
    for i in range(300):
        L.add(f"{L.iso()} {GRN}info{RST} [queue] processed message id={L.hexid(24)} attempts=1 errors=0")
    for i in range(30):
        L.add(f"{L.iso()} {YEL}warn{RST} [db] MongoDB connection attempt {i + 1} failed, retrying in 2000ms")
    L.cause(f"{L.iso()} {RED}error{RST} [db] MongooseServerSelectionError: connect ECONNREFUSED 10.96.8.8:27017")
    L.add("    at _handleConnectionErrors (/app/node_modules/mongoose/lib/connection.js:875:11)")
    L.add("    at NativeConnection.openUri (/app/node_modules/mongoose/lib/connection.js:826:11) {")
    L.add("  reason: TopologyDescription {")
    L.add("    type: 'Unknown',")
    L.add("    servers: Map(1) { 'mongo:27017' => [ServerDescription] },")
    L.add("  },")
    L.add("  code: undefined")
    L.add("}")
    L.write()

    L = Log("db-redis-no-such-host", 115)
    L.add(zap(L, "info", "cmd/main.go:33", "starting session service", version="1.7.0"))
    for i in range(250):
        L.add(zap(L, "warn", "store/redis.go:58", "redis ping failed, retrying", attempt=i + 1, error="dial tcp: lookup redis-master on 10.96.0.10:53: no such host"))
    L.add(zap(L, "error", "cmd/main.go:61", "giving up on redis", error="dial tcp: lookup redis-master on 10.96.0.10:53: no such host"))
    L.expect += ["giving up on redis", "dial tcp: lookup redis-master on 10.96.0.10:53: no such host"]
    L.write()

    L = Log("db-postgres-server-ownership", 116)
    L.add("The files belonging to this database system will be owned by user \"postgres\".")
    L.add("")
    L.add("PostgreSQL Database directory appears to contain a database; Skipping initialization")
    L.add("")
    L.cause(f"{L.tick():%Y-%m-%d %H:%M:%S}.{L.t.microsecond // 1000:03d} UTC [1] FATAL:  data directory \"/var/lib/postgresql/data/pgdata\" has invalid permissions")
    L.cause(f"{L.tick():%Y-%m-%d %H:%M:%S}.{L.t.microsecond // 1000:03d} UTC [1] DETAIL:  Permissions should be u=rwx (0700) or u=rwx,g=rx (0750).")
    L.write()


def main():
    for f in os.listdir(HERE):
        if f.endswith(".log") or f.endswith(".expect"):
            os.remove(os.path.join(HERE, f))
    for gen in [java_spring, jvm_oom, python_django, python_oom, go_panics, node, rust, ruby, php,
                dotnet_logs, proxies, databases]:
        gen()
    logs = sorted(f for f in os.listdir(HERE) if f.endswith(".log"))
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in logs)
    print(f"{len(logs)} logs, {total} bytes")


if __name__ == "__main__":
    main()
