"""ticketkit in a Flask app (the ``ticketkit[flask]`` extra): the ``TicketKit`` extension.

``TicketKit(app)`` or ``init_app(app)`` reads the app's ``TICKETKIT_*`` config, builds the
app's ``HelpDesk`` and keeps it in ``app.extensions["ticketkit"]`` (a ``TicketKitState``);
the extension object itself holds nothing of any app, so one object serves many apps.
``ticketkit.session`` is the request's ``RequestSession`` (on ``flask.g``, closed at
teardown): the desk and the signed-in principal, resolved once per request. Errors map to
HTTP answers through ``ticketkit.web.http.problem_for``; ``flask ticketkit upgrade``
applies the migrations. See docs/flask.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar, overload
from uuid import UUID

import attrs
import click
import flask
from flask.cli import AppGroup
from flask.typing import ResponseReturnValue
from markupsafe import escape
from sqlalchemy import Engine
from werkzeug.wrappers import Response as WerkzeugResponse

from ticketkit.adapters.memory import MemoryStorage
from ticketkit.adapters.sqlalchemy import (
    SqlStorage,
    create_engine_from_url,
    upgrade,
)
from ticketkit.application.desk import HelpDesk
from ticketkit.domain.model import Actor
from ticketkit.errors import NotFound, StorageError, TicketkitError
from ticketkit.hooks.plugins import Plugins
from ticketkit.ports.repositories import Storage
from ticketkit.web import pages
from ticketkit.web.http import HttpProblem, problem_for
from ticketkit.web.pages import Brand
from ticketkit.web.principals import Principal, forget, remember, resolve, stored_actor

EXTENSION_KEY = "ticketkit"
_G_KEY = "_ticketkit_session"

#: Maps the host's signed-in user (read from the request: ``flask_login.current_user``,
#: the host's own session key) to the ticketkit person acting for them, or None.
PersonForUser = Callable[[HelpDesk], Actor | None]

#: Every config key the extension reads, with its default; any other ``TICKETKIT_`` key
#: is refused at ``init_app`` (a typo would otherwise be silently ignored).
DEFAULTS: Mapping[str, Any] = {
    "TICKETKIT_DATABASE_URL": None,
    "TICKETKIT_STORAGE": None,
    "TICKETKIT_ENGINE_OPTIONS": {},
    "TICKETKIT_AUTO_UPGRADE": False,
    "TICKETKIT_PLUGINS": (),
    "TICKETKIT_DELIVERY": "background",
    "TICKETKIT_DESK_OPTIONS": {},
    "TICKETKIT_PERSON_FOR_USER": None,
    "TICKETKIT_PERMANENT_SESSION": False,
    "TICKETKIT_ERROR_TEMPLATE": None,
    "TICKETKIT_BRAND_NAME": "Help desk",
}


@attrs.frozen(kw_only=True)
class TicketKitState:
    """What one app's ticketkit is: its desk, the engine the extension made for it (None
    for a storage handed in), and the settings read from its config."""

    extension: TicketKit
    desk: HelpDesk
    engine: Engine | None
    person_for_user: PersonForUser | None
    permanent_session: bool
    error_template: str | None
    brand_name: str = "Help desk"

    def close(self) -> None:
        """Deliver what is queued and end the desk's delivery threads, then close the
        engine's connections if the extension made it. The desk stays usable (a later
        operation starts delivery again and the engine reconnects)."""
        self.desk.close()
        if self.engine is not None:
            self.engine.dispose()


class TicketKit:
    """The Flask extension: ``TicketKit(app)``, or ``ticketkit = TicketKit()`` and later
    ``ticketkit.init_app(app)`` in an app factory."""

    def __init__(self, app: flask.Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        """Build ``app``'s desk from its ``TICKETKIT_*`` config and register the state, the
        request session's teardown, the error handler and the ``flask ticketkit`` commands."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(f"ticketkit is already initialised on the app {app.name!r}")
        config = _read_config(app.config)
        storage, engine = _storage(config)
        if config["TICKETKIT_AUTO_UPGRADE"] and isinstance(storage, SqlStorage):
            upgrade(storage.engine)
        plugins = config["TICKETKIT_PLUGINS"]
        desk = HelpDesk(
            storage,
            plugins=plugins if isinstance(plugins, Plugins) else Plugins.create(list(plugins)),
            delivery=config["TICKETKIT_DELIVERY"],
            **dict(config["TICKETKIT_DESK_OPTIONS"]),
        )
        app.extensions[EXTENSION_KEY] = TicketKitState(
            extension=self,
            desk=desk,
            engine=engine,
            person_for_user=config["TICKETKIT_PERSON_FOR_USER"],
            permanent_session=bool(config["TICKETKIT_PERMANENT_SESSION"]),
            error_template=config["TICKETKIT_ERROR_TEMPLATE"],
            brand_name=str(config["TICKETKIT_BRAND_NAME"]),
        )
        app.teardown_appcontext(_close_request_session)
        app.context_processor(lambda: {"ticketkit": request_session()})
        app.register_error_handler(TicketkitError, _error_page)
        app.cli.add_command(cli)

    def state(self, app: flask.Flask | None = None) -> TicketKitState:
        """``app``'s ticketkit (the current app's by default)."""
        return state(app)

    @property
    def desk(self) -> HelpDesk:
        """The current app's ``HelpDesk``."""
        return state().desk

    @property
    def session(self) -> RequestSession:
        """The current request's ticketkit session, opened on first use."""
        return request_session()

    def close(self, app: flask.Flask | None = None) -> None:
        """Close ``app``'s ticketkit (the current app's by default): see
        ``TicketKitState.close``. Call it when the app shuts down."""
        state(app).close()


