"""Wangnong settings, read from the environment.

With no environment at all this gives the embedded set-up that `make run`
serves: SQLite under var/, media on the local disk, the local-memory cache,
Celery tasks run in-process and e-mail printed to the console. Every
production part is switched on by an environment variable (see
.env.example and the README); no code changes are needed.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F403  (Oscar's defaults, overridden below)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(str(env_file))

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The fallback key only exists so the embedded demo starts without set-up;
# `manage.py check --deploy` flags it (config/checks.py: it is long enough to
# pass Django's own check), and production sets DJANGO_SECRET_KEY.
INSECURE_DEV_KEY = "wangnong-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_DEV_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1
SITE_DOMAIN = env("SITE_DOMAIN", default="127.0.0.1:8000")
SITE_NAME = env("SITE_NAME", default="网农")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    # Our own apps come before Oscar's and Wagtail's so their templates win.
    # The project package: its deploy checks (config/checks.py), and form
    # widget templates that must win over Oscar's (config/templates/).
    "config.apps.SiteConfig",
    "divisions.apps.DivisionsConfig",
    "cooperatives.apps.CooperativesConfig",
    "stations.apps.StationsConfig",
    "logistics.apps.LogisticsConfig",
    "cms.apps.CmsConfig",
    "privacy.apps.PrivacyConfig",
    # Oscar: forked apps live in shop/, the rest is stock.
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "shop.checkout.apps.CheckoutConfig",
    "shop.address.apps.AddressConfig",
    "shop.shipping.apps.ShippingConfig",
    "shop.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "shop.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "shop.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "shop.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "shop.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "shop.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "shop.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "treebeard",
    "django_tables2",
    "sorl.thumbnail",
    # Wagtail. Its search app keeps its own label (wagtailsearch); haystack is
    # not installed at all: product search is ours (shop/search).
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # Hardening (see the Security section below).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.csp.WangnongCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Gzip for rendered pages (static files are whitenoise's, pre-compressed);
    # outside the page cache, so cached pages are compressed too.
    "config.compression.TextGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Anonymous pages from the cache (config/page_cache.py): after Locale and
    # Csrf, whose parts of a served page (language, CSRF cookie) it relies on.
    "config.page_cache.PageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "config.two_factor.TwoFactorMiddleware",
    "config.ratelimit_middleware.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

_template_context_processors = [
    "django.template.context_processors.debug",
    "django.template.context_processors.request",
    "django.contrib.auth.context_processors.auth",
    "django.template.context_processors.i18n",
    "django.contrib.messages.context_processors.messages",
    "oscar.apps.search.context_processors.search_form",
    # Oscar's unread-notification count, lazily (an eager COUNT per page).
    "config.context_processors.notifications",
    "oscar.apps.checkout.context_processors.checkout",
    "oscar.core.context_processors.metadata",
    "wagtail.contrib.settings.context_processors.settings",
    "csp.context_processors.nonce",
]
_template_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": _template_context_processors,
            # Cached loader unless DEBUG: re-parsing templates on every
            # request is one of the reasons a stock Oscar shop is slow.
            "loaders": _template_loaders
            if DEBUG
            else [("django.template.loaders.cached.Loader", _template_loaders)],
        },
    }
]

# --- Database ---------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wangnong.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the in-process worker and the web server
    # write to the embedded database without "database is locked" errors.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # PostgreSQL JIT-compiles a query whose estimated cost passes
    # jit_above_cost; the catalogue's and the portals' counts over thousands
    # of products pass it and spent ~300 ms compiling for ~20 ms of work
    # (issue 9's benchmark). Short web queries never gain from it.
    if not env.bool("DATABASE_JIT", default=False):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = (options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# --- Cache ------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="wn"),
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Anonymous visitors' pages kept in the cache for this long (0: off); see
# config/page_cache.py for what is kept and what makes it out of date.
WANGNONG_PAGE_CACHE_SECONDS = env.int("WANGNONG_PAGE_CACHE_SECONDS", default=300)

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No broker: tasks run in-process, synchronously, in the web process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers any task not acknowledged within this many seconds; every
# countdown and ETA the project uses must stay below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_TIMEZONE = "Asia/Shanghai"
# Periodic work (run `celery -A config beat`, or in-process under `make run`:
# config/inprocess_beat.py). Every interval stays below the visibility timeout.
CELERY_BEAT_SCHEDULE: dict = {
    # Delivery details of orders completed long ago are anonymised
    # (privacy/tasks.py, WANGNONG_DELIVERY_RETENTION_DAYS), in batches.
    "privacy-anonymise-old-deliveries": {
        "task": "privacy.anonymise_old_deliveries",
        "schedule": 1800.0,
    },
    "logistics-resend-outbox": {"task": "logistics.resend_outbox", "schedule": 60.0},
    "logistics-close-consolidations": {
        "task": "logistics.close_consolidations",
        "schedule": 300.0,
    },
    "logistics-poll-tracking": {"task": "logistics.poll_tracking", "schedule": 900.0},
    "logistics-purge-webhook-nonces": {
        "task": "logistics.purge_webhook_nonces",
        "schedule": 1800.0,
    },
    # Yesterday's Stripe balance transactions against the ledger, once a day:
    # asked every half hour, the first run of the day does it (intervals, not
    # crontabs, as config/inprocess_beat.py runs intervals).
    "payment-reconcile-stripe": {"task": "payment.reconcile_stripe", "schedule": 1800.0},
    # Settlement statements for the period just ended (weekly, Sunday cut-off):
    # idempotent, so every half hour; the first run after the cut-off makes
    # them and a missed run is made up (shop/payment/tasks.py).
    "payment-generate-statements": {"task": "payment.generate_statements", "schedule": 1800.0},
    # Online payments paid but not placed, or refused but not yet refunded
    # (shop/payment/complete_payment.py): retried every minute.
    "payment-complete-pending": {"task": "payment.complete_pending", "schedule": 60.0},
    # Wagtail's scheduled publishing (go-live / expiry dates on pages):
    # cms/tasks.py runs `manage.py publish_scheduled` every ten minutes.
    "cms-publish-scheduled": {"task": "cms.publish_scheduled", "schedule": 600.0},
    # The statistics page's figures (cms/statistics.py), a snapshot every
    # quarter of an hour; the page says "as of" when.
    "cms-compute-statistics": {"task": "cms.compute_statistics", "schedule": 900.0},
    # Complaints a cooperative did not answer in time go to platform staff
    # (cooperatives/complaints.py), checked every quarter of an hour.
    "cooperatives-flag-overdue-complaints": {
        "task": "cooperatives.flag_overdue_complaints",
        "schedule": 900.0,
    },
}
# Task modules autodiscovery (which only finds tasks.py) would miss.
CELERY_IMPORTS = [
    "config.messaging",
    "cooperatives.import_tasks",
    "cooperatives.notifications",
    "stations.notifications",
    "logistics.tasks",
    "shop.payment.reconciliation",
    "shop.payment.completion_tasks",
    "cooperatives.complaint_tasks",
    "privacy.tasks",
]

# --- Auth -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out address or account is refused before any
    # password is checked (config/axes_handler.py; web logins, which pass
    # the request, only).
    "config.axes_handler.RequestOnlyAxesBackend",
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "customer:login"
LOGIN_REDIRECT_URL = "customer:summary"

# --- Language, time, money -------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
OSCAR_DEFAULT_CURRENCY = "CNY"
OSCAR_CURRENCY_FORMAT = {"CNY": {"format": "¥#,##0.00", "currency_digits": True}}
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Let Django serve MEDIA_URL itself (development, tests); production serves
# media from the storage (S3 or the web server).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
if AWS_STORAGE_BUCKET_NAME:
    # S3-compatible media (django-storages). Credentials come only from the
    # environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default=None)
    AWS_S3_CUSTOM_DOMAIN = env("AWS_S3_CUSTOM_DOMAIN", default=None)
    AWS_QUERYSTRING_AUTH = env.bool("AWS_QUERYSTRING_AUTH", default=False)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    # Uploaded files opened directly are downloaded, never rendered as a page
    # (the bucket sends no nosniff); <img>/<video> ignore this header.
    AWS_S3_OBJECT_PARAMETERS = {"ContentDisposition": "attachment"}
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
# Thumbnails are generated by sorl-thumbnail into the default storage; its
# key-value store lives in the cache so several hosts share it.
THUMBNAIL_KVSTORE = "sorl.thumbnail.kvstores.cached_db_kvstore.KVStore"
THUMBNAIL_FORMAT = "WEBP"
THUMBNAIL_PRESERVE_FORMAT = False
# sorl's default is 95: a 180 px listing photo would be about 25 KB instead
# of 3–7 KB (bench/page_weight.py). 60 is WebP's sweet spot for thumbnails.
THUMBNAIL_QUALITY = env.int("THUMBNAIL_QUALITY", default=60)
# Hashed names (CompressedManifestStaticFilesStorage) get whitenoise's
# ten-year immutable caching on their own; this is only for a file asked for
# by its plain name, which changes in place at the next deploy.
WHITENOISE_MAX_AGE = 600 if not DEBUG else 0

# --- E-mail -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="网农 <noreply@wangnong.example>")
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Text messages (config/sms.py) -----------------------------------------
# A dotted path to the SMS gateway class; the default only logs messages.
SMS_BACKEND = env("SMS_BACKEND", default="config.sms.ConsoleBackend")

# --- Stripe (used by the payment issue; empty keys hide online payment) ---
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Seconds a webhook signature stays valid, and seconds a call to Stripe may
# take (connect, read) before it counts as unreachable.
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=10.0)
# Stripe.js, loaded only on the card payment page.
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# Online methods offered at checkout (when the keys above are set), in order.
WANGNONG_ONLINE_PAYMENT_METHODS = env.list(
    "WANGNONG_ONLINE_PAYMENT_METHODS", default=["wechat_pay", "alipay", "card"]
)
# Settlement: a delivered line is settled once this many days have passed
# without a return; statements are produced every period (days).
WANGNONG_RETURN_WINDOW_DAYS = env.int("WANGNONG_RETURN_WINDOW_DAYS", default=7)
WANGNONG_SETTLEMENT_PERIOD_DAYS = env.int("WANGNONG_SETTLEMENT_PERIOD_DAYS", default=7)
# The most (yuan) a cooperative may refund on one order by itself; more
# needs platform staff.
WANGNONG_COOP_REFUND_LIMIT = env("WANGNONG_COOP_REFUND_LIMIT", default="200")
# Consumer complaints (cooperatives/complaints.py): hours a cooperative has
# to answer, and days after delivery (or the order) a buyer may complain.
WANGNONG_COMPLAINT_DEADLINE_HOURS = env.int("WANGNONG_COMPLAINT_DEADLINE_HOURS", default=48)
WANGNONG_COMPLAINT_WINDOW_DAYS = env.int("WANGNONG_COMPLAINT_WINDOW_DAYS", default=15)
# Reports of listings (cooperatives/reports.py): anonymous reports per
# address (a keyed hash, counted in the cache) per window.
WANGNONG_REPORT_IP_LIMIT = env.int("WANGNONG_REPORT_IP_LIMIT", default=10)
WANGNONG_REPORT_IP_WINDOW_SECONDS = env.int("WANGNONG_REPORT_IP_WINDOW_SECONDS", default=3600)
# Delivery details (recipient name, phone, street line) of orders delivered
# or cancelled this many days ago are anonymised (privacy/tasks.py).
WANGNONG_DELIVERY_RETENTION_DAYS = env.int("WANGNONG_DELIVERY_RETENTION_DAYS", default=180)

# --- Oscar ------------------------------------------------------------------
OSCAR_SHOP_NAME = _("网农")
OSCAR_SHOP_TAGLINE = _("天津农产品网上销售")
OSCAR_HOMEPAGE = "/"
OSCAR_SLUG_ALLOW_UNICODE = True
OSCAR_ALLOW_ANON_CHECKOUT = True
# Reviews: signed-in buyers who received the product; staff approve them
# at /dashboard/reviews/ before they show (shop/catalogue/reviews.py).
OSCAR_ALLOW_ANON_REVIEWS = False
OSCAR_MODERATE_REVIEWS = True
OSCAR_PRODUCTS_PER_PAGE = 20
OSCAR_THUMBNAILER = "oscar.core.thumbnails.SorlThumbnail"
OSCAR_MISSING_IMAGE_URL = "image_not_found.jpg"
OSCAR_INITIAL_ORDER_STATUS = "pending"
OSCAR_INITIAL_LINE_STATUS = "pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "pending": ("processing", "cancelled"),
    "processing": ("shipped", "cancelled", "refunded"),
    "shipped": ("delivered", "refunded"),
    "delivered": ("refunded",),
    "cancelled": (),
    # Every line refunded or cancelled (shop/payment/refunds.py).
    "refunded": (),
}
# Each order line is fulfilled by its cooperative (cooperatives/fulfilment.py):
# 待接单 → 已接单 → 已打包 → 已交寄 (handed to the carrier) → 已送达, or 已取消.
# The order follows: processing once a line is accepted, shipped once every
# line that is not cancelled has been handed over.
OSCAR_LINE_STATUS_PIPELINE = {
    "pending": ("accepted", "cancelled"),
    "accepted": ("packed", "cancelled"),
    "packed": ("shipped", "cancelled"),
    "shipped": ("delivered", "refunded"),
    "delivered": ("refunded",),
    "cancelled": (),
    # Refunded in full after hand-over (before it, a refund cancels the line).
    "refunded": (),
}
# Chinese addresses: name, detail line, the division (province..town) and a
# mobile phone; no post code required.
OSCAR_REQUIRED_ADDRESS_FIELDS = ("last_name", "line1", "phone_number")
OSCAR_SEARCH_FACETS = {"fields": {}, "queries": {}}
# haystack is not an installed app and indexes nothing: product search is
# shop/search on the database. Oscar's class loader still imports its stock
# search modules (which import haystack), and haystack refuses to import
# without this setting.
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
OSCAR_HIDDEN_FEATURES = ["wishlists"]  # reviews are on (shop/catalogue/reviews.py)


def _staff_only(user, url_name, url_args=None, url_kwargs=None) -> bool:
    """Menu access for dashboard pages outside Oscar's own dashboard apps."""
    return user.is_active and user.is_staff


