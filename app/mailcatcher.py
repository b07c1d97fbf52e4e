"""A local SMTP server that stores every message as ``.eml`` (used by ``make run``)."""

from __future__ import annotations

import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

from app.devservices import free_port


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{abs(hash(envelope.content)) % 10**8}.eml"
        path = self.folder / name
        path.write_bytes(envelope.content)
        print(f"mail: “{msg['Subject']}” to {', '.join(envelope.rcpt_tos)} -> {path}", flush=True)
        return "250 Message accepted for delivery"


class MailCatcher:
    """SMTP on 127.0.0.1 writing each message to ``folder``; ``url`` is its ``SMTP_URL``."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        """``smtp://127.0.0.1:<port>``."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailCatcher:
        """Start the server thread."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.controller = Controller(_Handler(self.folder), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        if self.controller is not None:
            self.controller.stop()
