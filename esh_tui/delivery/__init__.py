"""Telling the listener about new releases: a Spotify playlist (playlist.py), notifications (Apprise), feeds
(Atom, iCalendar) and the watch loop that runs them."""
