"""Shared servers for a workshop room: one Redis with an ACL user per learner, one Kafka-protocol broker.

    python scripts/workshop_servers.py start --learners 30 [--bind ADDR] [--host ADDR] \\
        [--redis-port 6380] [--kafka-port 9092] [--dir workshop] [--names FILE] [--no-kafka]
    python scripts/workshop_servers.py stop [--dir workshop]

(``make workshop-servers N=30 BIND=0.0.0.0 HOST=10.0.0.5`` and ``make workshop-stop``.)

``start`` writes into ``--dir`` (git-ignored ``workshop/``):

* ``users.acl``: Redis users. ``default`` is off (nobody gets in without a password); ``admin`` (the
  instructor, every right; its URL is in ``admin.env``) and one user per learner, named after the
  learner's namespace, with its own random password, who may touch only keys ``<namespace>:*`` and
  channels ``<namespace>:*`` and may not run the commands that reach beyond them (``-@dangerous``:
  FLUSHALL, FLUSHDB, KEYS, CONFIG, SHUTDOWN, DEBUG, MONITOR, INFO, CLIENT KILL, ACL ...; plus SCRIPT
  KILL/FLUSH/DEBUG, FUNCTION, FCALL and RANDOMKEY). EVAL/EVALSHA stay allowed: Redis 7 checks every
  key a script touches against the same rules, so a script reaches only its caller's namespace.
* ``redis.conf``: the server (``bind`` the chosen address, no persistence, ``maxmemory`` with
  ``noeviction``: a learner who fills memory gets errors instead of evicting other learners' keys).
* ``roster.csv``: learner, namespace, PATTERNS_REDIS_URL, PATTERNS_KAFKA_BOOTSTRAP, PATTERNS_NAMESPACE.
  It holds passwords: it is written with mode 600; do not project it.
* ``cards/<namespace>.txt`` (one per learner) and ``cards.html`` (all of them, printable): what a
  learner types before ``make lab`` on macOS/Linux and on Windows.
* ``redis.pid``, ``redis.log``, and the broker's pid file and log.

Running ``start`` again reuses the roster (the same passwords, so handed-out cards stay valid) and adds
learners if ``--learners`` grew; ``--new-roster`` makes new passwords. ``stop`` stops both servers by
their recorded pids. Nothing this script prints contains a password.
"""

from __future__ import annotations

import argparse
import csv
import html
import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
from patterns.keys import validate_namespace  # noqa: E402

ROSTER_FIELDS = [
    "learner",
    "namespace",
    "PATTERNS_REDIS_URL",
    "PATTERNS_KAFKA_BOOTSTRAP",
    "PATTERNS_NAMESPACE",
]
#: Commands a learner may not run on the shared Redis, beyond the ``@dangerous`` category (which
#: already holds FLUSHALL, FLUSHDB, KEYS, CONFIG, SHUTDOWN, DEBUG, MONITOR, INFO, CLIENT, ACL, ...).
#: They are listed again so the rule reads as what it means.
DENIED = [
    "flushall", "flushdb", "keys", "config", "shutdown", "debug", "monitor", "acl|setuser",
    "script|kill", "script|flush", "script|debug", "function", "fcall", "fcall_ro", "randomkey",
    "swapdb", "move", "migrate", "bgsave", "save", "replicaof", "failover", "client|kill",
]
START_TIMEOUT = 10.0


@dataclass(frozen=True)
class Learner:
    learner: str
    namespace: str
    password: str


def learner_rule(entry: Learner) -> str:
    """The ``users.acl`` line of one learner."""
    ns = validate_namespace(entry.namespace)
    denied = " ".join(f"-{command}" for command in DENIED)
    return f"user {ns} on #{_sha256(entry.password)} resetkeys resetchannels ~{ns}:* &{ns}:* +@all -@dangerous {denied}"


def _sha256(password: str) -> str:
    """ACL files may hold a password's SHA-256 (``#<hex>``) instead of the password itself."""
    import hashlib

    return hashlib.sha256(password.encode()).hexdigest()


def acl_file(learners: list[Learner], admin_password: str) -> str:
    lines = [
        "user default off resetkeys resetchannels -@all",
        f"user admin on #{_sha256(admin_password)} ~* &* +@all",
    ]
    return "\n".join(lines + [learner_rule(e) for e in learners]) + "\n"


def redis_url(user: str, password: str, host: str, port: int) -> str:
    return f"redis://{user}:{password}@{_url_host(host)}:{port}/0"


