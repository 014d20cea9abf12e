FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY lifeos_gql ./lifeos_gql
COPY migrations ./migrations
RUN pip install --no-cache-dir "uv>=0.9,<1" \
 && uv pip install --system --no-cache -r requirements.lock \
 && uv pip install --system --no-cache --no-deps . \
 && useradd --create-home lifeos
USER lifeos
EXPOSE 8000
CMD ["lifeos-gql", "serve", "--host", "0.0.0.0"]
