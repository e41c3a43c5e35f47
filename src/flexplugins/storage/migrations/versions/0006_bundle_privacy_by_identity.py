"""bundle privacy by identity: bundles.private, plugin_versions.bundle_sha256, sliced bundle reads

Revision ID: 0006
Revises: 0005_console_sessions
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from flexplugins.domain.bundles import bundle_key

revision = "0006"
down_revision = "0005_console_sessions"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("bundles") as batch:
        batch.add_column(sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("plugin_versions") as batch:
        batch.add_column(sa.Column("bundle_sha256", sa.String(length=64), nullable=True))
        batch.drop_index("ix_plugin_versions_account_private")
        batch.create_index("ix_plugin_versions_bundle", ["account_sid", "bundle_sha256"], unique=False)
    # Every existing version learns which hosted bundle its PluginUrl names.
    versions = sa.table(
        "plugin_versions",
        sa.column("id", sa.BigInteger()),
        sa.column("account_sid", sa.String()),
        sa.column("plugin_url", sa.String()),
        sa.column("bundle_sha256", sa.String()),
    )
    conn = op.get_bind()
    last = -1
    while True:
        rows = conn.execute(
            sa.select(versions.c.id, versions.c.account_sid, versions.c.plugin_url)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        updates = []
        for version_id, account_sid, url in rows:
            key = bundle_key(url)
            if key is not None and key[0] == account_sid:
                updates.append({"version_id": version_id, "sha256": key[1]})
        if updates:
            conn.execute(
                versions.update()
                .where(versions.c.id == sa.bindparam("version_id"))
                .values(bundle_sha256=sa.bindparam("sha256")),
                updates,
            )
    if conn.dialect.name == "postgresql":
        # Uncompressed, so that reading a slice of a large bundle reads only that slice's pages
        # (applies to rows written from now on).
        op.execute("ALTER TABLE bundles ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bundles ALTER COLUMN data SET STORAGE EXTENDED")
    with op.batch_alter_table("plugin_versions") as batch:
        batch.drop_index("ix_plugin_versions_bundle")
        batch.drop_column("bundle_sha256")
        batch.create_index("ix_plugin_versions_account_private", ["account_sid", "private"], unique=False)
    with op.batch_alter_table("bundles") as batch:
        batch.drop_column("private")