def _url_host(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def _namespace_for(index: int, width: int) -> str:
    return f"ws{index:0{width}d}"


def make_learners(count: int, names: list[str], existing: list[Learner]) -> list[Learner]:
    """``existing`` plus new learners up to ``count`` (never fewer than ``existing``)."""
    learners = list(existing)
    width = max(2, len(str(count)))
    taken = {e.namespace for e in learners}
    index = 0
    while len(learners) < count:
        index += 1
        ns = _namespace_for(index, width)
        if ns in taken:
            continue
        position = len(learners)
        name = names[position] if position < len(names) else f"learner {index:0{width}d}"
        learners.append(Learner(name, ns, secrets.token_urlsafe(18)))
        taken.add(ns)
    return learners


def read_roster(path: Path) -> list[Learner]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        from urllib.parse import urlparse

        password = urlparse(row["PATTERNS_REDIS_URL"]).password or ""
        out.append(Learner(row["learner"], row["namespace"], password))
    return out


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as f:
        f.write(text)
    os.chmod(path, 0o600)


def write_roster(path: Path, learners: list[Learner], host: str, redis_port: int, bootstrap: str) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ROSTER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for e in learners:
        writer.writerow(
            {
                "learner": e.learner,
                "namespace": e.namespace,
                "PATTERNS_REDIS_URL": redis_url(e.namespace, e.password, host, redis_port),
                "PATTERNS_KAFKA_BOOTSTRAP": bootstrap,
                "PATTERNS_NAMESPACE": e.namespace,
            }
        )
    _write_private(path, buffer.getvalue())


def card_text(row: dict[str, str]) -> str:
    url, bootstrap, ns = row["PATTERNS_REDIS_URL"], row["PATTERNS_KAFKA_BOOTSTRAP"], row["PATTERNS_NAMESPACE"]
    kafka_sh = f"export PATTERNS_KAFKA_BOOTSTRAP='{bootstrap}'\n" if bootstrap else ""
    kafka_ps = f"$env:PATTERNS_KAFKA_BOOTSTRAP = '{bootstrap}'\n" if bootstrap else ""
    return (
        f"System Design & Architecture workshop: {row['learner']}\n"
        f"Your namespace: {ns}   (every key and topic you create starts with it)\n\n"
        "macOS / Linux: in a terminal, in the book's folder:\n"
        f"export PATTERNS_REDIS_URL='{url}'\n{kafka_sh}export PATTERNS_NAMESPACE='{ns}'\nmake lab\n\n"
        "Windows (PowerShell), in the book's folder:\n"
        f"$env:PATTERNS_REDIS_URL = '{url}'\n{kafka_ps}$env:PATTERNS_NAMESPACE = '{ns}'\n"
        ".venv\\Scripts\\python scripts\\workspace.py\n"
        ".venv\\Scripts\\jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/workspace\n\n"
        f"A lab's setup prints 'Servers: Redis ...; your namespace: {ns}' when this worked.\n"
        "Keep the password to yourself: it is the only thing between your keys and the room.\n"
    )


def write_cards(directory: Path, roster: Path) -> list[Path]:
    with roster.open(newline="") as f:
        rows = list(csv.DictReader(f))
    cards = []
    for row in rows:
        path = directory / "cards" / f"{row['namespace']}.txt"
        _write_private(path, card_text(row))
        cards.append(path)
    blocks = "\n".join(f'<pre class="card">{html.escape(card_text(row))}</pre>' for row in rows)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Workshop cards</title><style>"
        "body{font-family:sans-serif} .card{border:1px dashed #888;padding:1em;margin:0 0 1em;"
        "white-space:pre-wrap;font-size:10pt;page-break-inside:avoid}</style></head><body>"
        f"{blocks}</body></html>\n"
    )
    _write_private(directory / "cards.html", page)
    return cards