# Platform staff review cooperatives (cooperatives/dashboard/).
OSCAR_DASHBOARD_NAVIGATION = OSCAR_DASHBOARD_NAVIGATION + [
    {
        "label": _("合作社审核"),
        "icon": "fas fa-user-check",
        "url_name": "cooperatives-dashboard:list",
        "access_fn": _staff_only,
    },
    # Reports of listings: dismiss, withdraw, suspend (cooperatives/report_views.py).
    {
        "label": _("商品举报"),
        "icon": "fas fa-flag",
        "url_name": "reports-dashboard:list",
        "access_fn": _staff_only,
    },
    # Village service stations (stations/dashboard/).
    {
        "label": _("服务站"),
        "icon": "fas fa-store",
        "access_fn": _staff_only,
        "children": [
            {
                "label": _("站点与覆盖率"),
                "url_name": "stations-dashboard:list",
                "access_fn": _staff_only,
            },
            {
                "label": _("新建站点"),
                "url_name": "stations-dashboard:create",
                "access_fn": _staff_only,
            },
            {
                "label": _("佣金结算"),
                "url_name": "stations-dashboard:commission",
                "access_fn": _staff_only,
            },
            {
                "label": _("锁定的包裹"),
                "url_name": "stations-dashboard:locked",
                "access_fn": _staff_only,
            },
        ],
    },
    # Shipments, carriers and shipping costs (logistics/dashboard/).
    {
        "label": _("物流"),
        "icon": "fas fa-truck",
        "access_fn": _staff_only,
        "children": [
            {
                "label": _("发货单"),
                "url_name": "logistics-dashboard:list",
                "access_fn": _staff_only,
            },
            {
                "label": _("待处理"),
                "url_name": "logistics-dashboard:attention",
                "access_fn": _staff_only,
            },
            {
                "label": _("运费报表"),
                "url_name": "logistics-dashboard:costs",
                "access_fn": _staff_only,
            },
            {
                "label": _("承运商"),
                "url_name": "logistics-dashboard:carriers",
                "access_fn": _staff_only,
            },
        ],
    },
    # Refunds and online payments needing attention (shop/payment/dashboard/).
    {
        "label": _("支付与退款"),
        "icon": "fas fa-money-bill-wave",
        "url_name": "payments-dashboard:overview",
        "access_fn": _staff_only,
    },
    # Cooperatives' and stations' settlement statements (shop/payment/dashboard/).
    {
        "label": _("结算单"),
        "icon": "fas fa-file-invoice-dollar",
        "url_name": "settlements-dashboard:list",
        "access_fn": _staff_only,
    },
]
PHONENUMBER_DEFAULT_REGION = "CN"

