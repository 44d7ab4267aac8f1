# CPU silo (coordinator role, or a CPU engine silo): libtorch-cpu, ASP.NET runtime for the probes and /metrics.
# Build from the repository root: docker build -f deploy/docker/silo.Dockerfile -t sairgrid/silo .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/ src/
# The embedded demo prior (Sair__Engine__GeneratorPath=embedded) is copied beside the silo by its build.
COPY priors/ priors/
RUN dotnet publish src/Sair.Silo/Sair.Silo.csproj -c Release -o /app -p:SairTorchRuntime=cpu

FROM node:20-bookworm-slim AS models
WORKDIR /models
COPY models/package.json models/package-lock.json models/install.sh ./
RUN bash install.sh

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
COPY --from=models /models/node_modules /app/models/node_modules
# Health, readiness and /metrics (Sair:Health:Port), silo-to-silo, client gateway.
EXPOSE 8080 11111 30000
ENV Sair__Silo__ImageRoot=/data/images Sair__Storage__DataRoot=/data
# The image's unprivileged user; /data is the only writable place it needs (local storage provider).
RUN mkdir -p /data && chown "$APP_UID" /data
USER $APP_UID
ENTRYPOINT ["dotnet", "Sair.Silo.dll"]
