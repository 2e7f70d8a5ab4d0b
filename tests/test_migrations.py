from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from console.extensions import db
from console.reporting.models import Agency


def test_migrations_and_models_agree(ctx):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_ncmec_is_preloaded_as_an_agency(ctx):
    agency = db.session.scalar(select(Agency).where(Agency.slug == "ncmec"))
    assert agency is not None and agency.name.startswith("NCMEC")
