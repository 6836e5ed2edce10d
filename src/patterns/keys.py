"""Namespaced, cluster-safe key names for everything the package stores on a shared server.

A workshop room shares one Redis and one Kafka broker. Without a namespace, two learners' rate
limiters count each other's requests, one reads the other's cached price, and one ``clear()`` wipes
everyone's data. So every key, channel, topic and consumer group the package creates starts with a
namespace:

* ``PATTERNS_NAMESPACE`` when it is set (the instructor's roster gives each learner one; Redis ACLs
  then confine the learner to ``~<namespace>:*``), else
* one derived once per process from the user name and a per-process id, e.g. ``alice-3f2a9c``.
  A derived namespace dies with its process: a restarted kernel starts with fresh keys, topics and
  consumer groups. State that must survive a restart on a shared server (a projector's checkpoint,
  a consumer group's offsets, a saga's topics) needs ``PATTERNS_NAMESPACE`` set.

Key layout: ``<namespace>:<component>:{<entity>}[:<suffix>...]``. The braces are a Redis Cluster
*hash tag*: only the text inside them picks the slot, so every key one operation touches for one
entity (a limiter's log and its sequence counter, a cached value and its lease) lands in the same
slot and a multi-key Lua script never fails with CROSSSLOT. A component that must update several
entities atomically (a read model and its checkpoint) uses one tag for the whole store instead.

``KeySpace.clear`` deletes only its own keys: the glob characters ``* ? [ ] \\`` in a prefix are
escaped, so a prefix such as ``a*`` cannot match other learners' keys, and it uses ``SCAN`` (never
``KEYS``, ``FLUSHDB`` or ``FLUSHALL``, which a shared server's ACL denies anyway).
"""

from __future__ import annotations

import getpass
import os
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from patterns._validate import require_int

__all__ = [
    "NAMESPACE_ENV",
    "namespace",
    "validate_namespace",
    "glob_escape",
    "KeySpace",
    "clear_namespace",
    "kafka_name",
    "tag_safe",
]

NAMESPACE_ENV = "PATTERNS_NAMESPACE"
_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_derived: str | None = None
_lock = threading.Lock()


def validate_namespace(value: object, name: str = "namespace") -> str:
    """A namespace: 1-40 characters, letters, digits, ``-`` and ``_``, starting with a letter or digit.

    The alphabet is the intersection of what is safe in a Redis key pattern (no glob characters, no
    ``:`` or braces), in a Kafka topic name and in an ACL rule.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not _NAMESPACE.match(value):
        raise ValueError(
            f"{name} must be 1-40 characters of letters, digits, '-' or '_' (starting with a letter or "
            f"digit), got {value!r}"
        )
    return value


def _derive() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user database entry (some containers): still isolate by process
        user = "user"
    user = re.sub(r"[^A-Za-z0-9_-]", "", user)[:24] or "user"
    if not user[0].isalnum():
        user = "u" + user[:23]
    return f"{user}-{os.getpid():x}{secrets.token_hex(2)}"[:40]


def namespace() -> str:
    """The namespace for this process: ``PATTERNS_NAMESPACE`` if set, else derived once and kept."""
    configured = os.environ.get(NAMESPACE_ENV)
    if configured:
        return validate_namespace(configured, NAMESPACE_ENV)
    global _derived
    with _lock:
        if _derived is None:
            _derived = _derive()
        return _derived


def glob_escape(text: str) -> str:
    """``text`` with Redis glob characters escaped, so a ``MATCH`` pattern matches it literally."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


def tag_safe(entity: str) -> str:
    """``entity`` made safe to sit inside a hash tag: ``%``, ``{`` and ``}`` are percent-encoded.

    A brace inside the tag would end it early (``{a}b}`` hashes only ``a``) or empty it (``{}`` hashes
    the whole key), so an entity's keys could land in different slots. For the same reason the empty
    entity becomes ``%`` (which no other entity encodes to). The encoding is one-to-one.
    """
    if not isinstance(entity, str):
        raise TypeError(f"key must be a string, got {type(entity).__name__}")
    if entity and "%" not in entity and "{" not in entity and "}" not in entity:
        return entity  # the common case, kept cheap: this runs on every cache hit
    return entity.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") or "%"


def _tag_unsafe(text: str) -> str:
    if text == "%":
        return ""
    return text.replace("%7D", "}").replace("%7B", "{").replace("%25", "%")


