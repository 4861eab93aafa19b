"""skiff_messaging: NATS connection, streams, transactional outbox + relay, inbox consumer, RPC."""

from skiff_messaging.bare import BareHandler
from skiff_messaging.connection import connect
from skiff_messaging.consumer import EventConsumer, Handler
from skiff_messaging.errors import (
    EventTooLarge,
    MessagingError,
    NoResponders,
    PermanentError,
    PublishFailed,
    RemoteError,
    ReplyError,
    RequestFailed,
    RequestTimeout,
    RequestTooLarge,
)
from skiff_messaging.inbox import forget_handled
from skiff_messaging.limits import MessageTooLarge
from skiff_messaging.outbox import Outbox
from skiff_messaging.relay import OutboxRelay
from skiff_messaging.rpc import request, serve
from skiff_messaging.streams import STREAMS, durable_name, ensure_consumer, ensure_streams
from skiff_messaging.tables import (
    MessagingTables,
    create_messaging_tables,
    drop_messaging_tables,
    messaging_tables,
)

__all__ = [
    "STREAMS",
    "BareHandler",
    "EventConsumer",
    "EventTooLarge",
    "Handler",
    "MessageTooLarge",
    "MessagingError",
    "MessagingTables",
    "NoResponders",
    "Outbox",
    "OutboxRelay",
    "PermanentError",
    "PublishFailed",
    "RemoteError",
    "ReplyError",
    "RequestFailed",
    "RequestTimeout",
    "RequestTooLarge",
    "connect",
    "create_messaging_tables",
    "drop_messaging_tables",
    "durable_name",
    "ensure_consumer",
    "ensure_streams",
    "forget_handled",
    "messaging_tables",
    "request",
    "serve",
]
