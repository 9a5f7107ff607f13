"""Remembering: the SQLite store, the memory tier in front of it, and the TTL policy."""