# --- Wagtail ----------------------------------------------------------------
WAGTAIL_SITE_NAME = "网农"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default=f"http://{SITE_DOMAIN}")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILIMAGES_FORMAT_CONVERSIONS = {"bmp": "jpeg", "webp": "webp"}
# No Gravatar avatars in the admin: they leak editors' e-mail hashes to a
# third party (unreachable from much of China) and are not an allowed img-src.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor the admin's check for new Wagtail releases (a request to wagtail.org
# from every editor's browser; upgrades go through requirements.lock).
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "xlsx", "csv", "txt", "mp4", "webm"]
# Every CMS upload goes through config/uploads.py (cms/upload_forms.py);
# SVG stays off (Wagtail refuses it unless listed here).
WAGTAILIMAGES_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_IMAGE_FORM_BASE = "cms.upload_forms.ImageForm"
WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms.upload_forms.DocumentForm"

# --- Security (production values come with DEBUG off) -----------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# No page is framed; Wagtail's preview sets SAMEORIGIN on its own views.
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
HTTPS = env.bool("DJANGO_HTTPS", default=False)
OSCAR_URL_SCHEMA = "https" if HTTPS else "http"  # links in e-mails
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    OSCAR_BASKET_COOKIE_SECURE = True
    OSCAR_RECENTLY_VIEWED_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Login lockout (django-axes, config/axes_handler.py): AXES_FAILURE_LIMIT
