"""CQRS: a normalized write model for commands, denormalized read models for queries.

* ``commands`` - ``CreateOrder``, ``AddItem``, ... validated at construction; ``DomainError``s.
* ``write_model.WriteModel`` - handles a command in one SQLite transaction that also queues its
  events in the outbox (``patterns.messaging.Outbox``); ``relay(broker)`` publishes them.
* ``projections`` - ``OrderSummaries``, ``CustomerStats``: events -> rows, store-agnostic.
* ``stores`` - ``SQLiteReadStore``, ``RedisReadStore``: rows + checkpoint in one transaction.
* ``projector.Projector`` - applies events in order, skips redeliveries, records lag;
  ``rebuild`` replays history into a fresh store.
* ``queries.OrderQueries`` - the read side; ``consistency.ReadYourWrites`` - fresh reads for the
  user who just wrote.
* ``simulation.simulate_lag`` - commands vs projector throughput on a ``ManualClock``.

Quick tour::

    from patterns.clock import ManualClock
    from patterns.cqrs import *
    from patterns.messaging import InMemoryBroker

    clock = ManualClock()
    write, broker = WriteModel(clock=clock), InMemoryBroker(clock=clock)
    relay = write.relay(broker)
    projector = Projector(SQLiteReadStore(), clock=clock)
    consumer = broker.subscribe(write.topic, group="order-summaries")
    write.handle(RegisterCustomer("c1", "Ada"))
    write.handle(CreateOrder("o1", "c1"))
    relay.run_until_empty(); projector.run_until_idle(consumer)
    OrderQueries(projector.store).orders_for_customer("c1")
"""

from patterns.cqrs.commands import (
    AddItem,
    CancelOrder,
    Command,
    ConfirmOrder,
    CreateOrder,
    DomainError,
    DuplicateId,
    InvalidTransition,
    RegisterCustomer,
    RenameCustomer,
    UnknownCustomer,
    UnknownOrder,
)
from patterns.cqrs.consistency import ConsistentRead, ReadYourWrites
from patterns.cqrs.projections import (
    CUSTOMER_STATS,
    ORDER_SUMMARIES,
    CustomerStats,
    OrderSummaries,
    Projection,
    RowTx,
    Table,
)
from patterns.cqrs.projector import LagSample, ProjectionGap, Projector, as_event, events_from_broker, rebuild
from patterns.cqrs.queries import OrderQueries, OrderSummary
from patterns.cqrs.simulation import LagTrace, simulate_lag
from patterns.cqrs.stores import Checkpoint, ReadStore, RedisReadStore, SQLiteReadStore, StoreTx
from patterns.cqrs.write_model import EVENTS_TOPIC, CommandResult, WriteModel

__all__ = [
    "Command", "RegisterCustomer", "RenameCustomer", "CreateOrder", "AddItem", "ConfirmOrder",
    "CancelOrder", "DomainError", "UnknownOrder", "UnknownCustomer", "DuplicateId", "InvalidTransition",
    "WriteModel", "CommandResult", "EVENTS_TOPIC",
    "Table", "RowTx", "Projection", "OrderSummaries", "CustomerStats", "ORDER_SUMMARIES", "CUSTOMER_STATS",
    "Checkpoint", "StoreTx", "ReadStore", "SQLiteReadStore", "RedisReadStore",
    "Projector", "ProjectionGap", "LagSample", "rebuild", "events_from_broker", "as_event",
    "OrderQueries", "OrderSummary", "ReadYourWrites", "ConsistentRead",
    "simulate_lag", "LagTrace",
]
