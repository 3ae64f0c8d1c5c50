"""Alembic environment: raw-SQL migrations, database taken from DATABASE_URL.

``outbox.migrate`` passes an open connection inside ONE transaction for the whole upgrade (and
renders the Cicero adapter in it), so an upgrade is all-or-nothing. Run directly (``alembic
upgrade head``) the same holds: one transaction for every revision. The URL is read through
outbox.config so alembic, the gateway and the producers accept the same variables. neonize's
``whatsmeow_*`` tables live in the same database but are never ours: migrations do not create,
alter or drop them, and no autogenerate metadata is declared.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from outbox.config import database_url_from_env, sqlalchemy_url

config = context.config


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """Keep neonize's session tables (``whatsmeow_*``) out of any autogenerate comparison."""
    return not (type_ == "table" and name is not None and name.startswith("whatsmeow_"))


def configure(**kwargs: object) -> None:
    context.configure(target_metadata=None, transaction_per_migration=False,
                      include_object=include_object, **kwargs)  # type: ignore[arg-type]


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("database_url") or database_url_from_env()
    engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: the baseline reads the catalog")
run_migrations()
