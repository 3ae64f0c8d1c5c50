-- The Cicero tables for an EMPTY database (development, the demo, the tests): created by the
-- baseline migration only when the database holds none of Cicero's tables, and listed in
-- cicero_bootstrap_table so that a downgrade drops exactly these. On a real Cicero database
-- (installed next to the Node services) nothing here runs: Cicero's tables are read as they are
-- through the adapter (views/adapter.py) and never altered, indexed or dropped.
-- Names and columns follow Cicero's schema with every optional part present (the fetch
-- service's variant) and timestamps as timestamptz.

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
);

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
CREATE INDEX user_client_id_idx ON "user" (client_id);

CREATE TABLE roles (
    role_id   serial PRIMARY KEY,
    role_name varchar NOT NULL UNIQUE
);

CREATE TABLE user_roles (
    user_id varchar NOT NULL REFERENCES "user" (user_id) ON DELETE CASCADE,
    role_id integer NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE dashboard_user (
    dashboard_user_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username          varchar NOT NULL UNIQUE,
    password_hash     text,
    role_id           integer REFERENCES roles (role_id),
    status            boolean DEFAULT true,
    whatsapp          varchar,
    created_at        timestamptz DEFAULT now()
);

CREATE TABLE dashboard_user_clients (
    dashboard_user_id uuid NOT NULL REFERENCES dashboard_user (dashboard_user_id)
                      ON DELETE CASCADE,
    client_id         varchar NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    PRIMARY KEY (dashboard_user_id, client_id)
);

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
CREATE INDEX insta_post_client_created_idx ON insta_post (client_id, created_at);

CREATE TABLE insta_post_clients (
    shortcode  varchar NOT NULL REFERENCES insta_post (shortcode) ON DELETE CASCADE,
    client_id  varchar NOT NULL REFERENCES clients (client_id),
    created_at timestamptz DEFAULT now(),
    PRIMARY KEY (shortcode, client_id)
);

CREATE TABLE insta_post_roles (
    shortcode varchar NOT NULL REFERENCES insta_post (shortcode) ON DELETE CASCADE,
    role_name varchar NOT NULL,
    PRIMARY KEY (shortcode, role_name)
);

CREATE TABLE insta_like (
    shortcode  varchar PRIMARY KEY REFERENCES insta_post (shortcode) ON DELETE CASCADE,
    likes      jsonb,
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE insta_comment (
    shortcode  varchar PRIMARY KEY REFERENCES insta_post (shortcode) ON DELETE CASCADE,
    comments   jsonb,
    updated_at timestamptz DEFAULT now()
);

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
CREATE INDEX tiktok_post_client_created_idx ON tiktok_post (client_id, created_at);

CREATE TABLE tiktok_post_roles (
    video_id  varchar NOT NULL REFERENCES tiktok_post (video_id) ON DELETE CASCADE,
    role_name varchar NOT NULL,
    PRIMARY KEY (video_id, role_name)
);

CREATE TABLE tiktok_comment (
    video_id   varchar PRIMARY KEY REFERENCES tiktok_post (video_id) ON DELETE CASCADE,
    comments   jsonb,
    updated_at timestamptz DEFAULT now()
);

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
);
