"""Redis Cluster's slot protocol: a live cluster, a faithful simulation, and a client that follows it.

A cluster client keeps a *slot map* (slot -> master) and sends each command straight to the owner
of its key's slot. When the map is wrong, the server says so, in one of two ways:

* ``MOVED <slot> <node>``: "that slot lives on <node> now": the client updates its map for that slot
  and retries there. Seen after a slot has moved for good (or when the map was never right).
* ``ASK <slot> <node>``: "this slot is being migrated and your key is not here (any more): try
  <node>, this once". The client sends ``ASKING`` and then the command to <node>, and does **not**
  change its map: until the migration ends, keys still on the source are served there.

A slot migrates in four steps (what ``redis-cli --cluster reshard`` does for every slot it moves):
``CLUSTER SETSLOT s IMPORTING <source>`` on the target, ``CLUSTER SETSLOT s MIGRATING <target>`` on
the source, then ``CLUSTER GETKEYSINSLOT`` + ``MIGRATE`` in batches until the source has no key of
``s``, and ``CLUSTER SETSLOT s NODE <target>`` on every master. Writes keep flowing throughout:
a key is always on exactly one node, and the redirections tell the client which.

Two implementations of the same small interface (``ClusterNodes``):

* ``LiveCluster(url)``: a real Redis Cluster (``PATTERNS_REDIS_CLUSTER_URL``), one connection per
  master, redis-py's MOVED/ASK errors turned into ``Redirect``.
* ``SimulatedCluster(masters=3)``: the same rules in memory (slot ownership as each node sees it,
  MIGRATING/IMPORTING states, ASKING, MIGRATE), for labs without a cluster. Deterministic.

``SlotClient`` is a minimal smart client over either, counting the redirections it followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse, urlunparse

from patterns import compat, infra
from patterns._validate import require_int, require_one_of, require_text
from patterns.errors import BackendUnavailable, PatternError
from patterns.keys import glob_escape
from patterns.sharding.slots import SLOTS, key_slot, slot_ranges

__all__ = [
    "Redirect",
    "ClusterError",
    "ClusterNodes",
    "SimulatedCluster",
    "LiveCluster",
    "SlotClient",
    "open_cluster",
    "MAX_REDIRECTS",
]

MAX_REDIRECTS = 16  # what redis-py allows one command (RedisClusterRequestTTL)
SLOT_STATES = ("importing", "migrating", "node", "stable")
_WRITES = {"SET": 2, "DEL": 1}  # command -> number of arguments after the name
_READS = {"GET": 1, "EXISTS": 1}


class Redirect(Exception):
    """A node's ``MOVED`` or ``ASK`` reply: ``kind``, the ``slot``, and the ``node`` to try."""

    def __init__(self, kind: str, slot: int, node: str) -> None:
        super().__init__(f"{kind} {slot} {node}")
        self.kind = kind
        self.slot = slot
        self.node = node


class ClusterError(PatternError):
    """A cluster refused an administrative step (a SETSLOT in the wrong state, a MIGRATE onto a
    node that neither owns nor imports the slot): the message is the node's own."""


@runtime_checkable
class ClusterNodes(Protocol):
    """What ``SlotClient`` and the migration procedure need from a cluster."""

    @property
    def masters(self) -> tuple[str, ...]: ...

    def slot_owners(self, node: str | None = None) -> list[str]: ...

    def execute(self, node: str, *command: Any, asking: bool = False) -> Any: ...

    def keys_in_slot(self, node: str, slot: int, count: int) -> list[bytes]: ...

    def set_slot(self, node: str, slot: int, state: str, other: str | None = None) -> None: ...

    def migrate(self, source: str, target: str, keys: Sequence[bytes], *, asking: bool = False) -> None: ...

    def count_prefixed(self, node: str, prefix: str) -> int: ...

    def clear_prefixed(self, prefix: str) -> int: ...

    def keyslots(self, keys: Sequence[str | bytes]) -> list[int]: ...


def _key_bytes(key: Any) -> bytes:
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode()
    raise TypeError(f"key must be a str or bytes, got {type(key).__name__}")


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).encode()
    raise TypeError(f"value must be bytes, str or a number, got {type(value).__name__}")


