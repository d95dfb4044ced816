-- user_version 4
CREATE INDEX users_by_name ON users(username);
CREATE TABLE conversations (  id TEXT PRIMARY KEY,  kind TEXT NOT NULL,  title TEXT,  role TEXT,  muted INTEGER NOT NULL DEFAULT 0,  last_seq INTEGER NOT NULL DEFAULT 0,  read_seq INTEGER NOT NULL DEFAULT 0,  delivered_seq INTEGER NOT NULL DEFAULT 0,  unread INTEGER NOT NULL DEFAULT 0,  created_at INTEGER NOT NULL DEFAULT 0,  last_activity INTEGER NOT NULL DEFAULT 0,  sync_seq INTEGER NOT NULL DEFAULT 0, rev INTEGER NOT NULL DEFAULT 0, sync_rev INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE members (  conversation_id TEXT NOT NULL,  user_id TEXT NOT NULL,  role TEXT NOT NULL,  delivered_seq INTEGER NOT NULL DEFAULT 0,  read_seq INTEGER NOT NULL DEFAULT 0,  present INTEGER NOT NULL DEFAULT 1, position INTEGER NOT NULL DEFAULT 0,  PRIMARY KEY (conversation_id, user_id)) WITHOUT ROWID;
CREATE TABLE messages (  conversation_id TEXT NOT NULL,  seq INTEGER NOT NULL,  id TEXT NOT NULL,  sender TEXT NOT NULL,  client_id TEXT,  body TEXT NOT NULL,  created_at INTEGER NOT NULL,  edited_at INTEGER,  deleted INTEGER NOT NULL DEFAULT 0,  reply_to INTEGER,  UNIQUE (conversation_id, seq));
CREATE VIRTUAL TABLE messages_fts USING fts5(  body, content='messages', content_rowid='rowid',  tokenize='unicode61 remove_diacritics 2');
CREATE TABLE 'messages_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE 'messages_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE 'messages_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE 'messages_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE outbox (  position INTEGER PRIMARY KEY AUTOINCREMENT,  client_id TEXT NOT NULL UNIQUE,  conversation_id TEXT NOT NULL,  body TEXT NOT NULL,  reply_to INTEGER,  created_at INTEGER NOT NULL,  error TEXT);
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE users (  id TEXT PRIMARY KEY,  username TEXT NOT NULL,  display_name TEXT NOT NULL,  presence TEXT NOT NULL DEFAULT 'offline',  last_seen INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);  INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);END;