def state(app: flask.Flask | None = None) -> TicketKitState:
    """``app``'s ticketkit state (the current app's by default), or a ``RuntimeError``
    saying that ``init_app`` was never called on it."""
    if app is None:
        if not flask.has_app_context():
            raise RuntimeError(
                "ticketkit needs a Flask app context: use it inside a request or "
                "'with app.app_context():'"
            )
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(EXTENSION_KEY)
    if not isinstance(found, TicketKitState):
        raise RuntimeError(
            f"ticketkit is not initialised on the app {app.name!r}: call TicketKit(app) "
            "or ticketkit.init_app(app) first"
        )
    return found


class RequestSession:
    """ticketkit for one request: the desk, and the principal signed in, resolved once
    (when first asked for) from the Flask session through ``ticketkit.web.principals``.

    A person whose access was taken away is signed out (the session's key removed) and
    the request is anonymous. Where nobody signed in through ticketkit, the app's
    ``TICKETKIT_PERSON_FOR_USER`` maps the host's own signed-in user. Each desk operation
    commits on its own: the session wraps no unit of work around the request.
    """

    def __init__(self, app_state: TicketKitState) -> None:
        self._state = app_state
        self._principal: Principal | None = None
        self._resolved = False
        self._closed = False
        self._brand: Brand | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def desk(self) -> HelpDesk:
        self._check_open()
        return self._state.desk

    @property
    def principal(self) -> Principal | None:
        """The signed-in person, or None (anonymous)."""
        self._check_open()
        if not self._resolved:
            self._principal = self._resolve()
            self._resolved = True
        return self._principal

    @property
    def actor(self) -> Actor | None:
        """The signed-in person's ``Actor``, the first argument of every operation."""
        principal = self.principal
        return principal.actor if principal is not None else None

    @property
    def brand(self) -> Brand:
        """How the portal looks for the principal (her organisation's branding settings),
        or the defaults with ``TICKETKIT_BRAND_NAME`` for a visitor; read once a request."""
        if self._brand is None:
            name = self._state.brand_name
            self._brand = pages.brand(self.desk, self.actor, default_name=name)
        return self._brand

    def sign_in(self, actor: Actor) -> Principal:
        """Sign ``actor`` in (after a redeemed magic link, or the host's own login): the
        Flask session is cleared first, so nothing of the session before survives the
        sign-in, then holds her ids; permanent as ``TICKETKIT_PERMANENT_SESSION`` says.
        ``NotFound`` if she may not act (inactive, unknown)."""
        self._check_open()
        principal = resolve(self._state.desk, actor)
        if principal is None:
            raise NotFound("Person", actor.person_id)
        session = flask.session
        session.clear()
        remember(session, actor)
        session.permanent = self._state.permanent_session
        self._principal, self._resolved, self._brand = principal, True, None
        return principal

    def sign_out(self) -> None:
        """Sign out: the whole Flask session is cleared (the host's own keys too)."""
        self._check_open()
        flask.session.clear()
        self._principal, self._resolved, self._brand = None, True, None

    def without_storage(self) -> None:
        """The database failed this request: nobody is signed in for the rest of it and the
        portal looks as for a visitor, so an error page reads nothing more from it."""
        self._principal, self._resolved = None, True
        self._brand = pages.brand(self._state.desk, None, default_name=self._state.brand_name)

    def close(self) -> None:
        """End the session (at the app context's teardown); using it afterwards raises."""
        self._closed = True
        self._principal = None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "this ticketkit request session is closed: its request ended; "
                "use ticketkit.session inside the request that needs it"
            )

    def _resolve(self) -> Principal | None:
        if not flask.has_request_context():
            return None
        session = flask.session
        stored = stored_actor(session)
        if stored is not None:
            principal = resolve(self._state.desk, stored)
            if principal is None:
                forget(session)
            return principal
        if self._state.person_for_user is None:
            return None
        return resolve(self._state.desk, self._state.person_for_user(self._state.desk))


