# Builds cmesh's binaries with the same scripts as a developer machine, then ships them on a slim
# Debian 12 image with only the runtime libraries: cmeshctl, cmesh-pilot and cmesh-proxy (the
# install issue gives each its own image and entrypoint). Not built here yet: no Docker engine.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/setup && CMESH_BUILD_DIR=/build cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DCMESH_BUILD_FUZZERS=OFF \
    && cmake --build /build --target cmeshctl cmesh-pilot cmesh-proxy

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libprotobuf32 libgrpc++1.51 libyaml-cpp0.7 libre2-9 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/ /usr/local/bin/
USER 1337:1337
ENTRYPOINT ["/usr/local/bin/cmeshctl"]
