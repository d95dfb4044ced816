-- user_version 7
CREATE INDEX media_by_hash ON media(sha256);
CREATE INDEX media_by_thumbnail ON media(thumbnail_hash) WHERE thumbnail_hash IS NOT NULL;
CREATE INDEX media_by_uploader ON media(uploader);
CREATE INDEX media_orphans ON media(created_at) WHERE attached = 0;
CREATE INDEX media_thumbnails_pending ON media(created_at) WHERE thumbnail_pending = 1;
CREATE INDEX members_by_user ON members(user_id);
CREATE INDEX message_media_by_media ON message_media(media_id);
CREATE UNIQUE INDEX messages_by_client_id ON messages(conversation_id, sender, client_id);
CREATE INDEX messages_by_rev ON messages(conversation_id, rev) WHERE rev > 0;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE TABLE conversations (  id TEXT PRIMARY KEY,  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),  title TEXT,  direct_key TEXT UNIQUE,  created_at INTEGER NOT NULL,  updated_at INTEGER NOT NULL,  last_seq INTEGER NOT NULL DEFAULT 0, rev INTEGER NOT NULL DEFAULT 0);
CREATE TABLE invites (  id TEXT PRIMARY KEY,  token_hash BLOB NOT NULL UNIQUE,  created_by TEXT,  created_at INTEGER NOT NULL,  expires_at INTEGER NOT NULL,  uses_left INTEGER NOT NULL CHECK (uses_left >= 0),  uses INTEGER NOT NULL DEFAULT 0);
CREATE TABLE media (  id TEXT PRIMARY KEY,  uploader TEXT NOT NULL,  name TEXT NOT NULL,  mime TEXT NOT NULL,  size INTEGER NOT NULL,  sha256 TEXT NOT NULL,  width INTEGER,  height INTEGER,  thumbnail_hash TEXT,  thumbnail_mime TEXT,  created_at INTEGER NOT NULL,  attached INTEGER NOT NULL DEFAULT 0, thumbnail_pending INTEGER NOT NULL DEFAULT 0);
CREATE TABLE members (  conversation_id TEXT NOT NULL REFERENCES conversations(id),  user_id TEXT NOT NULL REFERENCES users(id),  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),  muted INTEGER NOT NULL DEFAULT 0,  read_seq INTEGER NOT NULL DEFAULT 0,  delivered_seq INTEGER NOT NULL DEFAULT 0,  joined_at INTEGER NOT NULL,  PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;
CREATE TABLE message_media (  conversation_id TEXT NOT NULL,  seq INTEGER NOT NULL,  position INTEGER NOT NULL,  media_id TEXT NOT NULL REFERENCES media(id),  PRIMARY KEY (conversation_id, seq, position)) WITHOUT ROWID;
CREATE TABLE messages (  conversation_id TEXT NOT NULL,  seq INTEGER NOT NULL,  id TEXT NOT NULL UNIQUE,  sender TEXT NOT NULL,  client_id TEXT NOT NULL,  body TEXT NOT NULL,  created_at INTEGER NOT NULL,  edited_at INTEGER,  deleted INTEGER NOT NULL DEFAULT 0,  reply_to INTEGER, rev INTEGER NOT NULL DEFAULT 0, json TEXT NOT NULL DEFAULT '', media TEXT,  PRIMARY KEY (conversation_id, seq)) WITHOUT ROWID;
CREATE TABLE sessions (  token_hash BLOB PRIMARY KEY,  user_id TEXT NOT NULL REFERENCES users(id),  device TEXT,  created_at INTEGER NOT NULL,  expires_at INTEGER NOT NULL,  revoked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE users (  id TEXT PRIMARY KEY,  username TEXT NOT NULL UNIQUE,  display_name TEXT NOT NULL,  pw_hash TEXT NOT NULL,  created_at INTEGER NOT NULL,  last_seen INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0, server_admin INTEGER NOT NULL DEFAULT 0, reset_code_hash BLOB, reset_code_expires INTEGER);
