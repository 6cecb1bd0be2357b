# One image for every carebudget process (worker, web); docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
# WeasyPrint's libraries: letters are printed to PDF (carebudget/letters).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz-subset0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY carebudget ./carebudget
COPY workflows ./workflows
COPY activities ./activities
COPY worker.py alembic.ini ./
COPY migrations ./migrations
COPY rules ./rules
RUN pip install --no-cache-dir .
ENV CAREBUDGET_RULES_DIR=/app/rules CAREBUDGET_DATA_DIR=/data
VOLUME /data
