# The Reaccreditation image: the official Airflow image plus the project's locked dependencies and code.
# docker-compose.yaml builds it (`docker compose build`); CI proves the same stack natively (scripts/stack).
FROM apache/airflow:3.3.2-python3.11

# requirements.txt is the full, fully pinned lock (scripts/lock) and pins apache-airflow==3.3.2 itself, the
# version of this base image, so installing it keeps Airflow as it is and adds exactly the tested versions.
# It is installed as the airflow user, as the official image expects; no constraints file is needed.
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir -r /opt/airflow/requirements.txt

# The project, at the same paths as the checkout (settings.PROJECT_ROOT is /opt/airflow): .dockerignore lets
# only dags/, plugins/, include/, great_expectations/ and deploy/ into the context. Compose mounts the first
# four over these copies, so a deployment updates code with `git pull` and no rebuild. The organisation
# config (personal data) is never in the image: compose mounts config/ read-only at /opt/airflow/config.
COPY --chown=airflow:0 . /opt/airflow/
RUN mkdir -p /opt/airflow/dags /opt/airflow/plugins /opt/airflow/config /opt/airflow/data

ENV PYTHONPATH=/opt/airflow/include \
    REACCREDITATION_CONFIG=/opt/airflow/config/organisation.yaml \
    REACCREDITATION_DATA=/opt/airflow/data \
    GX_ANALYTICS_ENABLED=false

# Fail the build, not the first DAG run, if the code cannot import against the installed libraries.
RUN python -c "import airflow.providers.celery, asyncpg, psycopg2, reaccreditation.orchestration.connections, reaccreditation.db"
