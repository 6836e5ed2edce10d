"""Opaque, tamper-evident page cursors: base64url(JSON of the last sort key) + "." + an HMAC tag.

Why sign: a cursor is a value the client hands back. Unsigned, a client can edit it to start at any
key (an enumeration trick) and the server must trust arbitrary input in its WHERE clause. With an
HMAC tag, an edited key cannot be forged, and any changed character is rejected: only the exact
token the server issued decodes. (Base64 alone is not that strict: the last character of an
unpadded block carries spare bits that decoders ignore, and non-alphabet characters are skipped,
so about 1 in 200 hand-edited tokens would decode to the original bytes; ``decode`` accepts a token
only if re-encoding its bytes gives back exactly the same text.) Why bind a scope: a cursor from
``/orders`` must not be accepted by ``/users``. Signing does not encrypt: the sort key is readable
by anyone who decodes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from patterns.api.errors import InvalidCursor

__all__ = ["CursorCodec"]

_TAG_BYTES = 16  # 128 bits of HMAC-SHA256: forging one takes ~2**128 tries


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict decoding: only the canonical encoding of some bytes is accepted."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical base64url encoding")
    return data


class CursorCodec:
    """Encode a sort key (a tuple of JSON scalars, ``None`` for SQL NULL) into a signed token and back."""

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes):
            raise TypeError(f"secret must be bytes, got {type(secret).__name__}")
        if len(secret) < 16:
            raise ValueError(f"secret must be at least 16 bytes, got {len(secret)}")
        self._secret = secret

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, key: Sequence[Any], scope: str) -> str:
        """A token for ``key`` (e.g. ``(created_at, id)``) valid only for ``scope`` (e.g. a list name)."""
        if isinstance(key, (str, bytes)) or not isinstance(key, Sequence) or not key:
            raise TypeError("key must be a non-empty sequence of scalars, e.g. (created_at, id)")
        for part in key:
            if part is not None and (isinstance(part, bool) or not isinstance(part, (int, float, str))):
                raise TypeError(f"key parts must be int, float, str or None, got {type(part).__name__}")
        payload = json.dumps({"k": list(key), "s": scope}, separators=(",", ":"), allow_nan=False).encode()
        return f"{_b64(payload)}.{_b64(self._tag(payload))}"

    def decode(self, token: str, scope: str) -> tuple[Any, ...]:
        """The key inside ``token``; ``InvalidCursor`` (a 400) if it is garbled, forged, edited in any
        character, or for another scope."""
        if not isinstance(token, str) or not token or len(token) > 4096 or not token.isascii():
            raise InvalidCursor("cursor must be a non-empty string returned by a previous page")
        body, dot, tag = token.partition(".")
        try:
            payload, given = _unb64(body), _unb64(tag)
        except (binascii.Error, ValueError):
            raise InvalidCursor("cursor is not valid base64url; pass next_cursor exactly as received") from None
        if not dot or not hmac.compare_digest(given, self._tag(payload)):
            raise InvalidCursor("cursor signature does not match; it was altered or not issued here")
        data = json.loads(payload)  # signed by us, so well-formed
        if data.get("s") != scope:
            raise InvalidCursor(f"cursor belongs to {data.get('s')!r}, not {scope!r}")
        return tuple(data["k"])
