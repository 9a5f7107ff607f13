"""The engine's events as Textual messages: one adapter posts each tracker event to the screen that shows it."""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump

from esh_tui.tracker import events


class EngineMessage(Message, bubble=False):
    """One engine event; handlers are named on_engine_<event>, e.g. on_engine_release_found."""

    __slots__ = ("event",)

    def __init_subclass__(cls, **options) -> None:
        super().__init_subclass__(bubble=False, namespace="engine", **options)

    def __init__(self, event: events.Event) -> None:
        super().__init__()
        self.event = event


def _message_for(event_type: type) -> type[EngineMessage]:
    name = event_type.__name__
    return type(name, (EngineMessage,), {"__module__": __name__, "__qualname__": name, "__slots__": (),
                                         "__doc__": f"The tracker's {name} event, as a message."})


RunStarted, ArtistStarted, ReleaseFound, ArtistDone, ArtistFailed, RunFinished = (
    _message_for(t) for t in (events.RunStarted, events.ArtistStarted, events.ReleaseFound, events.ArtistDone,
                              events.ArtistFailed, events.RunFinished))


class Progress(EngineMessage):
    """The tracker's Progress event: artists done of all."""

    __slots__ = ()

    def can_replace(self, message: Message) -> bool:
        """A newer count supersedes this one when it is queued right behind it (only the latest is drawn)."""
        return isinstance(message, Progress)


MESSAGES: dict[type, type[EngineMessage]] = {
    events.RunStarted: RunStarted, events.ArtistStarted: ArtistStarted, events.ReleaseFound: ReleaseFound,
    events.ArtistDone: ArtistDone, events.ArtistFailed: ArtistFailed, events.Progress: Progress,
    events.RunFinished: RunFinished,
}


class EngineMessages:
    """The tracker's `on_event`. Called on the event loop, possibly thousands of times a second, so it only wraps
    the event and queues it (no widget work); the target handles it on its own turn. After the app has closed,
    posting does nothing."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target

    def __call__(self, event: events.Event) -> None:
        self.target.post_message(MESSAGES[type(event)](event))
