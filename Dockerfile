# Build wheels with a compiler at hand (some dependencies may lack a wheel for the platform),
# then install them into a slim image that has none.
FROM python:3.11-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
COPY app ./app
COPY rest_compat ./rest_compat
COPY workers ./workers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ROUPTIMIZE_DATA_DIR=/var/lib/rouptimize
RUN useradd --system --create-home --home-dir /var/lib/rouptimize rouptimize
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels rouptimize && rm -rf /wheels
USER rouptimize
WORKDIR /var/lib/rouptimize
EXPOSE 8000
CMD ["rouptimize", "serve-api", "--host", "0.0.0.0", "--port", "8000"]
