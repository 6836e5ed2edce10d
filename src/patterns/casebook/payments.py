"""Case 8: a payment system: idempotency, a double-entry ledger, reconciliation.

A payment system's load is small (hundreds of payments a second is a large shop); its difficulty
is that every timeout is ambiguous. When the call to the payment service provider (PSP) times
out, the card may or may not have been charged, and the service cannot tell which. Retrying
without an idempotency key can charge twice; not retrying can lose a payment the customer made.

``payment_retries`` plays ``orders`` checkouts through three designs of the same service:

* ``no keys``: the client retries a lost response with a new request, and the service retries a
  timed-out PSP call with a new charge;
* ``API keys``: the service deduplicates client retries by their ``Idempotency-Key``
  (``patterns.api.IdempotencyKeys``), but still calls the PSP without a key;
* ``end-to-end``: the same, and the PSP call carries the payment id as its idempotency key.

Whatever the design, every PSP charge the service learns about is posted to a double-entry
``Ledger`` (each transaction's entries sum to zero). A daily ``reconcile`` compares the ledger with
the PSP's settlement report: charges the service never heard of (a timeout that did charge) are
posted, and orders charged more than once are refunded.
"""

from __future__ import annotations

import functools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from patterns._validate import require_int, require_one_of, require_probability, require_text
from patterns.api import IdempotencyKeys, MemoryIdempotencyStore, Response
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.clock import ManualClock
from patterns.estimate import Estimate, WorkedDesign

__all__ = ["design", "DEFAULTS", "DESIGNS", "Ledger", "UnbalancedEntry", "SimulatedPSP", "PaymentResult", "checkout_trace",
           "payment_retries", "reconcile"]

DESIGNS = ("no keys", "API keys", "end-to-end")

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "peak_factor": 5,
    "entries_per_payment": 4,
    "entry_size": 200,
    "replication": 3,
    "years": 7,
    "psp_calls_per_payment": 2,
    "psp_latency": 1.0,
}


