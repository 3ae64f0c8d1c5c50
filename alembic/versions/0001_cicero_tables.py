"""Cicero_V2 domain tables the report views read.

On a fresh database this creates the Cicero tables with the names and columns of the real
Cicero_V2 schema (timestamps as timestamptz). On an existing Cicero_V2 install every table that
already exists is left exactly as it is: nothing is altered, indexed or dropped there. The tables
this migration did create are listed in ``cicero_bootstrap_table`` so that a downgrade drops
those and only those.

Revision ID: 0001_cicero_tables
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_cicero_tables"
down_revision = None
branch_labels = None
depends_on = None

# (table name, DDL) in dependency order. Names and columns follow Cicero_V2 sql/schema.sql and
# its migrations (see shared/domain.md section 1); only the timestamp types differ (timestamptz).
TABLES: list[tuple[str, str]] = [
    (
        "clients",
        """
        CREATE TABLE clients (
            client_id             varchar PRIMARY KEY,
            nama                  varchar NOT NULL,
            client_type           varchar,
            client_status         boolean DEFAULT true,
            client_insta          varchar,
            client_insta_status   boolean DEFAULT true,
            client_tiktok         varchar,
            client_tiktok_status  boolean DEFAULT true,
            client_amplify_status boolean DEFAULT true,
            tiktok_secuid         varchar,
            client_operator       varchar,
            client_super          varchar,
            client_group          varchar,
            regional_id           varchar,
            parent_client_id      varchar REFERENCES clients (client_id),
            client_level          varchar
        )
        """,
    ),
    (
        "user",
        """
        CREATE TABLE "user" (
            user_id                varchar PRIMARY KEY,
            nama                   varchar,
            title                  varchar,
            divisi                 varchar,
            jabatan                varchar,
            desa                   varchar,
            email                  varchar,
            insta                  varchar,
            tiktok                 varchar,
            whatsapp               varchar,
            client_id              varchar REFERENCES clients (client_id),
            status                 boolean DEFAULT true,
            exception              boolean DEFAULT false,
            wa_notification_opt_in boolean NOT NULL DEFAULT false,
            premium_status         boolean DEFAULT false,
            premium_end_date       date,
            created_at             timestamptz DEFAULT now(),
            updated_at             timestamptz DEFAULT now()
        );
        CREATE INDEX user_client_id_idx ON "user" (client_id)
        """,
    ),
    (
        "roles",
        """
        CREATE TABLE roles (
            role_id   serial PRIMARY KEY,
            role_name varchar NOT NULL UNIQUE
        )
        """,
    ),
    (
        "user_roles",
        """
        CREATE TABLE user_roles (
            user_id varchar NOT NULL REFERENCES "user" (user_id) ON DELETE CASCADE,
            role_id integer NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, role_id)
        )
        """,
    ),
    (
        "dashboard_user",
        """
        CREATE TABLE dashboard_user (
            dashboard_user_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            username          varchar NOT NULL UNIQUE,
            password_hash     text,
            role_id           integer REFERENCES roles (role_id),
            status            boolean DEFAULT true,
            whatsapp          varchar,
            created_at        timestamptz DEFAULT now()
        )
        """,
    ),
    (
        "dashboard_user_clients",
        """
        CREATE TABLE dashboard_user_clients (
            dashboard_user_id uuid NOT NULL REFERENCES dashboard_user (dashboard_user_id)
                              ON DELETE CASCADE,
            client_id         varchar NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
            PRIMARY KEY (dashboard_user_id, client_id)
        )
        """,
    ),
    (
        "insta_post",
        """
        CREATE TABLE insta_post (
            shortcode           varchar PRIMARY KEY,
            client_id           varchar REFERENCES clients (client_id),
            caption             text,
            comment_count       integer,
            like_count          integer,
            thumbnail_url       text,
            is_video            boolean DEFAULT false,
            video_url           text,
            image_url           text,
            images_url          jsonb,
            is_carousel         boolean DEFAULT false,
            source_type         varchar(20) NOT NULL DEFAULT 'cron_fetch'
                                CHECK (source_type IN ('cron_fetch', 'manual_input')),
            original_created_at timestamptz,
            created_at          timestamptz DEFAULT now()
        );
        CREATE INDEX insta_post_client_created_idx ON insta_post (client_id, created_at)
        """,
    ),
    (
        "insta_post_clients",
        """
        CREATE TABLE insta_post_clients (
            shortcode  varchar NOT NULL REFERENCES insta_post (shortcode) ON DELETE CASCADE,
            client_id  varchar NOT NULL REFERENCES clients (client_id),
            created_at timestamptz DEFAULT now(),
            PRIMARY KEY (shortcode, client_id)
        )
        """,
    ),
    (
        "insta_post_roles",
        """
        CREATE TABLE insta_post_roles (
            shortcode varchar NOT NULL REFERENCES insta_post (shortcode) ON DELETE CASCADE,
            role_name varchar NOT NULL,
            PRIMARY KEY (shortcode, role_name)
        )
        """,
    ),
    (
        "insta_like",
        """
        CREATE TABLE insta_like (
            shortcode  varchar PRIMARY KEY REFERENCES insta_post (shortcode) ON DELETE CASCADE,
            likes      jsonb,
            updated_at timestamptz DEFAULT now()
        )
        """,
    ),
    (
        "insta_comment",
        """
        CREATE TABLE insta_comment (
            shortcode  varchar PRIMARY KEY REFERENCES insta_post (shortcode) ON DELETE CASCADE,
            comments   jsonb,
            updated_at timestamptz DEFAULT now()
        )
        """,
    ),
    (
        "tiktok_post",
        """
        CREATE TABLE tiktok_post (
            video_id            varchar PRIMARY KEY,
            client_id           varchar REFERENCES clients (client_id),
            caption             text,
            like_count          integer,
            comment_count       integer,
            source_type         text NOT NULL DEFAULT 'cron_fetch',
            original_created_at timestamptz,
            created_at          timestamptz DEFAULT now()
        );
        CREATE INDEX tiktok_post_client_created_idx ON tiktok_post (client_id, created_at)
        """,
    ),
    (
        "tiktok_post_roles",
        """
        CREATE TABLE tiktok_post_roles (
            video_id  varchar NOT NULL REFERENCES tiktok_post (video_id) ON DELETE CASCADE,
            role_name varchar NOT NULL,
            PRIMARY KEY (video_id, role_name)
        )
        """,
    ),
    (
        "tiktok_comment",
        """
        CREATE TABLE tiktok_comment (
            video_id   varchar PRIMARY KEY REFERENCES tiktok_post (video_id) ON DELETE CASCADE,
            comments   jsonb,
            updated_at timestamptz DEFAULT now()
        )
        """,
    ),
    (
        "link_report",
        """
        CREATE TABLE link_report (
            shortcode      varchar NOT NULL REFERENCES insta_post (shortcode) ON DELETE CASCADE,
            user_id        varchar NOT NULL REFERENCES "user" (user_id),
            instagram_link text,
            facebook_link  text,
            twitter_link   text,
            tiktok_link    text,
            youtube_link   text,
            created_at     timestamptz DEFAULT now(),
            PRIMARY KEY (shortcode, user_id)
        )
        """,
    ),
]


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE cicero_bootstrap_table (
            table_name  text PRIMARY KEY,
            position    integer NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE cicero_bootstrap_table IS
            'Cicero tables created by migration 0001 (absent before); a downgrade drops only these.';
        """
    )
    bind = op.get_bind()
    for position, (name, ddl) in enumerate(TABLES):
        exists = bind.execute(
            sa.text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'public."{name}"'}
        ).scalar_one()
        if exists:
            continue
        op.execute(ddl)
        bind.execute(
            sa.text("INSERT INTO cicero_bootstrap_table (table_name, position) VALUES (:n, :p)"),
            {"n": name, "p": position},
        )


def downgrade() -> None:
    bind = op.get_bind()
    created = bind.execute(
        sa.text("SELECT table_name FROM cicero_bootstrap_table ORDER BY position DESC")
    ).scalars()
    for name in list(created):
        op.execute(f'DROP TABLE IF EXISTS public."{name}"')
    op.execute("DROP TABLE cicero_bootstrap_table")
