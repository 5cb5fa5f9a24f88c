"""The web chat's conversation id: made by the server, signed, kept in a cookie the page's
script cannot read (HttpOnly, SameSite=Lax), so a browser never chooses whose
conversation it is in.

The key is ``WEBCHAT_SECRET_KEY``, or else one derived from ``PSEUDONYM_KEY`` (the same
on every Rasa server behind a load balancer). A cookie lasts as long as conversations
are kept (``RETENTION_DAYS``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, TimestampSigner
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings

COOKIE = "send_chat"
PATH = "/webhooks/webchat"
PREFIX = "web-"


def signing_key(settings: Settings) -> bytes:
    """WEBCHAT_SECRET_KEY, or a key derived from PSEUDONYM_KEY for this purpose only."""
    if settings.webchat_secret_key:
        return settings.webchat_secret_key.encode()
    return hmac.new(settings.pseudonym_key.encode(), b"webchat-cookie", hashlib.sha256).digest()


def new_conversation() -> str:
    return PREFIX + secrets.token_urlsafe(18)


class ConversationCookie:
    """Issues and reads the signed conversation cookie."""

    def __init__(self, settings: Settings) -> None:
        self.signer = TimestampSigner(signing_key(settings), salt="webchat-conversation")
        self.max_age = max(1, settings.retention_days) * 24 * 3600
        self.secure = settings.public_url.startswith("https://")

    def read(self, request: Request) -> str | None:
        """The conversation id in the request's cookie, if its signature holds and it is
        not older than ``max_age``; else None."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            conversation = self.signer.unsign(value, max_age=self.max_age).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        return conversation if conversation.startswith(PREFIX) else None

    def conversation(self, request: Request) -> tuple[str, bool]:
        """The request's conversation id, or a new one; and whether it is new."""
        found = self.read(request)
        return (found, False) if found else (new_conversation(), True)

    def give(self, reply: HTTPResponse, conversation: str) -> HTTPResponse:
        """Set the cookie for ``conversation`` on ``reply``."""
        reply.cookies[COOKIE] = self.signer.sign(conversation).decode()
        cookie = reply.cookies[COOKIE]
        cookie["path"] = PATH
        cookie["max-age"] = self.max_age
        cookie["httponly"] = True
        cookie["samesite"] = "Lax"
        if self.secure:
            cookie["secure"] = True
        return reply
