"""The tables. Every invariant the database can hold is declared here as a constraint."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# 64-bit keys on PostgreSQL; SQLite needs plain INTEGER for an alias of its rowid.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Sid = sa.String(34)
Timestamp = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("sid", Sid, primary_key=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("auth_token_hash", sa.String(64), nullable=False),
    # Incremented by every release under a row lock: releases of one account are totally ordered.
    sa.Column("release_seq", sa.BigInteger, nullable=False, server_default="0"),
    # Incremented by every write to the account's resources, in the same transaction: read caches
    # key on it, so no process ever serves a response older than the last committed write.
    sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("date_created", Timestamp, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("sid", Sid, primary_key=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False, index=True),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, server_default="api"),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("date_created", Timestamp, nullable=False),
)

plugins = sa.Table(
    "plugins",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("unique_name", sa.String(100), nullable=False),
    sa.Column("friendly_name", sa.String(255)),
    sa.Column("description", sa.String(500)),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.UniqueConstraint("account_sid", "unique_name", name="uq_plugins_account_unique_name"),
    sa.Index("ix_plugins_account_id", "account_sid", "id"),
)

plugin_versions = sa.Table(
    "plugin_versions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("plugin_id", Id, sa.ForeignKey("plugins.id"), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("plugin_url", sa.String(2048), nullable=False),
    # The bundle of this account that plugin_url names (domain/bundles.py), however it is spelled:
    # a private version makes that bundle private, found by this key, never by matching the URL.
    sa.Column("bundle_sha256", sa.String(64)),
    sa.Column("changelog", sa.Text),
    sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("validated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cli_version", sa.String(64)),
    sa.Column("validate_status", sa.String(64)),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.UniqueConstraint("plugin_id", "version", name="uq_plugin_versions_plugin_version"),
    sa.Index("ix_plugin_versions_plugin_id_id", "plugin_id", "id"),
    sa.Index("ix_plugin_versions_bundle", "account_sid", "bundle_sha256"),
)

configurations = sa.Table(
    "configurations",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.String(500)),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Index("ix_configurations_account_id", "account_sid", "id"),
)

configured_plugins = sa.Table(
    "configured_plugins",
    metadata,
    sa.Column("configuration_id", Id, sa.ForeignKey("configurations.id"), primary_key=True),
    # Load order within the configuration: by phase, then the order the plugins were given.
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("plugin_id", Id, sa.ForeignKey("plugins.id"), nullable=False),
    sa.Column("plugin_version_id", Id, sa.ForeignKey("plugin_versions.id"), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    # One version of any plugin per configuration, held by the database itself.
    sa.UniqueConstraint("configuration_id", "plugin_id", name="uq_configured_plugins_one_per_plugin"),
    sa.Index("ix_configured_plugins_version", "plugin_version_id"),
)

releases = sa.Table(
    "releases",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("configuration_id", Id, sa.ForeignKey("configurations.id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    # The active release is the one with the highest seq of its account.
    sa.UniqueConstraint("account_sid", "seq", name="uq_releases_account_seq"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("credential_sid", Sid, nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource_sid", Sid, nullable=False),
    sa.Column("flex_metadata", sa.String(1024)),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Index("ix_audit_events_account_id", "account_sid", "id"),
)

server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
)

# Signed-in console sessions. The cookie names a row by a random id (stored as its SHA-256 digest);
# signing out, rotating the account's auth token or revoking the API key deletes the rows, so the
# session ends on every server process at its next request.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False, index=True),
    sa.Column("credential_sid", Sid, nullable=False, index=True),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_expires", Timestamp, nullable=False, index=True),
)

# Uploaded JavaScript bundles, content-addressed: one row per account and SHA-256 of the bytes.
bundles = sa.Table(
    "bundles",
    metadata,
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("integrity", sa.String(80), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    # Read in slices (storage/bundles.py): on PostgreSQL the column is stored uncompressed
    # (STORAGE EXTERNAL, set by migration 0006), so a slice reads only its own pages.
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    # Uploaded as private: served only to the account's callers, whatever versions point at it.
    sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("size >= 0", name="size_not_negative"),
)

# --- The vendor APIs that `twilio flex:plugins:deploy` calls besides the Plugin Service -------

# Flex Configuration: one row per account once it has been written (GET answers defaults before).
flex_configurations = sa.Table(
    "flex_configurations",
    metadata,
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), primary_key=True),
    sa.Column("ui_version", sa.String(32), nullable=False),
    # A JSON array of ZS SIDs, in the order given.
    sa.Column("serverless_service_sids", sa.Text, nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
)

serverless_services = sa.Table(
    "serverless_services",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("unique_name", sa.String(50), nullable=False),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("include_credentials", sa.Boolean, nullable=False),
    sa.Column("ui_editable", sa.Boolean, nullable=False),
    # The first part of every environment's domain name: unique across accounts.
    sa.Column("domain_base", sa.String(63), nullable=False, unique=True),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.UniqueConstraint("account_sid", "unique_name", name="uq_serverless_services_account_unique_name"),
    sa.Index("ix_serverless_services_account_id", "account_sid", "id"),
)

serverless_assets = sa.Table(
    "serverless_assets",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("serverless_services.id"), nullable=False),
    sa.Column("friendly_name", sa.String(255), nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.Index("ix_serverless_assets_service_id", "service_id", "id"),
)

# An uploaded version of an asset: its bytes are a row of `bundles` (account + SHA-256).
serverless_asset_versions = sa.Table(
    "serverless_asset_versions",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("serverless_services.id"), nullable=False),
    sa.Column("asset_id", Id, sa.ForeignKey("serverless_assets.id"), nullable=False),
    sa.Column("path", sa.String(255), nullable=False),
    sa.Column("visibility", sa.String(16), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.CheckConstraint("visibility in ('public', 'protected', 'private')", name="visibility"),
    sa.ForeignKeyConstraint(
        ["account_sid", "sha256"],
        ["bundles.account_sid", "bundles.sha256"],
        name="fk_serverless_asset_versions_bundle",
    ),
    sa.Index("ix_serverless_asset_versions_asset_id", "asset_id", "id"),
    sa.Index("ix_serverless_asset_versions_account_sha256", "account_sid", "sha256"),
)

serverless_builds = sa.Table(
    "serverless_builds",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("serverless_services.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("runtime", sa.String(16), nullable=False),
    # A JSON array of {"name", "version"} objects.
    sa.Column("dependencies", sa.Text, nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.Index("ix_serverless_builds_service_id", "service_id", "id"),
)

# The asset versions of a build, in the order given.
serverless_build_asset_versions = sa.Table(
    "serverless_build_asset_versions",
    metadata,
    sa.Column("build_id", Id, sa.ForeignKey("serverless_builds.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("asset_version_id", Id, sa.ForeignKey("serverless_asset_versions.id"), nullable=False),
    sa.Index("ix_serverless_build_asset_versions_version", "asset_version_id"),
)

serverless_environments = sa.Table(
    "serverless_environments",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("serverless_services.id"), nullable=False),
    sa.Column("unique_name", sa.String(100), nullable=False),
    sa.Column("domain_suffix", sa.String(16)),
    # `<label>.twil.io`: the host alone selects the environment, so it is unique across accounts.
    sa.Column("domain_name", sa.String(80), nullable=False, unique=True),
    sa.Column("build_id", Id, sa.ForeignKey("serverless_builds.id")),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.UniqueConstraint("service_id", "unique_name", name="uq_serverless_environments_service_unique_name"),
    sa.Index("ix_serverless_environments_service_id", "service_id", "id"),
)

serverless_deployments = sa.Table(
    "serverless_deployments",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("sid", Sid, nullable=False, unique=True),
    sa.Column("account_sid", Sid, sa.ForeignKey("accounts.sid"), nullable=False),
    sa.Column("service_id", Id, sa.ForeignKey("serverless_services.id"), nullable=False),
    sa.Column("environment_id", Id, sa.ForeignKey("serverless_environments.id"), nullable=False),
    sa.Column("build_id", Id, sa.ForeignKey("serverless_builds.id"), nullable=False),
    sa.Column("date_created", Timestamp, nullable=False),
    sa.Column("date_updated", Timestamp, nullable=False),
    sa.Index("ix_serverless_deployments_environment_id", "environment_id", "id"),
)