def request_session() -> RequestSession:
    """The current request's (app context's) ticketkit session, opened on first use."""
    app_state = state()
    found = flask.g.get(_G_KEY)
    if found is None:
        found = RequestSession(app_state)
        setattr(flask.g, _G_KEY, found)
    assert isinstance(found, RequestSession)
    return found


def _close_request_session(_: BaseException | None) -> None:
    found = flask.g.pop(_G_KEY, None)
    if isinstance(found, RequestSession):
        found.close()


# -- views ---------------------------------------------------------------------------------------

#: Where a magic link's token waits in the session between the link and the POST.
TOKEN_KEY = "ticketkit.token"


P = ParamSpec("P")
R = TypeVar("R")
#: A view taking the signed-in person's ``Actor`` first, and what ``signed_in`` makes of it.
ActorView: TypeAlias = Callable[Concatenate[Actor, P], R]


@overload
def signed_in(
    view: ActorView[P, R], *, login_url: str = ...
) -> Callable[P, R | WerkzeugResponse]: ...
@overload
def signed_in(
    view: None = None, *, login_url: str = ...
) -> Callable[[ActorView[P, R]], Callable[P, R | WerkzeugResponse]]: ...
def signed_in(
    view: ActorView[P, R] | None = None, *, login_url: str = "/login"
) -> (
    Callable[P, R | WerkzeugResponse]
    | Callable[[ActorView[P, R]], Callable[P, R | WerkzeugResponse]]
):
    """Decorate a view that needs someone signed in: it is called with the principal's
    ``Actor`` before the URL's arguments; anyone else is sent to ``login_url``. The
    principal is resolved afresh on each request, so revoked access ends at the next."""

    def decorate(view: ActorView[P, R]) -> Callable[P, R | WerkzeugResponse]:
        @functools.wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R | WerkzeugResponse:
            actor = request_session().actor
            if actor is None:
                return flask.redirect(login_url)
            return view(actor, *args, **kwargs)

        return checked

    return decorate(view) if view is not None else decorate


def magic_link_signin(
    tenant_id: UUID | Callable[[], UUID],
    *,
    template: str = "signin.html",
    next_url: str = "/",
) -> Callable[[], ResponseReturnValue]:
    """The sign-in view for a guest's magic link (route the link's path to it, for GET and
    POST).

    GET with ``?token=`` moves the token from the address into a new session and redirects
    to the same path without it; GET then shows ``template`` (``invitation``: whom it signs
    in, until when) without using the token up, since mail scanners open links; POST
    redeems it, signs her in (the session cleared first) and redirects to ``next_url``. A
    token that cannot be used raises ``InvitationRefused``, answered by the error handler
    (400 or 410, with the reason's text). The answer to the link itself, the one address
    that holds the token, carries ``Referrer-Policy: no-referrer``; the confirm page's
    address holds none and keeps the app's own policy (``same-origin``), since a POST from
    a no-referrer page is sent with ``Origin: null``, which CSRF checks refuse (Flask-WTF's
    on HTTPS, Django's always).
    """

    def view() -> ResponseReturnValue:
        tenant = tenant_id() if callable(tenant_id) else tenant_id
        session, desk = flask.session, request_session().desk
        if "token" in flask.request.args:
            session.clear()
            session[TOKEN_KEY] = flask.request.args["token"]
            response = flask.redirect(flask.request.path, 303)
            response.headers["Referrer-Policy"] = "no-referrer"
        elif flask.request.method == "POST":
            actor = desk.redeem_invitation(tenant, session.get(TOKEN_KEY, ""))
            request_session().sign_in(actor)
            response = flask.redirect(next_url, 303)
        else:
            invitation = desk.inspect_invitation(tenant, session.get(TOKEN_KEY, ""))
            response = flask.make_response(flask.render_template(template, invitation=invitation))
        return response

    return view


