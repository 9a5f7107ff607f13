"""Telling the listener about new releases: a Spotify playlist (playlist.py)."""
