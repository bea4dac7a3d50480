# One image for every role of the Django + API Gateway WebSockets app:
#   web (default)   gunicorn config.wsgi:application -c gunicorn.conf.py
#   migrate         python manage.py migrate --noinput
#   cleanup jobs    python manage.py sweep_stale_sessions | purge_disconnected_sessions |
#                   cleanup_tokens | deliver_broadcasts
#   local emulator  python -m gateway_emulator
# docs/image.md describes the stages, the user, the read-only root and the roles.
#
# BASE_IMAGE: the official Python image by default; registry-less CI passes the local
# debootstrap image (docker/build-base-image.sh). Nothing else differs between the two:
# only `python3` is assumed on the base, and everything after runs the venv's python.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- builder: a venv from the hash-pinned lock, and the static files -------------------
# checkov:skip=CKV_DOCKER_7: the base is a build argument; its default is a versioned tag
FROM ${BASE_IMAGE} AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python3 -m venv /opt/venv

# Wheels only (psycopg[binary]): the lock installs without a compiler. Then the venv is
# trimmed: pip and setuptools go (nothing installs packages at run time), so do gettext
# sources (.po; Django reads only the compiled .mo), catalogues of languages other than
# English (the app serves LANGUAGE_CODE=en-us and has no LocaleMiddleware; TRANSLATIONS=all
# keeps them) and the botocore service models the app never calls (about 26 MB). BOTOCORE_SERVICES lists the models kept: the package's
# apigatewayv2 and apigatewaymanagementapi, acm (gateway_doctor reads the custom domain's
# certificate), and sts/sso/sso-oidc that the AWS credential chain itself uses (IRSA calls
# sts). Pass BOTOCORE_SERVICES=all to keep every model.
ARG BOTOCORE_SERVICES="acm apigatewaymanagementapi apigatewayv2 sts sso sso-oidc"
ARG TRANSLATIONS=en
COPY requirements/runtime.lock /tmp/runtime.lock
RUN /opt/venv/bin/python -m pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/runtime.lock \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools \
    && find /opt/venv -name '*.po' -delete \
    && if [ "${TRANSLATIONS}" != all ]; then \
        find /opt/venv -path '*/locale/*/LC_MESSAGES/*.mo' \
            ! -path "*/locale/${TRANSLATIONS}/*" ! -path "*/locale/${TRANSLATIONS}_*/*" -delete; \
    fi \
    && if [ "${BOTOCORE_SERVICES}" != all ]; then \
        data="$(/opt/venv/bin/python -c 'import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), "data"))')" \
        && for dir in "${data}"/*/; do \
            name="$(basename "${dir}")"; \
            case " ${BOTOCORE_SERVICES} " in *" ${name} "*) ;; *) rm -rf "${dir}" ;; esac; \
        done \
        && for service in ${BOTOCORE_SERVICES}; do \
            /opt/venv/bin/python -c "import sys, botocore.session as s; s.get_session().create_client(sys.argv[1], region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')" "${service}" \
            || exit 1; \
        done; \
    fi \
    && find /opt/venv -depth -type d -name __pycache__ -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib

COPY app/ /srv/app/

# collectstatic with the production storage (hashed, compressed names + manifest). The
# variables settings require in production get throwaway values for this one command only:
# they are not ENV, so nothing of them stays in the image. The two secrets are random per
# build: production refuses weak or published ones (app/config/production_checks.py).
WORKDIR /srv/app
RUN DJANGO_ENV=production \
    SECRET_KEY="$(/opt/venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    ALLOWED_HOSTS=build.invalid \
    WS_INTEGRATION_HOST=build.invalid \
    DATABASE_URL=postgres://build.invalid/none \
    AWS_GATEWAY_REGION_NAME=us-east-1 \
    WS_GATEWAY_SECRET="$(/opt/venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" \
    WS_PUBLIC_URL=wss://build.invalid/none \
    STATIC_ROOT=/srv/app/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 1 \
    && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /srv/app

# ---- runtime: the interpreter, the venv and the app; no compilers, no pip --------------
FROM ${BASE_IMAGE} AS runtime

ARG APP_UID=10001
ARG APP_GID=10001
RUN groupadd --system --gid "${APP_GID}" app \
    && useradd --system --no-log-init --uid "${APP_UID}" --gid app \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app

# Root owns every file, the app user only reads them: the process cannot change its own code
# even where the root filesystem is writable.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/app /srv/app

# Bytecode is compiled at build time (unchecked-hash: valid on a read-only filesystem);
# nothing is written beside the sources at run time (gunicorn.conf.py also switches off
# gunicorn's control socket, which it would create under $HOME).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:${PATH} \
    DJANGO_SETTINGS_MODULE=config.settings \
    DJANGO_ENV=production \
    STATIC_ROOT=/srv/app/staticfiles \
    PORT=8000 \
    OPS_PORT=8081

WORKDIR /srv/app
USER ${APP_UID}:${APP_GID}
EXPOSE 8000 8081

# Liveness only: gunicorn's master answers on the ops port (observability/ops_port.py), with
# no database and no request thread involved.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os,urllib.request as u; u.urlopen('http://127.0.0.1:%s/health/live/' % os.environ['OPS_PORT'], timeout=2)"]

CMD ["gunicorn", "config.wsgi:application", "-c", "gunicorn.conf.py"]

# Last, so a new revision or date does not invalidate the layers above.
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
ARG BASE_IMAGE
# wsgateway_build_info's version label.
ENV APP_VERSION="${VERSION}"
LABEL org.opencontainers.image.title="wsgateway-app" \
      org.opencontainers.image.description="Django app for real-time features over AWS API Gateway WebSockets: web, migrate, cleanup jobs and the local gateway emulator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