# -- errors ------------------------------------------------------------------------------------


def _error_page(error: Exception) -> ResponseReturnValue:
    """A ticketkit error as its HTTP answer: the host's template (``problem`` in its
    context) or a plain page, JSON for a client that asks for it. The page never shows the
    error's own message, which may name what the reader may not know of."""
    assert isinstance(error, TicketkitError)
    problem = problem_for(error)
    if flask.request.accept_mimetypes.best == "application/json":
        body = {"status": problem.status, "title": problem.title, "fields": dict(problem.fields)}
        return flask.jsonify(body), problem.status
    if isinstance(error, StorageError):
        request_session().without_storage()
    template = state().error_template
    if template is not None:
        try:
            return flask.render_template(template, problem=problem), problem.status
        except TicketkitError:
            # The host's page failed the same way (it read the database): the plain one.
            return _plain_page(problem), problem.status
    return _plain_page(problem), problem.status


def _plain_page(problem: HttpProblem) -> str:
    fields = "".join(
        f"<li>{escape(name)}: {escape(message)}</li>" for name, message in problem.fields.items()
    )
    listed = f"<ul>{fields}</ul>" if fields else ""
    title = escape(problem.title)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head>"
        f"<body><main><h1>{title}</h1>{listed}</main></body></html>"
    )


# -- config --------------------------------------------------------------------------------------


def _read_config(config: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(k for k in config if k.startswith("TICKETKIT_") and k not in DEFAULTS)
    if unknown:
        raise ValueError(f"unknown ticketkit config keys {unknown}; known: {sorted(DEFAULTS)}")
    read = {key: config.get(key, default) for key, default in DEFAULTS.items()}
    person_for_user = read["TICKETKIT_PERSON_FOR_USER"]
    if person_for_user is not None and not callable(person_for_user):
        raise ValueError("TICKETKIT_PERSON_FOR_USER must be a callable taking the desk")
    if not isinstance(read["TICKETKIT_PLUGINS"], Plugins | Iterable):
        raise ValueError("TICKETKIT_PLUGINS must be a list of plugin objects or a Plugins")
    return read


def _storage(config: Mapping[str, Any]) -> tuple[Storage, Engine | None]:
    """The storage the config names, and the engine made for it (None: not ours)."""
    given, url = config["TICKETKIT_STORAGE"], config["TICKETKIT_DATABASE_URL"]
    if given is not None and url is not None:
        raise ValueError("set TICKETKIT_STORAGE or TICKETKIT_DATABASE_URL, not both")
    if given is not None:
        if not isinstance(given, Storage):
            raise ValueError("TICKETKIT_STORAGE must be a ticketkit Storage")
        return given, None
    if url is None:
        raise ValueError(
            "ticketkit needs TICKETKIT_DATABASE_URL (sqlite:///file, postgresql://..., "
            "memory://) or a ready TICKETKIT_STORAGE"
        )
    if str(url) == "memory://":
        return MemoryStorage(), None
    engine = create_engine_from_url(url, **dict(config["TICKETKIT_ENGINE_OPTIONS"]))
    return SqlStorage(engine), engine


# -- the command line ----------------------------------------------------------------------------

cli = AppGroup("ticketkit", help="ticketkit's database and delivery.")


@cli.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Alembic revision.")
def upgrade_command(revision: str) -> None:
    """Apply ticketkit's migrations to the app's database."""
    storage = state().desk.storage
    if not isinstance(storage, SqlStorage):
        click.echo(f"{type(storage).__name__} keeps no tables: nothing to migrate")
        return
    upgrade(storage.engine, revision)
    click.echo(f"ticketkit's tables are at {revision}")


@cli.command("deliver")
def deliver_command() -> None:
    """Retry notifications that are pending or failed (run it from a scheduler)."""
    app_state = state()
    attempted = app_state.desk.deliver_pending()
    app_state.desk.flush()
    click.echo(f"attempted {attempted} notification(s)")


__all__ = [
    "DEFAULTS",
    "EXTENSION_KEY",
    "TOKEN_KEY",
    "PersonForUser",
    "RequestSession",
    "TicketKit",
    "TicketKitState",
    "cli",
    "magic_link_signin",
    "request_session",
    "signed_in",
    "state",
]
