"""Numbered, ordered schema migrations. ``PRAGMA user_version`` holds the
number of the last one applied. Never edit a released migration: add one."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_telemetry_and_fleet",
        """
        CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            labels TEXT NOT NULL,          -- canonical JSON object, keys sorted, host included
            host_id TEXT NOT NULL DEFAULT '',
            created_ms INTEGER NOT NULL,
            UNIQUE (name, labels)
        );
        CREATE INDEX series_by_name ON series (name);
        CREATE TABLE samples (
            series_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,           -- Unix milliseconds
            value REAL NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_1m (
            series_id INTEGER NOT NULL, ts INTEGER NOT NULL,
            min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL, last REAL NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_1h (
            series_id INTEGER NOT NULL, ts INTEGER NOT NULL,
            min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL, last REAL NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_progress (resolution TEXT PRIMARY KEY, done_until_ms INTEGER NOT NULL);
        CREATE TABLE hosts (
            host_id TEXT PRIMARY KEY,
            hostname TEXT NOT NULL,
            address TEXT NOT NULL,
            labels TEXT NOT NULL,
            agent_version TEXT NOT NULL,
            capabilities TEXT NOT NULL,
            registered_ms INTEGER NOT NULL,
            last_heartbeat_ms INTEGER NOT NULL,
            last_push_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE ingest_cursor (
            host_id TEXT PRIMARY KEY,
            epoch TEXT NOT NULL,
            acked_seq INTEGER NOT NULL
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            host_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            kind TEXT NOT NULL,
            severity INTEGER NOT NULL,
            service TEXT NOT NULL,
            message TEXT NOT NULL,
            attributes TEXT NOT NULL
        );
        CREATE INDEX events_by_ts ON events (ts);
        CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL,
            last_used_ms INTEGER NOT NULL DEFAULT 0,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    (
        "0002_host_certificates",
        """
        ALTER TABLE hosts ADD COLUMN cert_not_after_ms INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        "0003_audit_log",
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            arguments TEXT NOT NULL,
            result TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_by_ts ON audit (ts);
        CREATE TABLE audit_head (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            last_id INTEGER NOT NULL,
            last_hash TEXT NOT NULL,
            entries INTEGER NOT NULL
        );
        """,
    ),
    (
        "0004_services",
        """
        CREATE TABLE service_specs (
            name TEXT NOT NULL,
            revision INTEGER NOT NULL,
            source_toml TEXT NOT NULL,
            applied_ms INTEGER NOT NULL,
            applied_by TEXT NOT NULL,
            PRIMARY KEY (name, revision)
        );
        """,
    ),
    (
        "0005_alerts",
        """
        CREATE TABLE alerts (
            rule_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            labels TEXT NOT NULL,
            annotations TEXT NOT NULL,
            state TEXT NOT NULL,
            active_at_ms INTEGER NOT NULL,
            fired_at_ms INTEGER NOT NULL,
            resolved_at_ms INTEGER NOT NULL,
            value REAL NOT NULL,
            keep_firing_since_ms INTEGER NOT NULL,
            PRIMARY KEY (rule_key, fingerprint)
        );
        """,
    ),
    (
        "0006_silences_and_notifications",
        """
        CREATE TABLE silences (
            id TEXT PRIMARY KEY,
            matchers TEXT NOT NULL,        -- JSON [[name, op, value], ...]
            starts_ms INTEGER NOT NULL,
            ends_ms INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_ms INTEGER NOT NULL
        );
        CREATE TABLE notify_state (
            notifier TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (notifier, key)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            notifier TEXT NOT NULL,
            url TEXT NOT NULL,
            body BLOB NOT NULL,
            content_type TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            next_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL
        );
        CREATE INDEX outbox_by_next ON outbox (next_ms);
        """,
    ),
    (
        "0007_rollouts",
        """
        CREATE TABLE rollouts (
            id INTEGER PRIMARY KEY,
            service TEXT NOT NULL,
            state TEXT NOT NULL,
            doc TEXT NOT NULL,             -- the whole rollout document (rollouts/model.py), JSON
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        );
        CREATE INDEX rollouts_by_service ON rollouts (service, id);
        CREATE INDEX rollouts_by_state ON rollouts (state);
        """,
    ),
    (
        "0008_drills",
        """
        CREATE TABLE drills (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            state TEXT NOT NULL,
            doc TEXT NOT NULL,             -- the journal (chaos/journal.py), JSON
            started_ms INTEGER NOT NULL,
            finished_ms INTEGER NOT NULL DEFAULT 0
        );
        """,
    ),
    (
        "0009_incidents",
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            dedup_key TEXT NOT NULL,
            state TEXT NOT NULL,
            doc TEXT NOT NULL,             -- the incident (incidents/model.py), JSON
            opened_ms INTEGER NOT NULL,
            service TEXT NOT NULL DEFAULT '',
            priority TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX incidents_by_state ON incidents (state);
        CREATE INDEX events_by_service ON events (service, ts);
        """,
    ),
    (
        "0010_host_target",
        """
        ALTER TABLE hosts ADD COLUMN metrics_address TEXT NOT NULL DEFAULT '';
        ALTER TABLE hosts ADD COLUMN job TEXT NOT NULL DEFAULT 'node';
        """,
    ),
    (
        "0011_nan_samples",
        """
        -- SQLite cannot hold a NaN in a REAL column: NaN samples and Prometheus'
        -- staleness markers (stale = 1) live here, merged with samples on read
        CREATE TABLE nan_samples (
            series_id INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            stale INTEGER NOT NULL,
            PRIMARY KEY (series_id, ts)
        ) WITHOUT ROWID;
        """,
    ),
    (
        "0012_remote_write",
        """
        -- every sample row written while remote-write endpoints are configured, in
        -- commit order (the writer's temporary triggers fill it): the read position
        -- of each endpoint. A new seq is one more than the largest, and pruning
        -- always keeps the largest, so a number is never used twice
        CREATE TABLE remote_write_log (
            seq INTEGER PRIMARY KEY,
            series_id INTEGER NOT NULL,
            ts INTEGER NOT NULL
        );
        CREATE TABLE remote_write_cursor (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            sent_seq INTEGER NOT NULL,     -- the log up to here was answered (2xx, or refused for good)
            inflight_seq INTEGER NOT NULL, -- the chunk being sent ends here: re-sent alike after a crash
            updated_ms INTEGER NOT NULL
        );
        """,
    ),
]