class SimulatedCluster:
    """Redis Cluster's slot rules in memory: ``SimulatedCluster(masters=3)`` names its masters
    ``A``, ``B``, ``C`` and splits the slots like ``redis-cli --cluster create``.

    Each node keeps its own view of who owns each slot (updated by ``SETSLOT NODE`` sent to it, and
    on every node when a node takes a slot for itself, as the cluster bus spreads the new epoch),
    its own MIGRATING/IMPORTING states and its own keys, and answers ``GET``/``SET``/``DEL``/``EXISTS``
    exactly as a cluster node would: served, ``MOVED`` or ``ASK``. Not thread-safe.
    """

    def __init__(self, masters: int = 3) -> None:
        count = require_int(masters, "masters", minimum=1, maximum=26)
        self._masters = tuple(chr(ord("A") + i) for i in range(count))
        owners: list[str] = [""] * SLOTS
        for name, (first, last) in zip(self._masters, slot_ranges(count), strict=True):
            owners[first : last + 1] = [name] * (last - first + 1)
        self._view = {name: list(owners) for name in self._masters}
        self._data: dict[str, dict[bytes, bytes]] = {name: {} for name in self._masters}
        self._migrating: dict[str, dict[int, str]] = {name: {} for name in self._masters}
        self._importing: dict[str, dict[int, str]] = {name: {} for name in self._masters}

    @property
    def masters(self) -> tuple[str, ...]:
        return self._masters

    def slot_owners(self, node: str | None = None) -> list[str]:
        """Who owns each slot, as ``node`` (default: the first master) sees it."""
        return list(self._view[self._node(node or self._masters[0])])

    def _node(self, node: str) -> str:
        if node not in self._view:
            raise ValueError(f"node must be one of {list(self._masters)}, got {node!r}")
        return node

    def execute(self, node: str, *command: Any, asking: bool = False) -> Any:
        node = self._node(node)
        if not command or not isinstance(command[0], str):
            raise TypeError("command must start with its name, e.g. execute('A', 'SET', key, value)")
        name = command[0].upper()
        arity = _WRITES.get(name, _READS.get(name))
        if arity is None:
            raise ValueError(f"command must be one of {sorted({*_WRITES, *_READS})}, got {command[0]!r}")
        if len(command) != arity + 1:
            raise TypeError(f"{name} takes {arity} argument(s), got {len(command) - 1}")
        key = _key_bytes(command[1])
        slot = key_slot(key)
        data = self._data[node]
        if self._view[node][slot] == node:
            target = self._migrating[node].get(slot)
            if target is not None and key not in data:
                raise Redirect("ASK", slot, target)  # moved already, or new: the target takes it
        elif not (asking and slot in self._importing[node]):
            raise Redirect("MOVED", slot, self._view[node][slot])
        if name == "SET":
            data[key] = _value_bytes(command[2])
            return True
        if name == "GET":
            return data.get(key)
        if name == "EXISTS":
            return int(key in data)
        return int(data.pop(key, None) is not None)  # DEL

    def keys_in_slot(self, node: str, slot: int, count: int) -> list[bytes]:
        slot = require_int(slot, "slot", maximum=SLOTS - 1)
        count = require_int(count, "count", minimum=1)
        found = [k for k in self._data[self._node(node)] if key_slot(k) == slot]
        return found[:count]

    def set_slot(self, node: str, slot: int, state: str, other: str | None = None) -> None:
        node = self._node(node)
        slot = require_int(slot, "slot", maximum=SLOTS - 1)
        state = require_one_of(state, "state", SLOT_STATES)
        owner = self._view[node][slot]
        if state == "stable":
            self._migrating[node].pop(slot, None)
            self._importing[node].pop(slot, None)
            return
        other = self._node(require_text(other, "other", max_length=200))
        if state == "importing":
            if owner == node:
                raise ClusterError(f"{node}: I'm already the owner of hash slot {slot}")
            self._importing[node][slot] = other
        elif state == "migrating":
            if owner != node:
                raise ClusterError(f"{node}: I'm not the owner of hash slot {slot}")
            self._migrating[node][slot] = other
        else:  # node: the slot now belongs to `other`
            if other != node and owner == node and self.keys_in_slot(node, slot, 1):
                raise ClusterError(f"{node}: can't assign hash slot {slot} to a different node while I "
                                   "still hold keys for it")
            if other != node:
                self._migrating[node].pop(slot, None)
                self._view[node][slot] = other
            else:
                # Taking a slot bumps the node's config epoch, and the cluster bus tells every node
                # at once (a real cluster does so within milliseconds): all views change. A source
                # still MIGRATING keeps that flag until it is told SETSLOT NODE (or STABLE) itself.
                self._importing[node].pop(slot, None)
                for view in self._view.values():
                    view[slot] = node

    def migrate(self, source: str, target: str, keys: Sequence[bytes], *, asking: bool = False) -> None:
        source, target = self._node(source), self._node(target)
        for key in map(_key_bytes, keys):
            slot = key_slot(key)
            if self._view[source][slot] != source and not (asking and slot in self._importing[source]):
                # MIGRATE names keys, so it is redirected like any keyed command
                raise ClusterError(f"{source}: MOVED {slot} {self._view[source][slot]}")
            if key not in self._data[source]:
                continue  # MIGRATE skips keys that are gone (NOKEY when none is left)
            if self._view[target][slot] != target and slot not in self._importing[target]:
                raise ClusterError(f"{target} refused the key: MOVED {slot} {self._view[target][slot]}")
            if key in self._data[target]:
                raise ClusterError(f"{target} refused the key: BUSYKEY target key name already exists")
            self._data[target][key] = self._data[source].pop(key)

    def count_prefixed(self, node: str, prefix: str) -> int:
        head = _key_bytes(prefix)
        return sum(1 for key in self._data[self._node(node)] if key.startswith(head))

    def keyslots(self, keys: Sequence[str | bytes]) -> list[int]:
        """The slot of each key as the simulation's "server" computes it: redis-py's own CRC16
        (``redis.crc.key_slot``), an implementation independent of ``patterns.sharding.key_slot``."""
        from redis.crc import key_slot as redis_py_key_slot

        return [int(redis_py_key_slot(_key_bytes(k))) for k in keys]

    def clear_prefixed(self, prefix: str) -> int:
        head = _key_bytes(prefix)
        deleted = 0
        for data in self._data.values():
            for key in [k for k in data if k.startswith(head)]:
                del data[key]
                deleted += 1
        return deleted

    def __repr__(self) -> str:
        return f"SimulatedCluster(masters={len(self._masters)})"


