"""Telling the listener: notifications (Apprise), feeds (Atom, iCalendar) and the watch loop that runs them."""
