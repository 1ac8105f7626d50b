"""Storage adapters: in-memory (tests, prototypes) and SQLAlchemy (SQLite, PostgreSQL)."""
