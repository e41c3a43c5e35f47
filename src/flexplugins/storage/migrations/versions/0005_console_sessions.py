"""console_sessions: signed-in console sessions, so that signing out ends them on every process

Revision ID: 0005_console_sessions
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_console_sessions"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_sid", sa.String(length=34), nullable=False),
        sa.Column("credential_sid", sa.String(length=34), nullable=False),
        sa.Column("date_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_expires", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_sid"], ["accounts.sid"], name=op.f("fk_console_sessions_account_sid_accounts")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_account_sid"), ["account_sid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_console_sessions_credential_sid"), ["credential_sid"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_console_sessions_date_expires"), ["date_expires"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_date_expires"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_credential_sid"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_account_sid"))
    op.drop_table("console_sessions")