def redis_conf(directory: Path, bind: str, port: int, maxmemory: str) -> str:
    return "\n".join(
        [
            f"bind {bind}",
            f"port {port}",
            "protected-mode no",  # every user needs a password: the default user is off
            f"aclfile {directory / 'users.acl'}",
            'save ""',
            "appendonly no",
            f"dir {directory}",
            f"logfile {directory / 'redis.log'}",
            f"maxmemory {maxmemory}",
            "maxmemory-policy noeviction",
            "daemonize yes",
            f"pidfile {directory / 'redis.pid'}",
            "",
        ]
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _port_open(host: str, port: int) -> bool:
    probe = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    try:
        with socket.create_connection((probe, port), timeout=0.5):
            return True
    except OSError:
        return False


def _scrub(text: str, secrets_: list[str]) -> str:
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text


def start(args: argparse.Namespace) -> int:
    directory = Path(args.dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    pid = _read_pid(directory / "redis.pid")
    if pid and _alive(pid):
        print(f"a workshop Redis is already running (pid {pid}); stop it first: {sys.argv[0]} stop --dir {args.dir}")
        return 1
    bind = args.bind
    host = args.host or bind
    if host in ("0.0.0.0", "::"):
        print(f"--bind {bind} listens on every interface: give --host, the address learners connect to")
        return 2
    if _port_open(bind, args.redis_port):
        print(f"port {args.redis_port} on {bind} is already in use: choose another --redis-port")
        return 1
    names = [n.strip() for n in Path(args.names).read_text().splitlines() if n.strip()] if args.names else []
    roster = directory / "roster.csv"
    existing = [] if args.new_roster else read_roster(roster)
    learners = make_learners(max(args.learners, len(names)), names, existing)
    admin_env = directory / "admin.env"
    admin_password = ""
    if admin_env.exists() and not args.new_roster:
        from urllib.parse import urlparse

        line = admin_env.read_text().strip().split("=", 1)[-1]
        admin_password = urlparse(line).password or ""
    admin_password = admin_password or secrets.token_urlsafe(18)
    passwords = [admin_password] + [e.password for e in learners]

    _write_private(directory / "users.acl", acl_file(learners, admin_password))
    (directory / "redis.conf").write_text(redis_conf(directory, bind, args.redis_port, args.maxmemory))
    log = directory / "redis.log"
    log.unlink(missing_ok=True)
    pid_file = directory / "redis.pid"
    pid_file.unlink(missing_ok=True)
    # Redis daemonizes itself and writes its pid file: nothing here waits on it, `stop` kills that pid
    started = subprocess.run(
        [args.redis_server, str(directory / "redis.conf")], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    admin_url = redis_url("admin", admin_password, "127.0.0.1" if bind in ("0.0.0.0", "::") else host, args.redis_port)
    deadline = time.monotonic() + START_TIMEOUT
    while not _redis_ready(admin_url):
        if started.returncode != 0 or time.monotonic() > deadline:
            _stop_redis(directory)
            detail = "\n".join(part for part in (started.stdout, started.stderr) if part)
            detail += log.read_text() if log.exists() else ""
            print(f"Redis did not start on {bind}:{args.redis_port}; its output:\n{_scrub(detail, passwords)}")
            return 1
        time.sleep(0.1)
    pid = _read_pid(pid_file)
    _write_private(admin_env, f"PATTERNS_REDIS_URL={admin_url}\n")

    bootstrap = ""
    if not args.no_kafka:
        env = {**os.environ, "TMPDIR": str(directory)}
        broker = subprocess.run(
            [str(ROOT / "scripts" / "kafka_broker.sh"), "start", str(args.kafka_port), bind, host],
            env=env, capture_output=True, text=True,
        )
        if broker.returncode != 0:
            print(f"the Kafka-protocol broker did not start:\n{broker.stderr.strip()}")
            _stop_redis(directory)
            return 1
        (directory / "kafka.pidfile").write_text(broker.stdout.strip() + "\n")
        bootstrap = f"{_url_host(host)}:{args.kafka_port}"

    write_roster(roster, learners, host, args.redis_port, bootstrap)
    cards = write_cards(directory, roster)
    print(f"Redis: {bind}:{args.redis_port} (pid {pid}), {len(learners)} learner users + admin")
    if bootstrap:
        print(f"Kafka-protocol broker: {bind}:{args.kafka_port}, learners connect to {bootstrap}")
    print(f"roster: {roster} (holds passwords: keep it off the projector)")
    print(f"cards: {len(cards)} in {directory / 'cards'}/, printable: {directory / 'cards.html'}")
    print(f"instructor: source {admin_env} for an admin URL; stop with: {sys.argv[0]} stop --dir {args.dir}")
    return 0


def _redis_ready(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def _stop_redis(directory: Path) -> str:
    pid_file = directory / "redis.pid"
    pid = _read_pid(pid_file)
    if pid is None:
        return "Redis: no pid file"
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return f"Redis: stopped (pid {pid})"


def stop(args: argparse.Namespace) -> int:
    directory = Path(args.dir).resolve()
    print(_stop_redis(directory))
    pointer = directory / "kafka.pidfile"
    if pointer.exists():
        pidfile = pointer.read_text().strip()
        subprocess.run([str(ROOT / "scripts" / "kafka_broker.sh"), "stop", pidfile], check=False)
        pointer.unlink()
        print("Kafka-protocol broker: stopped")
    print(f"the roster and cards stay in {directory}: a new start reuses them")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="start Redis (ACL user per learner) and the broker; write the roster and cards")
    s.add_argument("--learners", "-n", type=int, default=30, help="number of learners (default 30)")
    s.add_argument("--names", help="a file with one learner name per line (else 'learner 01', ...)")
    s.add_argument("--bind", default="127.0.0.1", help="address both servers listen on (0.0.0.0: every interface)")
    s.add_argument("--host", help="address learners connect to (default: --bind)")
    s.add_argument("--redis-port", type=int, default=6380)
    s.add_argument("--kafka-port", type=int, default=9092)
    s.add_argument("--no-kafka", action="store_true", help="Redis only")
    s.add_argument("--maxmemory", default="1gb", help="Redis memory cap for the whole room (default 1gb)")
    s.add_argument("--dir", default=str(ROOT / "workshop"))
    s.add_argument("--new-roster", action="store_true", help="new passwords (cards already handed out stop working)")
    s.add_argument("--redis-server", default="redis-server")
    t = sub.add_parser("stop", help="stop the servers started by 'start' (by pid)")
    t.add_argument("--dir", default=str(ROOT / "workshop"))
    args = parser.parse_args(argv)
    if args.command == "start":
        if not 1 <= args.learners <= 500:
            parser.error(f"--learners must be 1-500, got {args.learners}")
        return start(args)
    return stop(args)


if __name__ == "__main__":
    sys.exit(main())
