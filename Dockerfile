# The Omniroute image: one image for every app service (`omniroute worker`, `omniroute gateway`,
# `omniroute db upgrade`); docker-compose.yml picks the command. Configuration comes only from
# OMNIROUTE_* environment variables.
FROM python:3.13-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY models ./models
COPY sourcing ./sourcing
COPY store ./store
COPY integrations ./integrations
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY gateway ./gateway
COPY omniroute ./omniroute
RUN pip install . && useradd --system --uid 10001 --home-dir /app omniroute

USER omniroute
ENTRYPOINT ["omniroute"]
CMD ["--help"]
