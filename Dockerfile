# syntax=docker/dockerfile:1
# podmedic container image: built on Debian 12 with the project's own Debian packages, run on a
# slim Debian 12 with only the shared libraries the binary links. Non-root, read-only-root
# friendly (state lives on the /var/lib/podmedic volume), no healthcheck (Kubernetes probes
# /healthz and /readyz). Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 .
# On amd64 the binary targets x86-64-v3 (AVX2); pass --build-arg PORTABLE=ON for older CPUs.
# The base images are build arguments (any Debian 12 works: a mirror, a digest, or a locally
# imported debootstrap rootfs as scripts/image-test.sh does). The compiler cache lives in a
# build cache mount, so a rebuild recompiles only what changed.
ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim
FROM ${BUILD_IMAGE} AS build
ARG PORTABLE=OFF
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build ccache pkg-config ca-certificates \
      libboost1.81-dev nlohmann-json3-dev libcurl4-openssl-dev prometheus-cpp-dev catch2 \
      libyaml-cpp-dev libre2-dev libssl-dev libsimdjson-dev libcli11-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODMEDIC_PORTABLE=${PORTABLE} \
      -DPODMEDIC_BENCH=OFF \
    && cmake --build /build --target podmedic \
    && strip /build/app/podmedic

FROM ${RUNTIME_IMAGE}
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libssl3 libre2-9 libprometheus-cpp-core1.0 libyaml-cpp0.7 \
      libsimdjson14 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 podmedic && useradd --uid 65532 --gid 65532 --no-create-home \
      --shell /usr/sbin/nologin podmedic \
    && install -d -o 65532 -g 65532 /var/lib/podmedic
COPY --from=build /build/app/podmedic /usr/local/bin/podmedic
USER 65532:65532
VOLUME ["/var/lib/podmedic"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/podmedic"]
CMD ["run", "--config", "/etc/podmedic/podmedic.yaml"]