def kafka_name(name: str, ns: str | None = None) -> str:
    """A topic or consumer-group name on a shared broker: ``<namespace>.<name>``."""
    return f"{ns or namespace()}.{name}"


@dataclass(frozen=True)
class KeySpace:
    """The keys of one component in one namespace.

    ``KeySpace.of("ratelimit:fixed_window")`` → prefix ``<namespace>:ratelimit:fixed_window``;
    ``ks.key("user-42")`` → ``<namespace>:ratelimit:fixed_window:{user-42}``;
    ``ks.key("user-42", "seq")`` → ``...:{user-42}:seq`` (same slot as the first).
    """

    prefix: str

    def __post_init__(self) -> None:
        if not isinstance(self.prefix, str) or not self.prefix:
            raise ValueError(f"prefix must be a non-empty string, got {self.prefix!r}")
        if "{" in self.prefix or "}" in self.prefix:
            raise ValueError(f"prefix must not contain braces (they would change the hash tag), got {self.prefix!r}")

    @classmethod
    def of(cls, component: str, *, ns: str | None = None) -> KeySpace:
        """The key space of ``component`` (e.g. ``"aside"`` or ``"ratelimit:gcra"``) in ``ns``
        (default: this process's ``namespace()``). ``component`` may be a caller's own prefix; a
        trailing ``:`` is dropped."""
        if not isinstance(component, str):
            raise TypeError(f"component must be a string, got {type(component).__name__}")
        component = component.rstrip(":")
        if not component:
            raise ValueError("component must be a non-empty string")
        space = validate_namespace(ns) if ns is not None else namespace()
        return cls(f"{space}:{component}")

    def key(self, entity: str, *suffix: str) -> str:
        """The key of ``entity`` (hash-tagged, braces encoded by ``tag_safe``), with optional
        ``suffix`` parts after the tag."""
        tail = "".join(f":{part}" for part in suffix)
        return f"{self.prefix}:{{{tag_safe(entity)}}}{tail}"

    def entity_of(self, key: str | bytes) -> str:
        """Inverse of ``key(entity)`` for keys without a suffix (for listing a space's entities)."""
        text = key.decode() if isinstance(key, bytes) else key
        head = f"{self.prefix}:{{"
        if not text.startswith(head) or not text.endswith("}"):
            raise ValueError(f"{text!r} is not an entity key of {self.prefix!r}")
        return _tag_unsafe(text[len(head) : -1])

    def pattern(self) -> str:
        """A ``SCAN MATCH`` pattern for every key of this space and nothing else.

        Every key starts with ``<prefix>:{``, so a space whose prefix extends this one
        (``ratelimit:gcra:x`` beside ``ratelimit:gcra``) is not matched."""
        return glob_escape(self.prefix) + ":{*"

    def clear(self, client: Any, *, batch: int = 500) -> int:
        """Delete every key of this space with ``SCAN`` + ``DEL``; returns how many were deleted.

        Works on a single server and on a ``redis.cluster.RedisCluster`` (whose ``scan_iter`` visits
        every primary and whose ``delete`` splits keys by slot). Never ``KEYS``/``FLUSHDB``.
        """
        return _delete_matching(client, self.pattern(), batch)


def clear_namespace(client: Any, ns: str | None = None, *, batch: int = 500) -> int:
    """Delete every key of namespace ``ns`` (default: this process's), whatever component made it.

    A learner's "start over" on a shared server: ``KeySpace.clear`` empties one component, this
    empties everything the package stored for one learner, and nothing of anyone else's
    (``<ns>:*`` with the namespace's glob characters escaped). Returns how many keys it deleted.
    """
    space = validate_namespace(ns) if ns is not None else namespace()
    return _delete_matching(client, glob_escape(space) + ":*", batch)


def _delete_matching(client: Any, pattern: str, batch: int) -> int:
    """``SCAN MATCH pattern`` + ``DEL`` in batches: never ``KEYS``/``FLUSHDB``. On a
    ``redis.cluster.RedisCluster`` ``scan_iter`` visits every primary and ``delete`` splits by slot."""
    require_int(batch, "batch", minimum=1, maximum=100_000)
    deleted = 0
    pending: list[Any] = []
    for key in client.scan_iter(match=pattern, count=batch):
        pending.append(key)
        if len(pending) >= batch:
            deleted += int(client.delete(*pending))
            pending.clear()
    if pending:
        deleted += int(client.delete(*pending))
    return deleted