# wrong passwords for one account from one address, or
# WANGNONG_LOGIN_IP_FAILURE_LIMIT from one address with any usernames, lock
# logins for AXES_COOLOFF_TIME after the last failure. Attempts are database
# rows, so staff see and clear them in /django-admin/axes/.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
WANGNONG_LOGIN_IP_FAILURE_LIMIT = env.int("WANGNONG_LOGIN_IP_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"], "ip_address"]
AXES_HANDLER = "config.axes_handler.WangnongAxesHandler"
AXES_LOCKOUT_CALLABLE = "config.axes_handler.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = False  # a success must not clear the address's count
# The client's address for every limit (config/ratelimit.py client_ip):
# REMOTE_ADDR, or behind WANGNONG_TRUSTED_PROXIES reverse proxies the
# X-Forwarded-For entry the outermost of them added (never a value the
# client could have written itself).
WANGNONG_TRUSTED_PROXIES = env.int("WANGNONG_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "config.ratelimit.client_ip"
# Other limits (config/ratelimit.py): per window of seconds, registrations
# and password-reset requests per address, reset requests per e-mail
# address, wrong pickup codes per station staff member across orders, wrong
# two-factor codes per user.
WANGNONG_RATELIMIT_WINDOW = env.int("WANGNONG_RATELIMIT_WINDOW", default=3600)
WANGNONG_REGISTER_LIMIT_PER_IP = env.int("WANGNONG_REGISTER_LIMIT_PER_IP", default=10)
WANGNONG_PASSWORD_RESET_LIMIT_PER_IP = env.int("WANGNONG_PASSWORD_RESET_LIMIT_PER_IP", default=10)
WANGNONG_PASSWORD_RESET_LIMIT_PER_EMAIL = env.int(
    "WANGNONG_PASSWORD_RESET_LIMIT_PER_EMAIL", default=3
)
WANGNONG_PICKUP_STAFF_MAX_FAILURES = env.int("WANGNONG_PICKUP_STAFF_MAX_FAILURES", default=20)
WANGNONG_TOTP_MAX_FAILURES = env.int("WANGNONG_TOTP_MAX_FAILURES", default=5)

# Two-factor login for staff (django-otp TOTP, config/two_factor.py). On:
# staff without a device are sent to set one up before any page.
WANGNONG_STAFF_REQUIRE_TOTP = env.bool("WANGNONG_STAFF_REQUIRE_TOTP", default=False)
OTP_TOTP_ISSUER = SITE_NAME

# Content-Security-Policy (django-csp): scripts only from our own origin or
# with the request's nonce (Oscar's dashboard's inline scripts carry it);
# styles keep 'unsafe-inline' (style attributes in Oscar's and Wagtail's
# templates; scripts are what the policy is for). Wagtail's admin, whose
# widgets write inline scripts it cannot give a nonce, gets
# 'unsafe-inline' for scripts under /cms-admin/ only (config/csp.py).
# Stripe: Stripe.js (STRIPE_JS_URL's origin: script-src, frame-src) and the
# Alipay redirect after a form post (STRIPE_API_BASE's origin in development
# and tests: form-action) are added per request by config/csp.py, so they
# follow the settings in force.
_media_origins = [
    "/".join(url.split("/")[:3])
    for url in (MEDIA_URL, AWS_S3_ENDPOINT_URL if AWS_STORAGE_BUCKET_NAME else "")
    if url and url.startswith("http")
]
if AWS_STORAGE_BUCKET_NAME and AWS_S3_CUSTOM_DOMAIN:
    _media_origins.append(f"https://{AWS_S3_CUSTOM_DOMAIN}")
# Alipay through Stripe leaves the site by a redirect after a form post, so
# form-action allows Stripe's hosts.
_stripe_origins = ["https://hooks.stripe.com", "https://checkout.stripe.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:", *_media_origins],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF, "https://api.stripe.com"],
        "frame-src": [SELF, "https://hooks.stripe.com"],
        "media-src": [SELF, *_media_origins],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF, *_stripe_origins],
    },
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Cooperative bulk product imports (cooperatives/imports.py): the largest
# file accepted, in MB (a proxy in front must allow a little more), the most
# rows one file may hold, and how many worker processes share a large file.
WANGNONG_MAX_UPLOAD_MB = env.float("WANGNONG_MAX_UPLOAD_MB", default=10)
WANGNONG_MAX_IMPORT_MB = env.float("WANGNONG_MAX_IMPORT_MB", default=10)
WANGNONG_MAX_IMPORT_ROWS = env.int("WANGNONG_MAX_IMPORT_ROWS", default=20000)
WANGNONG_IMPORT_LANES = env.int("WANGNONG_IMPORT_LANES", default=2)

