"""Server-sent events (``text/event-stream``) as the hub writes them:

    event: version
    data: {"event":"version","model":"fmnist","version":1,...}

separated by blank lines; lines starting with ':' are comments (``: subscribed to 1
model(s)`` once the stream is live, ``: keep-alive`` every 15 s).
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Optional

from .errors import HubError


@dataclass
class Event:
    """One event: its type (``version``, ``contribution``) and its JSON data."""

    type: str
    data: dict


class EventStream:
    """Reads events from an open HTTP response; ``close()`` (or ``with``) ends the stream."""

    def __init__(self, response):
        self._response = response
        self.subscribed = False  # the ": subscribed" comment arrived: no later event is missed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._response.close()

    def _line(self) -> str:
        try:
            raw = self._response.readline()
        except (socket.timeout, TimeoutError):
            raise HubError("timeout", "the hub's event stream sent nothing (not even a keep-alive) in time") from None
        except (ConnectionError, OSError) as e:
            raise HubError("unavailable", f"the hub's event stream broke ({e})") from None
        if not raw:
            raise HubError("unavailable", "the hub closed its event stream (did it stop?)")
        return raw.decode("utf-8").rstrip("\r\n")

    def wait_subscribed(self) -> None:
        """Reads up to the hub's ``: subscribed`` comment: from then on no event is missed."""
        while not self.subscribed:
            line = self._line()
            if line.startswith(":") and "subscribed" in line:
                self.subscribed = True

    def next_event(self, deadline: Optional[float] = None) -> Optional[Event]:
        """The next event, or None once ``deadline`` (time.monotonic()) has passed between lines."""
        kind, data = "message", []
        while True:
            if deadline is not None and time.monotonic() > deadline:
                return None
            line = self._line()
            if line.startswith(":"):
                if "subscribed" in line:
                    self.subscribed = True
                continue
            if line == "":
                if data:
                    try:
                        return Event(kind, json.loads("\n".join(data)))
                    except ValueError as e:
                        raise HubError("bad_request", f"the hub sent an event that is not JSON ({e})") from None
                kind = "message"
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                kind = value
            elif name == "data":
                data.append(value)

    def __iter__(self):
        while True:
            yield self.next_event()