class LiveCluster:
    """A real Redis Cluster behind the ``ClusterNodes`` interface: ``LiveCluster()`` connects to
    ``PATTERNS_REDIS_CLUSTER_URL`` (or ``url``), names the masters ``A``, ``B``, ... in the order of
    their first slot, and opens one plain connection per master (commands go exactly where the
    caller says, so MOVED and ASK reach the caller instead of being followed silently).

    Administrative commands (``CLUSTER SETSLOT``, ``MIGRATE``) change the cluster for everyone: run
    migrations on a cluster of your own, not on a shared workshop cluster.
    """

    def __init__(self, url: str | None = None, *, timeout: float = 2.0) -> None:
        configured = url or infra.redis_cluster_url()
        if not configured:
            raise ValueError(f"no Redis Cluster configured: pass url= or set {infra.REDIS_CLUSTER_URL_ENV}")
        self.url: str = configured
        self.client = infra.redis_cluster_client(self.url, timeout=timeout)
        self._timeout = timeout
        with infra.redis_errors(self.url, "read the slot map of"):
            ranges = self.client.cluster_slots()
        firsts: dict[str, int] = {}
        for (first, _last), info in ranges.items():
            address = f"{info['primary'][0]}:{info['primary'][1]}"
            firsts[address] = min(first, firsts.get(address, SLOTS))
        ordered = sorted(firsts, key=firsts.__getitem__)
        self._masters = tuple(chr(ord("A") + i) for i in range(len(ordered)))
        self._address = dict(zip(self._masters, ordered, strict=True))
        self._name_of = {address: name for name, address in self._address.items()}
        self._conn = {name: self._connect(address) for name, address in self._address.items()}
        self._ids: dict[str, str] = {}

    def _connect(self, address: str) -> Any:
        """A plain client for one node, with the cluster URL's credentials and TLS choice."""
        parsed = urlparse(self.url)
        userinfo = parsed.netloc.rpartition("@")[0]
        scheme = "rediss" if parsed.scheme == "rediss" else "redis"
        netloc = f"{userinfo}@{address}" if userinfo else address
        return infra.redis_client(urlunparse((scheme, netloc, "/0", "", "", "")), timeout=self._timeout)

    @property
    def masters(self) -> tuple[str, ...]:
        return self._masters

    def address(self, node: str) -> str:
        """``host:port`` of master ``node``."""
        return self._address[self._known(node)]

    def _known(self, node: str) -> str:
        if node not in self._conn:
            raise ValueError(f"node must be one of {list(self._conn)}, got {node!r}")
        return node

    def _name(self, host: str, port: int) -> str:
        address = f"{host}:{port}"
        if address not in self._name_of:  # a node we did not know (e.g. a promoted replica)
            self._name_of[address] = address
            self._address[address] = address
            self._conn[address] = self._connect(address)
        return self._name_of[address]

    def slot_owners(self, node: str | None = None) -> list[str]:
        """Who owns each slot, as master ``node`` (default: the first) sees it (``CLUSTER SLOTS``).
        Asking a known master, not any node: a replica may not have heard of a move yet."""
        conn = self._conn[self._known(node or self._masters[0])]
        with infra.redis_errors(self.url, "read the slot map of"):
            ranges = conn.execute_command("CLUSTER", "SLOTS")  # [[first, last, [host, port, id], ...]]
        owners = [""] * SLOTS
        for first, last, primary, *_replicas in ranges:
            host = primary[0].decode() if isinstance(primary[0], bytes) else str(primary[0])
            name = self._name(host, int(primary[1]))
            owners[int(first) : int(last) + 1] = [name] * (int(last) - int(first) + 1)
        return owners

    def open_slots(self, node: str) -> dict[int, str]:
        """Slots ``node`` is migrating or importing: ``{slot: "migrating"|"importing"}`` (what
        ``redis-cli --cluster check`` calls open slots; empty when no migration is under way)."""
        text = self._admin(node, "CLUSTER", "NODES")
        mine = next(line for line in text.decode().splitlines() if "myself" in line.split()[2])
        found = {}
        for item in mine.split()[8:]:
            if item.startswith("["):  # [slot->-target-id] or [slot-<-source-id]
                slot, arrow = item[1:].split("-", 1)
                found[int(slot)] = "migrating" if arrow.startswith(">") else "importing"
        return found

    def execute(self, node: str, *command: Any, asking: bool = False) -> Any:
        from redis.exceptions import AskError, MovedError

        conn = self._conn[self._known(node)]
        try:
            with infra.redis_errors(self.url, f"run {command[0]} on"):
                if not asking:
                    return conn.execute_command(*command)
                pipe = conn.pipeline(transaction=False)
                pipe.execute_command("ASKING")
                pipe.execute_command(*command)
                return pipe.execute()[1]
        except MovedError as exc:
            raise Redirect("MOVED", int(exc.slot_id), self._name(exc.host, int(exc.port))) from None
        except AskError as exc:
            raise Redirect("ASK", int(exc.slot_id), self._name(exc.host, int(exc.port))) from None

    def _admin(self, node: str, *command: Any) -> Any:
        from redis.exceptions import ResponseError

        try:
            with infra.redis_errors(self.url, f"run {command[0]} {command[1]} on"):
                return self._conn[self._known(node)].execute_command(*command)
        except ResponseError as exc:
            raise ClusterError(f"{node}: {exc}") from None

    def keys_in_slot(self, node: str, slot: int, count: int) -> list[bytes]:
        slot = require_int(slot, "slot", maximum=SLOTS - 1)
        count = require_int(count, "count", minimum=1)
        return list(self._admin(node, "CLUSTER", "GETKEYSINSLOT", slot, count))

    def _node_id(self, node: str) -> str:
        if node not in self._ids:
            self._ids[node] = self._admin(node, "CLUSTER", "MYID").decode()
        return self._ids[node]

    def set_slot(self, node: str, slot: int, state: str, other: str | None = None) -> None:
        slot = require_int(slot, "slot", maximum=SLOTS - 1)
        state = require_one_of(state, "state", SLOT_STATES)
        if state == "stable":
            self._admin(node, "CLUSTER", "SETSLOT", slot, "STABLE")
            return
        other_id = self._node_id(self._known(require_text(other, "other", max_length=200)))
        self._admin(node, "CLUSTER", "SETSLOT", slot, state.upper(), other_id)

    def migrate(self, source: str, target: str, keys: Sequence[bytes], *, asking: bool = False) -> None:
        if not keys:
            return
        host, port = self.address(target).rsplit(":", 1)
        password = urlparse(self.url).password
        username = urlparse(self.url).username
        auth: list[Any] = []
        if password:
            auth = ["AUTH2", username or "default", password]
        timeout_ms = max(1, int(self._timeout * 1000))
        command = ("MIGRATE", host, int(port), "", 0, timeout_ms, *auth, "KEYS", *keys)
        if not asking:
            self._admin(source, *command)
            return
        from redis.exceptions import ResponseError

        try:
            with infra.redis_errors(self.url, "run MIGRATE on"):
                pipe = self._conn[self._known(source)].pipeline(transaction=False)
                pipe.execute_command("ASKING")
                pipe.execute_command(*command)
                pipe.execute()
        except ResponseError as exc:
            raise ClusterError(f"{source}: {exc}") from None

    def keyslots(self, keys: Sequence[str | bytes]) -> list[int]:
        """``CLUSTER KEYSLOT`` of each key, asked of the first master (pipelined, 1,000 at a time)."""
        conn = self._conn[self._masters[0]]
        slots: list[int] = []
        with infra.redis_errors(self.url, "run CLUSTER KEYSLOT on"):
            for start in range(0, len(keys), 1000):
                pipe = conn.pipeline(transaction=False)
                for key in keys[start : start + 1000]:
                    pipe.execute_command("CLUSTER", "KEYSLOT", key)
                slots.extend(int(slot) for slot in pipe.execute())
        return slots

    def count_prefixed(self, node: str, prefix: str) -> int:
        conn = self._conn[self._known(node)]
        with infra.redis_errors(self.url, "scan"):
            return sum(1 for _ in conn.scan_iter(match=glob_escape(prefix) + "*", count=1000))

    def clear_prefixed(self, prefix: str) -> int:
        deleted = 0
        for node in self._masters:
            conn = self._conn[node]
            with infra.redis_errors(self.url, "clear keys on"):
                keys = list(conn.scan_iter(match=glob_escape(prefix) + "*", count=1000))
                for key in keys:  # one by one: the keys of one node may span many slots
                    deleted += int(conn.delete(key))
        return deleted

    def close(self) -> None:
        for conn in self._conn.values():
            conn.close()
        self.client.close()

    def __repr__(self) -> str:
        return f"LiveCluster({infra.mask_url(self.url)!r}, masters={list(self._address.values())})"


