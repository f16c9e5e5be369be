# cmesh's images, built from the same scripts as CI:
#   docker build --target pilot -t cmesh/pilot:0.1.0 .    the control plane (charts/cmesh)
#   docker build --target proxy -t cmesh/proxy:0.1.0 .    the sidecar: cmesh-proxy and cmesh-init
# VERSION (default: the project's version in CMakeLists.txt, which is also the charts' appVersion
# and so their default image tag) goes into the OCI labels.
#
# test/install/dockerfile_test.cc checks without a Docker engine that every shared library each
# runtime binary needs comes from a package its stage installs, and that every binary a stage
# copies is one the build produces. Keep the package lists in step with `ldd build/bin/...`.
ARG VERSION=0.1.0

# ---- build: scripts/build is scripts/setup (the Debian packages) then the CMake build --------------
FROM debian:12 AS build
WORKDIR /src
COPY . .
# The debug info of RelWithDebInfo is dropped from what the runtime stages copy.
RUN CMESH_BUILD_DIR=/build scripts/build cmesh-pilot cmesh-proxy cmesh-init \
    && strip --strip-debug /build/bin/cmesh-pilot /build/bin/cmesh-proxy /build/bin/cmesh-init

# ---- proxy: the sidecar image. cmesh-proxy runs as UID 1337 (the injected container sets it too);
# cmesh-init, from the same image, runs as root with NET_ADMIN and NET_RAW through the injected init
# container's securityContext. iptables: cmesh-init runs iptables-save/-restore (ip6tables-* for
# IPv6). bash and coreutils: the injected preStop hook (bash's /dev/tcp, timeout, cat, sleep).
FROM debian:12-slim AS proxy
ARG VERSION
LABEL org.opencontainers.image.title="cmesh-proxy" \
      org.opencontainers.image.description="cmesh's sidecar proxy (cmesh-proxy) and traffic capture (cmesh-init)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.vendor="cmesh"
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
         libabsl20220623 libc-ares2 libc6 libgcc-s1 libgrpc++1.51 libgrpc29 libnghttp2-14 \
         libprotobuf32 libre2-9 libssl3 libstdc++6 zlib1g \
         iptables bash coreutils \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/cmesh-proxy /usr/local/bin/cmesh-proxy
COPY --from=build /build/bin/cmesh-init /usr/local/bin/cmesh-init
USER 1337:1337
EXPOSE 15001 15006 15021 15090
ENTRYPOINT ["/usr/local/bin/cmesh-proxy"]

# ---- pilot: the control plane, non-root (charts/cmesh runs it as 1337 with a read-only root) ------
FROM debian:12-slim AS pilot
ARG VERSION
LABEL org.opencontainers.image.title="cmesh-pilot" \
      org.opencontainers.image.description="cmesh's control plane: xDS, sidecar injection and validation webhooks" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.vendor="cmesh"
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
         libabsl20220623 libbrotli1 libc-ares2 libc6 libcpprest2.10 libgcc-s1 libgrpc++1.51 \
         libgrpc29 libprotobuf32 libre2-9 libssl3 libstdc++6 libyaml-cpp0.7 zlib1g \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/cmesh-pilot /usr/local/bin/cmesh-pilot
USER 1337:1337
EXPOSE 15010 15014 15017 8080
ENTRYPOINT ["/usr/local/bin/cmesh-pilot"]