# Village service stations (stations/): delivery to the station is
# consolidated and charged this much (yuan); each assisted order earns the
# station a fixed amount plus a percentage of the goods (a station may
# override both); wrong pickup codes in a row before a parcel locks; days
# after arrival a parcel counts as uncollected; who hears of a locked parcel
# (empty: every active platform staff account with an e-mail address).
WANGNONG_STATION_DELIVERY_CHARGE = env("WANGNONG_STATION_DELIVERY_CHARGE", default="0.00")
WANGNONG_STATION_COMMISSION_FIXED = env("WANGNONG_STATION_COMMISSION_FIXED", default="1.00")
WANGNONG_STATION_COMMISSION_RATE = env("WANGNONG_STATION_COMMISSION_RATE", default="3")
# The platform's commission on cooperatives' sales, in percent, where no
# rule for the cooperative or category says otherwise (shop/payment/commission.py).
WANGNONG_COMMISSION_RATE = env("WANGNONG_COMMISSION_RATE", default="5")
WANGNONG_PICKUP_MAX_FAILURES = env.int("WANGNONG_PICKUP_MAX_FAILURES", default=5)
WANGNONG_UNCOLLECTED_DAYS = env.int("WANGNONG_UNCOLLECTED_DAYS", default=7)
WANGNONG_STATION_ALERT_EMAILS = env.list("WANGNONG_STATION_ALERT_EMAILS", default=[])

