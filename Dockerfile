# The mlps-scan image, built from the wheel (no network access is needed at scan time, only to the peers).
#
#   docker build -t mlps-scan:0.1.0 .
#   docker run --rm -v "$PWD:/work" -w /work mlps-scan:0.1.0 scan --config scan.yaml --level 3 --out out/
#
# Stage 1 builds the wheel from this checkout; stage 2 installs only that wheel (and its dependencies) into a
# slim Python with nmap (host discovery) and runs as an unprivileged user. deploy/kubernetes/ runs it as an
# Indexed Job; deploy/ci/ as a CI matrix.
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY collectors ./collectors
COPY checks ./checks
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends nmap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/mlps_scan-*.whl && rm -rf /wheels
RUN useradd --system --uid 10001 --create-home --home-dir /home/mlps mlps
USER 10001
WORKDIR /home/mlps
# the scan history lives in the user's data dir; a Job passes --no-history or mounts a volume here
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["mlps-scan"]
CMD ["--help"]
