"""The host's Django settings: SQLite in memory always, PostgreSQL when there is one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import make_url

#: What every test's ``TICKETKIT`` starts from; the tests choose the ``DATABASE``.
TICKETKIT: dict[str, Any] = {
    "DATABASE": "default",
    "PLUGINS": ["tests.web.django.host.plugins.RECORDER"],
    "PERSON_FOR_USER": "tests.web.django.host.people.person_for_user",
    "DELIVERY": "inline",
    "BRAND_NAME": "Leadtime Portal",
}


def postgres_database(url: str) -> dict[str, Any]:
    """``DATABASES["postgres"]`` for ``url``: Django's test database beside its database,
    named ``<name>_dj`` (made and dropped by the test run)."""
    parsed = make_url(url)
    name = parsed.database or "postgres"
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": parsed.username or "",
        "PASSWORD": parsed.password or "",
        "HOST": parsed.host or "",
        "PORT": str(parsed.port or ""),
        "ATOMIC_REQUESTS": True,
        "TEST": {"NAME": f"{name}_dj"},
    }


def settings(postgres_url: str | None) -> dict[str, Any]:
    databases: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "ATOMIC_REQUESTS": True,
        }
    }
    if postgres_url is not None:
        databases["postgres"] = postgres_database(postgres_url)
    # A database ticketkit cannot run on, for the system check; never connected to.
    databases["elsewhere"] = {"ENGINE": "django.db.backends.dummy"}
    return {
        "SECRET_KEY": "ticketkit tests, not a secret",
        "DEBUG": False,
        "USE_TZ": True,
        "ALLOWED_HOSTS": ["testserver"],
        "ROOT_URLCONF": "tests.web.django.host.urls",
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "ticketkit.web.django",
            "tests.web.django.host",
        ],
        # Django's test client skips the CSRF check unless made with enforce_csrf_checks.
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "ticketkit.web.django.middleware.TicketkitMiddleware",
        ],
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "ticketkit.web.django.views.context_processor",
                    ]
                },
            }
        ],
        "DATABASES": databases,
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "TICKETKIT": TICKETKIT,
        # The tenant whose magic links the portal's sign-in takes; each test sets its own.
        "PORTAL_TENANT": None,
    }
