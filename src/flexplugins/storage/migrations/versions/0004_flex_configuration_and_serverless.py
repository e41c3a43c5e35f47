"""flex_configurations and the serverless_* tables: the vendor APIs `flex:plugins:deploy` calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flex_configurations",
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("ui_version", sa.String(length=32), nullable=False),
        sa.Column("serverless_service_sids", sa.Text(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_flex_configurations_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("account_sid", name=op.f("pk_flex_configurations")),
    )
    op.create_table(
        "serverless_services",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("unique_name", sa.String(length=50), nullable=False),
        sa.Column("friendly_name", sa.String(length=255), nullable=False),
        sa.Column("include_credentials", sa.Boolean(), nullable=False),
        sa.Column("ui_editable", sa.Boolean(), nullable=False),
        sa.Column("domain_base", sa.String(length=63), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_services_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_services")),
        sa.UniqueConstraint("account_sid", "unique_name", name="uq_serverless_services_account_unique_name"),
        sa.UniqueConstraint("domain_base", name=op.f("uq_serverless_services_domain_base")),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_services_sid")),
    )
    with op.batch_alter_table("serverless_services", schema=None) as batch_op:
        batch_op.create_index("ix_serverless_services_account_id", ["account_sid", "id"], unique=False)

    op.create_table(
        "serverless_assets",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("friendly_name", sa.String(length=255), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_assets_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["serverless_services.id"],
            name=op.f("fk_serverless_assets_service_id_serverless_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_assets")),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_assets_sid")),
    )
    with op.batch_alter_table("serverless_assets", schema=None) as batch_op:
        batch_op.create_index("ix_serverless_assets_service_id", ["service_id", "id"], unique=False)

    op.create_table(
        "serverless_builds",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runtime", sa.String(length=16), nullable=False),
        sa.Column("dependencies", sa.Text(), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_builds_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["serverless_services.id"],
            name=op.f("fk_serverless_builds_service_id_serverless_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_builds")),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_builds_sid")),
    )
    with op.batch_alter_table("serverless_builds", schema=None) as batch_op:
        batch_op.create_index("ix_serverless_builds_service_id", ["service_id", "id"], unique=False)

    op.create_table(
        "serverless_asset_versions",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("asset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "visibility in ('public', 'protected', 'private')",
            name=op.f("ck_serverless_asset_versions_visibility"),
        ),
        sa.ForeignKeyConstraint(
            ["account_sid", "sha256"],
            ["bundles.account_sid", "bundles.sha256"],
            name="fk_serverless_asset_versions_bundle",
        ),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_asset_versions_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["serverless_assets.id"],
            name=op.f("fk_serverless_asset_versions_asset_id_serverless_assets"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["serverless_services.id"],
            name=op.f("fk_serverless_asset_versions_service_id_serverless_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_asset_versions")),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_asset_versions_sid")),
    )
    with op.batch_alter_table("serverless_asset_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_serverless_asset_versions_account_sha256", ["account_sid", "sha256"], unique=False
        )
        batch_op.create_index("ix_serverless_asset_versions_asset_id", ["asset_id", "id"], unique=False)

    op.create_table(
        "serverless_environments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unique_name", sa.String(length=100), nullable=False),
        sa.Column("domain_suffix", sa.String(length=16), nullable=True),
        sa.Column("domain_name", sa.String(length=80), nullable=False),
        sa.Column("build_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_environments_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["serverless_builds.id"],
            name=op.f("fk_serverless_environments_build_id_serverless_builds"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["serverless_services.id"],
            name=op.f("fk_serverless_environments_service_id_serverless_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_environments")),
        sa.UniqueConstraint("domain_name", name=op.f("uq_serverless_environments_domain_name")),
        sa.UniqueConstraint(
            "service_id", "unique_name", name="uq_serverless_environments_service_unique_name"
        ),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_environments_sid")),
    )
    with op.batch_alter_table("serverless_environments", schema=None) as batch_op:
        batch_op.create_index("ix_serverless_environments_service_id", ["service_id", "id"], unique=False)

    op.create_table(
        "serverless_build_asset_versions",
        sa.Column("build_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("asset_version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_version_id"],
            ["serverless_asset_versions.id"],
            name=op.f("fk_serverless_build_asset_versions_asset_version_id_serverless_asset_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["serverless_builds.id"],
            name=op.f("fk_serverless_build_asset_versions_build_id_serverless_builds"),
        ),
        sa.PrimaryKeyConstraint("build_id", "position", name=op.f("pk_serverless_build_asset_versions")),
    )
    with op.batch_alter_table("serverless_build_asset_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_serverless_build_asset_versions_version", ["asset_version_id"], unique=False
        )

    op.create_table(
        "serverless_deployments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sid", sa.String(length=34), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("service_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("environment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("build_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_serverless_deployments_account_sid_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["build_id"],
            ["serverless_builds.id"],
            name=op.f("fk_serverless_deployments_build_id_serverless_builds"),
        ),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["serverless_environments.id"],
            name=op.f("fk_serverless_deployments_environment_id_serverless_environments"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["serverless_services.id"],
            name=op.f("fk_serverless_deployments_service_id_serverless_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serverless_deployments")),
        sa.UniqueConstraint("sid", name=op.f("uq_serverless_deployments_sid")),
    )
    with op.batch_alter_table("serverless_deployments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_serverless_deployments_environment_id", ["environment_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("serverless_deployments", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_deployments_environment_id")

    op.drop_table("serverless_deployments")
    with op.batch_alter_table("serverless_build_asset_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_build_asset_versions_version")

    op.drop_table("serverless_build_asset_versions")
    with op.batch_alter_table("serverless_environments", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_environments_service_id")

    op.drop_table("serverless_environments")
    with op.batch_alter_table("serverless_asset_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_asset_versions_asset_id")
        batch_op.drop_index("ix_serverless_asset_versions_account_sha256")

    op.drop_table("serverless_asset_versions")
    with op.batch_alter_table("serverless_builds", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_builds_service_id")

    op.drop_table("serverless_builds")
    with op.batch_alter_table("serverless_assets", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_assets_service_id")

    op.drop_table("serverless_assets")
    with op.batch_alter_table("serverless_services", schema=None) as batch_op:
        batch_op.drop_index("ix_serverless_services_account_id")

    op.drop_table("serverless_services")
    op.drop_table("flex_configurations")