def design(payments_per_day: float = 10e6, **overrides: float) -> CaseStudy:
    """Card payments for a marketplace taking ``payments_per_day`` payments."""
    values = parameters(DEFAULTS, overrides)
    payments_per_day = require_scale(payments_per_day, "payments_per_day")
    est = Estimate("Payment system")
    est.assume("payments_per_day", payments_per_day, "payments", "requirement")
    est.assume("peak_factor", values["peak_factor"], "x", "sales events and evenings")
    est.assume("entries_per_payment", values["entries_per_payment"], "entries",
               "double entry: charge and fee, two legs each")
    est.assume("entry_size", values["entry_size"], "B", "ledger row with ids, amounts, currency, time")
    est.assume("replication", values["replication"], "copies", "synchronous replicas: money is not lost")
    est.assume("years", values["years"], "years", "retention required for financial records")
    est.assume("psp_calls_per_payment", values["psp_calls_per_payment"], "calls", "authorize, then capture")
    est.assume("psp_latency", values["psp_latency"], "s", "a PSP call, 3-D Secure aside")
    est.derive("peak_payments", "payments_per_day / 86_400 * peak_factor", "payments/s")
    est.derive("ledger_writes", "peak_payments * entries_per_payment", "entries/s", "at peak")
    est.derive("psp_in_flight", "peak_payments * psp_calls_per_payment * psp_latency", "calls",
               "Little's law: concurrent calls to the PSP")
    est.derive("ledger_storage", "payments_per_day * entries_per_payment * entry_size * replication * 365 * years",
               "B", "over the retention, all copies")
    worked = WorkedDesign(
        name="Payment system",
        functional=["charge a buyer for an order; pay sellers out later; refunds",
                    "every money movement recorded, auditable, and matched with the PSP's reports"],
        non_functional=["never charge twice, never lose a payment: correctness over latency",
                        "strong consistency for balances; every state change durable before replying",
                        "the PSP is slow and sometimes times out: an unknown outcome is normal"],
        estimate=est,
        api=["POST /v1/payments {order_id, amount, currency, method} with an Idempotency-Key -> "
             "202 {payment_id, status}", "GET /v1/payments/{id} (status: pending, succeeded, failed, unknown)",
             "webhooks from the PSP: charge.succeeded / charge.failed (verified, idempotent)"],
        data_model=["payments(payment_id, order_id UNIQUE, amount, status, psp_charge_id)",
                    "ledger_entries(txn_id, account, amount): append-only; each txn sums to zero",
                    "idempotency_keys(key, fingerprint, response) with a 24 h TTL"],
        components=["payment service (relational, one primary: the numbers are small)",
                    "PSP adapter: calls with the payment id as the PSP's idempotency key",
                    "ledger service: double-entry postings; balances are sums",
                    "reconciliation job: daily settlement file against the ledger; an outbox for events"],
        deep_dives=["idempotency end to end: client -> API -> PSP, one key per payment",
                    "a saga for checkout: authorize, reserve stock, capture; void the hold on failure",
                    "unknown outcomes: query the PSP, wait for its webhook, reconcile nightly"],
        bottlenecks=["the PSP's latency and rate limits, not our throughput",
                     "hot merchant accounts in the ledger: shard balances or batch postings"],
    )
    return CaseStudy(
        slug="payments",
        design=worked,
        diagram=diagram(
            "Payment system",
            [("buyer", "checkout", "client"), ("api", "payment API\\n(Idempotency-Key)", "service"),
             ("db", "payments +\\nidempotency keys", "store"), ("psp", "PSP\\n(card networks)", "external"),
             ("ledger", "ledger\\n(double entry)", "store"), ("recon", "reconciliation\\n(daily)", "service"),
             ("report", "PSP settlement\\nreport", "external")],
            [("buyer", "api", "POST /payments"), ("api", "db", "claim key"),
             ("api", "psp", "charge (key = payment id)"), ("psp", "api", "result / webhook"),
             ("api", "ledger", "post entries"), ("report", "recon", "daily file"),
             ("recon", "ledger", "fix mismatches")],
        ),
        uses=uses(
            (9, "idempotency keys", "a retried request never charges twice"),
            (5, "sagas", "authorize, reserve, capture; compensate by voiding the hold"),
            (2, "outbox", "payment events published exactly when the payment row commits"),
            (6, "timeouts and retries", "bounded retries with backoff on the PSP call"),
            (11, "strong consistency", "balances and payment state on one primary"),
        ),
        bottleneck="ambiguous timeouts: retries without keys charge twice, without retries payments are lost",
        rubric=rubric(
            ("requirements", "exactly-once charging, refunds, payouts and audit named as the core",
             "separates authorization and capture, and asks about currencies and the PSP's guarantees",
             "treats payments as a plain CRUD service"),
            ("idempotency", "an idempotency key on the API and a unique order id",
             "carries one key end to end, to the PSP, and explains what a timeout means",
             "retries a charge without any key"),
            ("ledger", "double-entry, append-only entries; balances are derived",
             "explains why updates in place are forbidden and how corrections are new entries",
             "a balance column updated in place"),
            ("failures", "unknown outcomes handled by querying the PSP or its webhooks",
             "nightly reconciliation against the settlement report, with refunds of duplicates",
             "assumes the PSP always answers"),
            ("consistency", "payment state and ledger in one transaction or through an outbox",
             "chooses strong consistency here and explains why throughput allows it",
             "eventual consistency for balances without compensation"),
        ),
        headline=("peak_payments", "ledger_writes", "psp_in_flight", "ledger_storage"),
    )


class UnbalancedEntry(ValueError):
    """A ledger transaction whose entries do not sum to zero."""


@dataclass
class Ledger:
    """Append-only double-entry ledger: a transaction is a list of (account, amount) summing to 0."""

    entries: list[tuple[str, str, int]] = field(default_factory=list)  # (txn, account, cents)
    _txns: set[str] = field(default_factory=set)

    def post(self, txn: str, legs: list[tuple[str, int]]) -> bool:
        """Record ``legs`` under ``txn`` once; False if ``txn`` was already posted (idempotent)."""
        require_text(txn, "txn", max_length=200)
        if sum(amount for _, amount in legs) != 0 or len(legs) < 2:
            raise UnbalancedEntry(f"transaction {txn!r} must have two or more legs summing to 0, got {legs}")
        if txn in self._txns:
            return False
        self._txns.add(txn)
        self.entries.extend((txn, account, amount) for account, amount in legs)
        return True

    def balance(self, account: str) -> int:
        return sum(amount for _, acc, amount in self.entries if acc == account)

    @property
    def balanced(self) -> bool:
        return sum(amount for _, _, amount in self.entries) == 0

    def has(self, txn: str) -> bool:
        return txn in self._txns


