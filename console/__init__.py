"""The moderation console: a Flask + htmx trust & safety console that reports to NCMEC exactly once."""

from __future__ import annotations

from flask import Flask

from console import config


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
        instance_relative_config=False,
    )
    app.config.from_object(config.Defaults)
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)

    from console import logs

    logs.init_app(app)  # LOG_FORMAT (text or JSON lines) and a request id for every request, first of all

    from console import database, security, webutil
    from console.extensions import csrf, db, limiter, login_manager, migrate

    database.configure_engine_options(app)
    db.init_app(app)
    database.install_sqlite_pragmas(app)
    migrate.init_app(app, db, directory=str(config.ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["RQ_QUEUE"])
    # This console's keys in a shared Redis (the signed-in users' copies): the limiter's prefix.
    app.config.setdefault("SIGNED_IN_KEY_PREFIX", app.config["RATELIMIT_KEY_PREFIX"])
    limiter.init_app(app)
    security.init_app(app)
    webutil.init_app(app)

    from console import models  # noqa: F401  (every table registered before anything queries)
    from console.accounts.views import bp as accounts_bp
    from console.api.views import bp as api_bp
    from console.cases.views import bp as cases_bp
    from console.childsafety.views import bp as childsafety_bp
    from console.queues.views import bp as queues_bp
    from console.reporting.views import bp as reporting_bp
    from console.settings.api_tokens import bp as api_tokens_bp
    from console.settings.views import bp as settings_bp

    for bp in (
        accounts_bp,
        queues_bp,
        cases_bp,
        childsafety_bp,
        reporting_bp,
        settings_bp,
        api_bp,
        api_tokens_bp,
    ):
        app.register_blueprint(bp)

    from console import reporting

    reporting.init_app(app)  # reporting subscribes to what cases announce

    from console import evidence

    evidence.init_app(app)  # preserved evidence, legal holds, the audit log's sealer and checks

    from console import hashbank, transparency

    hashbank.init_app(app)  # the bank of reported content, matched at ingestion; its case banner
    transparency.init_app(app)  # the NCMEC work in figures, for admins

    from console import webhooks

    webhooks.init_app(app)  # a decision's actions, enrichment and preservation requests, to the platform

    from console import sor

    sor.init_app(app)  # statements of reasons to the EU's DSA Transparency Database

    from console import ops

    ops.init_app(app)  # health, readiness, metrics, the filing clock

    from console import cli

    cli.init_app(app)
    return app


def _limiter_storage(redis_url: str | None) -> str:
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        # limits spells a Redis unix socket "redis+unix://".
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url
