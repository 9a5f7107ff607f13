"""Talking to the Spotify Web API: the only package that does."""