class SimulatedPSP:
    """A payment provider: ``charge`` may time out (the request or the response lost, 50/50).

    With an idempotency key, a repeated key returns the first charge instead of charging again.
    ``charges`` is its settlement report: (charge id, order id, amount).
    """

    def __init__(self, timeout_rate: float, rng: random.Random) -> None:
        self.timeout_rate = require_probability(timeout_rate, "timeout_rate", allow_one=False)
        self.rng = rng
        self.charges: list[tuple[str, str, int]] = []
        self._by_key: dict[str, str] = {}
        self.last = ""  # what the last call did, in words (for a recorded trace)

    def charge(self, order: str, amount: int, key: str | None) -> str | None:
        """The charge id, or None on a timeout (when the caller cannot know what happened)."""
        if self.rng.random() < self.timeout_rate and self.rng.random() < 0.5:
            self.last = "request lost: nothing charged"
            return None
        if key is not None and key in self._by_key:
            charge_id = self._by_key[key]
            self.last = f"key seen: same charge {charge_id}"
        else:
            charge_id = f"ch_{len(self.charges) + 1}"
            self.charges.append((charge_id, order, amount))
            if key is not None:
                self._by_key[key] = charge_id
            self.last = f"charged {charge_id}"
        if self.rng.random() < self.timeout_rate:
            self.last += ", reply lost"
            return None
        return charge_id


@dataclass(frozen=True)
class PaymentResult:
    """One design on one run. Amounts in cents."""

    design: str
    orders: int
    client_requests: int
    psp_charges: int
    charged_twice: int  # orders charged more than once
    overcharged: int  # cents charged beyond each order's amount
    told_failed_but_charged: int  # the client was told "failed/unknown", the card was charged
    mismatches: int  # found by reconciliation: charges missing from the ledger + duplicates
    ledger_balanced: bool
    after_reconcile_overcharged: int


def reconcile(ledger: Ledger, psp: SimulatedPSP) -> int:
    """Match the ledger with the PSP's report: post charges the ledger lacks, refund every charge of
    an order beyond its first. Returns the number of mismatches fixed."""
    fixed = 0
    seen: Counter[str] = Counter()
    for charge_id, order, amount in psp.charges:
        seen[order] += 1
        if not ledger.has(charge_id):
            ledger.post(charge_id, [("psp_clearing", amount), (f"buyer:{order}", -amount)])
            fixed += 1
        if seen[order] > 1:  # a duplicate charge: give the money back
            ledger.post(f"refund:{charge_id}", [("psp_clearing", -amount), (f"buyer:{order}", amount)])
            fixed += 1
    return fixed


