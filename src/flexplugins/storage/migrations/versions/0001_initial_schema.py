"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("friendly_name", sa.String(length=255), nullable=False),
        sa.Column("auth_token_hash", sa.String(length=64), nullable=False),
        sa.Column("release_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_accounts")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.create_table(
        "api_keys",
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("friendly_name", sa.String(length=255), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="api", nullable=False),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_api_keys_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_api_keys")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_account_sid"), ["account_sid"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("credential_sid", sa.String(length=34), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_sid", sa.String(length=34), nullable=False),
        sa.Column("flex_metadata", sa.String(length=1024), nullable=True),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_audit_events_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_account_id", ["account_sid", "id"], unique=False)

    op.create_table(
        "configurations",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_configurations_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configurations")),
        sa.UniqueConstraint("sid", name=op.f("uq_configurations_sid")),
    )
    with op.batch_alter_table("configurations", schema=None) as batch_op:
        batch_op.create_index("ix_configurations_account_id", ["account_sid", "id"], unique=False)

    op.create_table(
        "plugins",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("unique_name", sa.String(length=100), nullable=False),
        sa.Column("friendly_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_plugins_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugins")),
        sa.UniqueConstraint("account_sid", "unique_name", name="uq_plugins_account_unique_name"),
        sa.UniqueConstraint("sid", name=op.f("uq_plugins_sid")),
    )
    with op.batch_alter_table("plugins", schema=None) as batch_op:
        batch_op.create_index("ix_plugins_account_id", ["account_sid", "id"], unique=False)

    op.create_table(
        "plugin_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("plugin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("plugin_url", sa.String(length=2048), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=True),
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("validated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cli_version", sa.String(length=64), nullable=True),
        sa.Column("validate_status", sa.String(length=64), nullable=True),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_plugin_versions_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"], ["plugins.id"], name=op.f("fk_plugin_versions_plugin_id_plugins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_versions")),
        sa.UniqueConstraint("plugin_id", "version", name="uq_plugin_versions_plugin_version"),
        sa.UniqueConstraint("sid", name=op.f("uq_plugin_versions_sid")),
    )
    with op.batch_alter_table("plugin_versions", schema=None) as batch_op:
        batch_op.create_index("ix_plugin_versions_plugin_id_id", ["plugin_id", "id"], unique=False)

    op.create_table(
        "releases",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("configuration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_releases_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name=op.f("fk_releases_configuration_id_configurations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint("account_sid", "seq", name="uq_releases_account_seq"),
        sa.UniqueConstraint("sid", name=op.f("uq_releases_sid")),
    )
    op.create_table(
        "configured_plugins",
        sa.Column("configuration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("plugin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("plugin_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["configuration_id"],
            ["configurations.id"],
            name=op.f("fk_configured_plugins_configuration_id_configurations"),
        ),
        sa.ForeignKeyConstraint(
            ["plugin_id"], ["plugins.id"], name=op.f("fk_configured_plugins_plugin_id_plugins")
        ),
        sa.ForeignKeyConstraint(
            ["plugin_version_id"],
            ["plugin_versions.id"],
            name=op.f("fk_configured_plugins_plugin_version_id_plugin_versions"),
        ),
        sa.PrimaryKeyConstraint("configuration_id", "position", name=op.f("pk_configured_plugins")),
        sa.UniqueConstraint("configuration_id", "plugin_id", name="uq_configured_plugins_one_per_plugin"),
    )
    with op.batch_alter_table("configured_plugins", schema=None) as batch_op:
        batch_op.create_index("ix_configured_plugins_version", ["plugin_version_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("configured_plugins", schema=None) as batch_op:
        batch_op.drop_index("ix_configured_plugins_version")

    op.drop_table("configured_plugins")
    op.drop_table("releases")
    with op.batch_alter_table("plugin_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_plugin_versions_plugin_id_id")

    op.drop_table("plugin_versions")
    with op.batch_alter_table("plugins", schema=None) as batch_op:
        batch_op.drop_index("ix_plugins_account_id")

    op.drop_table("plugins")
    with op.batch_alter_table("configurations", schema=None) as batch_op:
        batch_op.drop_index("ix_configurations_account_id")

    op.drop_table("configurations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_account_id")

    op.drop_table("audit_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_account_sid"))

    op.drop_table("api_keys")
    op.drop_table("server_secrets")
    op.drop_table("accounts")
