# GPU engine silo: libtorch CUDA 12.8 (dotnet publish -p:SairTorchRuntime=cuda), self-contained so the CUDA base
# image needs no .NET install. The NVIDIA container runtime injects the driver; the image carries CUDA user space.
# Build from the repository root: docker build -f deploy/docker/engine.Dockerfile -t sairgrid/engine .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/ src/
# The embedded demo prior (Sair__Engine__GeneratorPath=embedded) is copied beside the silo by its build.
COPY priors/ priors/
RUN dotnet publish src/Sair.Silo/Sair.Silo.csproj -c Release -o /app -r linux-x64 --self-contained -p:SairTorchRuntime=cuda

FROM node:20-bookworm-slim AS models
WORKDIR /models
COPY models/package.json models/package-lock.json models/install.sh ./
RUN bash install.sh

FROM nvidia/cuda:12.8.1-base-ubuntu24.04 AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libicu74 libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home --shell /usr/sbin/nologin sair \
 && mkdir -p /data && chown sair /data
WORKDIR /app
COPY --from=build /app ./
COPY --from=models /models/node_modules /app/models/node_modules
ENV Sair__Silo__Role=engine Sair__Silo__Accelerator=gpu \
    Sair__Silo__ImageRoot=/data/images Sair__Storage__DataRoot=/data \
    NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
EXPOSE 8080 11111 30000
USER 10001
ENTRYPOINT ["/app/Sair.Silo"]
