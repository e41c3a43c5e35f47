"""bundles: the content-addressed bundle store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundles",
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("integrity", sa.String(length=80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_bundles_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_bundles_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("account_sid", "sha256", name=op.f("pk_bundles")),
    )
    with op.batch_alter_table("plugin_versions", schema=None) as batch_op:
        batch_op.create_index("ix_plugin_versions_account_private", ["account_sid", "private"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plugin_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_plugin_versions_account_private")
    op.drop_table("bundles")