def payment_retries(
    design_name: str,
    *,
    orders: int = 1_000,
    psp_timeout: float = 0.1,
    client_timeout: float = 0.1,
    client_attempts: int = 3,
    psp_attempts: int = 2,
    seed: int = 5,
    trace: list[tuple[str, str, str, bool]] | None = None,
) -> PaymentResult:
    """Play ``orders`` checkouts through ``design_name`` (one of ``DESIGNS``); see the module docstring.

    A client request's response is lost with probability ``client_timeout`` (the client retries,
    up to ``client_attempts``); each PSP call times out with probability ``psp_timeout`` (the
    service retries, up to ``psp_attempts``).

    ``trace``, a list, receives every message of the run as ``(sender, receiver, label, reply)``
    among "client", "payment API", "PSP" and "ledger" (sender == receiver: an action, not a
    message): the material of a sequence chart.
    """
    name = require_one_of(design_name, "design_name", DESIGNS)
    n = require_int(orders, "orders", minimum=1, maximum=1_000_000)
    p_client = require_probability(client_timeout, "client_timeout", allow_one=False)
    tries = require_int(client_attempts, "client_attempts", minimum=1, maximum=20)
    psp_tries = require_int(psp_attempts, "psp_attempts", minimum=1, maximum=20)
    rng = random.Random(require_int(seed, "seed", maximum=2**63 - 1))
    psp = SimulatedPSP(psp_timeout, rng)
    ledger = Ledger()
    keys = IdempotencyKeys(MemoryIdempotencyStore(ManualClock()))
    amounts: dict[str, int] = {}
    requests = 0
    told: dict[str, int] = {}  # the last status the client saw per order
    payment_seq = 0

    def record(sender: str, receiver: str, label: str, reply: bool = False) -> None:
        if trace is not None:
            trace.append((sender, receiver, label, reply))

    def handle(order: str, amount: int) -> Response:
        nonlocal payment_seq
        payment_seq += 1
        payment_id = f"pay_{payment_seq}"
        for _ in range(psp_tries):
            key = payment_id if name == "end-to-end" else None
            record("payment API", "PSP", f"charge {order}" + (f" (key {key})" if key else ""))
            charge_id = psp.charge(order, amount, key)
            record("PSP", "PSP", psp.last)
            if charge_id is not None:
                record("PSP", "payment API", charge_id, True)
                ledger.post(charge_id, [("psp_clearing", amount), (f"buyer:{order}", -amount)])
                record("payment API", "ledger", f"post {charge_id}")
                return Response(201, body={"payment_id": payment_id, "status": "succeeded"})
            record("payment API", "payment API", "timeout")
        return Response(504, body={"payment_id": payment_id, "status": "unknown"})

    for i in range(n):
        order = f"order_{i}"
        amount = 1_000 + rng.randrange(9_000)
        amounts[order] = amount
        for _ in range(tries):
            requests += 1
            record("client", "payment API", f"POST {order}" + ("" if name == "no keys" else " (key)"))
            if name == "no keys":
                response = handle(order, amount)
            else:
                response, replayed = keys.execute_once(f"checkout-{order}", f"{order}:{amount}",
                                                       functools.partial(handle, order, amount))
                if replayed:
                    record("payment API", "payment API", "key seen: replay stored response")
            if rng.random() < p_client:
                told[order] = 0  # the response was lost: the client knows nothing and retries
                record("client", "client", f"{response.status} lost: retry")
                continue
            told[order] = response.status
            record("payment API", "client", str(response.status), True)
            break
    per_order = Counter(order for _, order, _ in psp.charges)
    charged_total: defaultdict[str, int] = defaultdict(int)
    for _, order, amount in psp.charges:
        charged_total[order] += amount
    overcharged = sum(total - amounts[o] for o, total in charged_total.items())
    failed_but_charged = sum(1 for o in per_order if told.get(o) != 201)
    balanced = ledger.balanced
    fixed = reconcile(ledger, psp)
    after = sum(-ledger.balance(f"buyer:{o}") - amounts[o] for o in per_order)
    return PaymentResult(name, n, requests, len(psp.charges), sum(1 for c in per_order.values() if c > 1),
                         overcharged, failed_but_charged, fixed, balanced and ledger.balanced, after)


def checkout_trace(design_name: str, order: int, **params: object) -> list[tuple[str, str, str, bool]]:
    """The messages of checkout number ``order`` in a ``payment_retries`` run (same ``params``):
    ``(sender, receiver, label, reply)`` from the client's first POST to the last reply."""
    wanted = f"order_{require_int(order, 'order', minimum=0, maximum=1_000_000)}"
    events: list[tuple[str, str, str, bool]] = []
    payment_retries(design_name, trace=events, **params)  # type: ignore[arg-type]
    current, story = "", []
    for event in events:
        sender, receiver, label, _ = event
        if sender == "client" and receiver == "payment API":
            current = label.split()[1]
        if current == wanted:
            story.append(event)
    if not story:
        raise ValueError(f"order must be below the run's number of orders, got {order}")
    return story
