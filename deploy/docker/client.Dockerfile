# The sair command line (no libtorch, no engine): connects to the cluster's gateway.
# Build from the repository root: docker build -f deploy/docker/client.Dockerfile -t sairgrid/client .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY build/ build/
COPY src/Sair.Grains.Abstractions/ src/Sair.Grains.Abstractions/
COPY src/Sair.Client/ src/Sair.Client/
RUN dotnet publish src/Sair.Client/Sair.Client.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
USER $APP_UID
ENTRYPOINT ["dotnet", "sair.dll"]