class SlotClient:
    """A minimal smart client: routes by its slot map and follows MOVED and ASK, counting both.

    ``moved`` and ``asks`` count the redirections followed since the last ``reset_counts()``. A
    MOVED updates the map for that one slot (as redis-py does between full refreshes); an ASK does
    not (the migration is not finished: other keys of the slot may still be on the source).
    """

    def __init__(self, cluster: ClusterNodes) -> None:
        if not isinstance(cluster, ClusterNodes):
            raise TypeError(f"cluster must be a SimulatedCluster or LiveCluster, got {type(cluster).__name__}")
        self.cluster = cluster
        self._map = cluster.slot_owners()
        self.moved = 0
        self.asks = 0

    def node_for(self, key: str | bytes) -> str:
        """Where this client would send ``key`` now (its map may be stale)."""
        return self._map[key_slot(key)]

    def execute(self, *command: Any) -> Any:
        """Run a single-key command (``"SET", key, value`` / ``"GET", key`` / ...) on the right node."""
        node = self._map[key_slot(command[1])]
        asking = False
        for _ in range(MAX_REDIRECTS):
            try:
                return self.cluster.execute(node, *command, asking=asking)
            except Redirect as redirect:
                if redirect.kind == "MOVED":
                    self.moved += 1
                    self._map[redirect.slot] = redirect.node
                    asking = False
                else:
                    self.asks += 1
                    asking = True
                node = redirect.node
        raise BackendUnavailable(f"{command[0]} was redirected {MAX_REDIRECTS} times: the slot map keeps changing")

    def set(self, key: str | bytes, value: Any) -> Any:
        return self.execute("SET", key, value)

    def get(self, key: str | bytes) -> Any:
        return self.execute("GET", key)

    def reset_counts(self) -> None:
        self.moved = self.asks = 0


def open_cluster(masters: int = 3) -> SimulatedCluster | LiveCluster:
    """The cluster a lab should use: a ``LiveCluster`` when ``PATTERNS_REDIS_CLUSTER_URL`` is set
    (and this Python has sockets), else a ``SimulatedCluster`` with ``masters`` masters."""
    if infra.redis_cluster_url() and compat.sockets_available():
        return LiveCluster()
    return SimulatedCluster(masters)