# --- Logistics (logistics/) ---------------------------------------------------
# Handing a shipment to its carrier retries with exponential back-off
# (base × 2^n seconds, capped); after the last retry the shipment is flagged
# for staff. The periodic outbox sweep re-queues hand-offs idle this long.
# All of these stay below CELERY_VISIBILITY_TIMEOUT (a test checks).
WANGNONG_HANDOFF_RETRY_BASE = env.float("WANGNONG_HANDOFF_RETRY_BASE", default=30)
WANGNONG_HANDOFF_RETRY_MAX = env.float("WANGNONG_HANDOFF_RETRY_MAX", default=600)
WANGNONG_HANDOFF_MAX_RETRIES = env.int("WANGNONG_HANDOFF_MAX_RETRIES", default=8)
WANGNONG_OUTBOX_RESEND_AFTER = env.float("WANGNONG_OUTBOX_RESEND_AFTER", default=900)
# Carrier webhooks: signed with the carrier's secret; older than this is refused.
WANGNONG_WEBHOOK_TOLERANCE = env.int("WANGNONG_WEBHOOK_TOLERANCE", default=300)
# A product with no weight is shipped as if it weighed this much (and the
# shipment says so to staff).
WANGNONG_FALLBACK_WEIGHT_G = env.int("WANGNONG_FALLBACK_WEIGHT_G", default=1000)
WANGNONG_LOGISTICS_ALERT_EMAILS = env.list("WANGNONG_LOGISTICS_ALERT_EMAILS", default=[])
# The site's own address as carriers reach it (webhook URLs given to the
# simulator and shown on the carrier page).
WANGNONG_SITE_URL = env("WANGNONG_SITE_URL", default="http://127.0.0.1:8000")
